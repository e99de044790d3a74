// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
/**
 * lgrin.js - the L-GrIN C runtime and live stream in WebAssembly, as an ES module without dependencies.
 *
 *   const runtime = await loadRuntime();              // fetches lgrin_simd128.wasm or lgrin_portable.wasm
 *   const model = runtime.loadModel(await (await fetch('model_int8.lgrn')).arrayBuffer());
 *   const logits = model.run(x, 1);                   // x: Float32Array of M x P
 *   const stream = model.openStream({inputRate: 48000});
 *   for (const d of stream.pushAudio(pcm)) console.log(d.time, d.label, d.probability);
 *
 * The logits equal the native C runtime's bit for bit: the same C sources, compiled without fused
 * multiply-add. The module imports nothing; memory it holds for a model or stream is returned by free().
 * Errors are LGrinError: message the C runtime's text for its status, code the status, field the feature
 * spec field at fault (stream configuration) or null.
 */

const BUILDS = ['simd128', 'portable'];
const KINDS = ['audio', 'motion', 'frames']; // enum lgrin_stream_kind
const MODES = ['sliding', 'utterance']; // enum lgrin_stream_mode
const E_ARG = -1; // LGRIN_E_ARG and LGRIN_STREAM_E_ARG: the caller's argument is wrong
const E_MEMORY = -100; // LGW_E_MEMORY of lgrin_web.c: the module's memory cannot grow
// The smallest module that uses a SIMD128 instruction (i32.const 0; i8x16.splat; drop): an engine without
// WebAssembly SIMD refuses it.
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01,
  0x00, 0x0a, 0x09, 0x01, 0x07, 0x00, 0x41, 0x00, 0xfd, 0x0f, 0x1a, 0x0b,
]);

/** An error of the runtime or the stream: the C status `code` and, where there is one, the spec `field`. */
export class LGrinError extends Error {
  /**
   * @param {string} message the C runtime's text for the status (lgrin_strerror, lgrin_stream_strerror)
   * @param {number} code the status (negative)
   * @param {string|null} [field] the feature spec field at fault
   */
  constructor(message, code, field = null) {
    super(message);
    this.name = 'LGrinError';
    this.code = code;
    this.field = field;
  }
}

/**
 * Numerically stable softmax of one logits vector.
 * @param {Float32Array} logits
 * @returns {Float32Array} the probabilities
 */
export function softmax(logits) {
  let max = -Infinity;
  for (const v of logits) max = v > max ? v : max;
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < logits.length; i++) out[i] /= sum;
  return out;
}

/**
 * Whether this engine runs WebAssembly SIMD128 (the simd128 build).
 * @returns {boolean}
 */
export function simd128Supported() {
  return WebAssembly.validate(SIMD_PROBE);
}

function argError(message) {
  return new LGrinError(message, E_ARG, null);
}

/**
 * Load the runtime: compile and instantiate one build of the WebAssembly module.
 * @param {object} [options]
 * @param {'auto'|'simd128'|'portable'} [options.build] 'auto': simd128 where the engine runs it
 * @param {string|URL} [options.base] where lgrin_<build>.wasm is fetched from (default: beside this file)
 * @param {ArrayBuffer|Uint8Array} [options.wasm] the module's bytes, instead of fetching them (node,
 *   bundlers); its build is read from the module itself
 * @returns {Promise<Runtime>}
 */
export async function loadRuntime({ build = 'auto', base = import.meta.url, wasm = undefined } = {}) {
  if (build !== 'auto' && !BUILDS.includes(build)) {
    throw argError(`build must be 'auto', 'simd128' or 'portable', got ${JSON.stringify(build)}`);
  }
  let bytes = wasm;
  if (bytes === undefined) {
    const chosen = build === 'auto' ? (simd128Supported() ? 'simd128' : 'portable') : build;
    const url = new URL(`lgrin_${chosen}.wasm`, base);
    const response = await fetch(url);
    if (!response.ok) throw argError(`cannot fetch ${url}: HTTP ${response.status}`);
    bytes = await response.arrayBuffer();
  }
  let instance;
  try {
    ({ instance } = await WebAssembly.instantiate(bytes, {}));
  } catch (err) {
    const hint = simd128Supported() ? '' : ' (this engine lacks WebAssembly SIMD: use the portable build)';
    throw argError(`cannot instantiate the L-GrIN WebAssembly module: ${err.message}${hint}`);
  }
  const runtime = new Runtime(instance.exports, bytes.byteLength);
  if (build !== 'auto' && runtime.build !== build) {
    throw argError(`the module given is the ${runtime.build} build, not ${build}`);
  }
  return runtime;
}

/** Typed views of the module's memory, made again whenever the memory has grown (its buffer changed). */
class Memory {
  constructor(memory) {
    this.memory = memory;
    this.buffer = null;
  }

  get views() {
    if (this.buffer !== this.memory.buffer) {
      const b = (this.buffer = this.memory.buffer);
      this.cached = {
        u8: new Uint8Array(b), i16: new Int16Array(b), u32: new Uint32Array(b),
        f32: new Float32Array(b), f64: new Float64Array(b), data: new DataView(b),
      };
    }
    return this.cached;
  }

  /** The NUL-terminated UTF-8 string at ptr, or null for a null pointer. */
  string(ptr) {
    if (!ptr) return null;
    const u8 = this.views.u8;
    let end = ptr >>> 0;
    while (u8[end] !== 0) end++;
    return new TextDecoder().decode(u8.subarray(ptr >>> 0, end));
  }
}

/** A block of module memory that grows on demand (the inputs and outputs of one model or stream). */
class Scratch {
  constructor(runtime) {
    this.runtime = runtime;
    this.ptr = 0;
    this.size = 0;
  }

  /** A pointer to at least `bytes` bytes, 8-byte aligned. */
  get(bytes) {
    if (bytes > this.size) {
      this.release();
      this.ptr = this.runtime.alloc(bytes);
      this.size = bytes;
    }
    return this.ptr;
  }

  release() {
    if (this.ptr) this.runtime.ex.lgw_free(this.ptr);
    this.ptr = 0;
    this.size = 0;
  }
}

const align8 = (n) => Math.ceil(n / 8) * 8;

/**
 * One instantiated module.
 * @property {'simd128'|'portable'} build
 * @property {string} family the kernel family lgrin_load chooses (the best this build holds)
 * @property {string[]} families every kernel family this build holds, best first
 * @property {number} wasmBytes the size of the module's .wasm
 */
class Runtime {
  constructor(exports, wasmBytes) {
    this.ex = exports;
    this.mem = new Memory(exports.memory);
    this.build = exports.lgw_simd128() ? 'simd128' : 'portable';
    this.families = this.mem.string(exports.lgw_kernel_families()).split(' ');
    this.family = this.families[0];
    this.wasmBytes = wasmBytes;
    const at = exports.lgw_decision_layout() >>> 2;
    this.decision = Array.from(this.mem.views.u32.subarray(at, at + 6)); // size, then field offsets
  }

  /** `bytes` bytes of module memory (8-byte aligned, lgw_free returns them). */
  alloc(bytes) {
    const ptr = this.ex.lgw_alloc(bytes) >>> 0;
    if (!ptr) throw new LGrinError(this.mem.string(this.ex.lgw_strerror(E_MEMORY)), E_MEMORY, null);
    return ptr;
  }

  /**
   * Load a model file (model_int8.lgrn); its bytes are copied into the module.
   * @param {ArrayBuffer|Uint8Array} bytes
   * @returns {Model}
   */
  loadModel(bytes) {
    if (!(bytes instanceof Uint8Array || bytes instanceof ArrayBuffer)) {
      throw argError('a model file must be given as an ArrayBuffer or a Uint8Array');
    }
    const src = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    const ptr = this.alloc(src.length);
    this.mem.views.u8.set(src, ptr);
    const handle = this.ex.lgw_model_open(ptr, src.length) >>> 0; // owns ptr from here on
    if (!handle) {
      const code = this.ex.lgw_status();
      throw new LGrinError(this.mem.string(this.ex.lgw_strerror(code)), code, null);
    }
    return new Model(this, handle);
  }

  /** The decisions a push or flush wrote (count of them) at the stream's decision buffer. */
  readDecisions(handle, count) {
    const [size, time, label, smoothed, probability, smoothedProbability] = this.decision;
    const base = this.ex.lgw_stream_decisions(handle) >>> 0;
    const data = this.mem.views.data;
    const out = [];
    for (let i = 0, at = base; i < count; i++, at += size) {
      out.push({
        time: data.getFloat64(at + time, true),
        label: data.getUint32(at + label, true),
        probability: data.getFloat32(at + probability, true),
        smoothed: data.getUint32(at + smoothed, true),
        smoothedProbability: data.getFloat32(at + smoothedProbability, true),
      });
    }
    return out;
  }
}

/**
 * A loaded model.
 * @property {number} numNodes M
 * @property {number} numFeatures P
 * @property {number} numClasses C
 * @property {'int8'|'fp32'} precision
 * @property {string|null} specText the feature spec's JSON the file carries
 * @property {object|null} spec that spec, parsed
 */
class Model {
  constructor(runtime, handle) {
    const ex = runtime.ex;
    this.runtime = runtime;
    this.handle = handle;
    this.numNodes = ex.lgw_num_nodes(handle) >>> 0;
    this.numFeatures = ex.lgw_num_features(handle) >>> 0;
    this.numClasses = ex.lgw_num_classes(handle) >>> 0;
    this.precision = ex.lgw_precision(handle) === 1 ? 'int8' : 'fp32';
    this.specText = runtime.mem.string(ex.lgw_spec(handle));
    this.spec = null;
    try {
      this.spec = this.specText === null ? null : JSON.parse(this.specText);
    } catch {
      this.spec = null; // the runtime carries the text as it is; the stream reports what it cannot read
    }
    this.scratch = new Scratch(runtime);
    this.streams = new Set();
  }

  live() {
    if (!this.handle) throw argError('the model was freed');
    return this.handle;
  }

  /** @returns {string} the kernel family the model runs with */
  get kernels() {
    return this.runtime.mem.string(this.runtime.ex.lgw_kernel_name(this.live()));
  }

  /** @returns {string[]} the kernel families this build holds, best first */
  kernelFamilies() {
    return this.runtime.families.slice();
  }

  /**
   * Run the model with another kernel family this build holds (comparisons).
   * @param {string} name
   */
  useKernels(name) {
    const { ex, mem } = this.runtime;
    const text = new TextEncoder().encode(`${name}\0`);
    const ptr = this.scratch.get(text.length);
    mem.views.u8.set(text, ptr);
    const code = ex.lgw_use_kernels(this.live(), ptr);
    if (code !== 0) throw new LGrinError(mem.string(ex.lgw_strerror(code)), code, null);
  }

  /**
   * Inference on a batch.
   * @param {Float32Array} x batch x M x P floats, row-major
   * @param {number} [batch]
   * @returns {Float32Array} batch x C logits
   */
  run(x, batch = 1) {
    const { ex, mem } = this.runtime;
    const per = this.numNodes * this.numFeatures;
    if (!(x instanceof Float32Array)) throw argError('x must be a Float32Array');
    if (!Number.isInteger(batch) || batch < 1 || x.length !== batch * per) {
      throw argError(`x must hold batch x ${this.numNodes} x ${this.numFeatures} floats: got ${x.length} ` +
        `for batch ${batch}`);
    }
    const xBytes = align8(4 * x.length);
    const ptr = this.scratch.get(xBytes + 4 * batch * this.numClasses);
    mem.views.f32.set(x, ptr >>> 2);
    const code = ex.lgw_run(this.live(), ptr, batch, ptr + xBytes);
    if (code !== 0) throw new LGrinError(mem.string(ex.lgw_strerror(code)), code, null);
    const at = (ptr + xBytes) >>> 2;
    return mem.views.f32.slice(at, at + batch * this.numClasses);
  }

  /**
   * A live stream as the model's feature spec defines it (lgrin_stream_config_from_model), with the
   * caller's window, hop and smoothing where given.
   * @param {object} [options]
   * @param {number} [options.inputRate] audio: the PCM's sample rate in Hz (default: the spec's)
   * @param {number} [options.windowS] seconds per decision
   * @param {number} [options.hopS] seconds between decisions
   * @param {number} [options.smoothing] decisions averaged
   * @returns {Stream}
   */
  openStream({ inputRate = 0, windowS = 0, hopS = 0, smoothing = 0 } = {}) {
    const { ex, mem } = this.runtime;
    for (const [name, v] of Object.entries({ inputRate, windowS, hopS, smoothing })) {
      if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) {
        throw argError(`${name} must be a finite number >= 0, got ${v}`);
      }
    }
    const handle = ex.lgw_stream_open(this.live(), inputRate, windowS, hopS, smoothing) >>> 0;
    if (!handle) {
      const code = ex.lgw_status();
      const field = mem.string(ex.lgw_field());
      throw new LGrinError(mem.string(ex.lgw_stream_strerror(code)), code, field || null);
    }
    const stream = new Stream(this, handle);
    this.streams.add(stream);
    return stream;
  }

  /** Return the model's memory (and that of its open streams) to the module. */
  free() {
    for (const stream of this.streams) stream.free();
    if (this.handle) this.runtime.ex.lgw_model_free(this.handle);
    this.scratch.release();
    this.handle = 0;
  }
}

/**
 * A live stream: samples or frames in, the decisions they complete out.
 * @property {'audio'|'motion'|'frames'} kind
 * @property {'sliding'|'utterance'} mode
 * @property {number} window frames per decision (W; utterance mode: the longest utterance)
 * @property {number} hop frames between decisions (H)
 * @property {number} smoothing decisions averaged (S)
 * @property {number} frameRate frames per second
 * @property {number} channels values per frame and per motion sample (P)
 */
class Stream {
  constructor(model, handle) {
    const ex = model.runtime.ex;
    this.model = model;
    this.handle = handle;
    this.kind = KINDS[ex.lgw_stream_kind(handle)];
    this.mode = MODES[ex.lgw_stream_mode(handle)];
    this.window = ex.lgw_stream_window(handle) >>> 0;
    this.hop = ex.lgw_stream_hop(handle) >>> 0;
    this.smoothing = ex.lgw_stream_smoothing(handle) >>> 0;
    this.frameRate = ex.lgw_stream_frame_rate(handle);
    this.channels = ex.lgw_stream_channels(handle) >>> 0;
    this.scratch = new Scratch(model.runtime);
  }

  live() {
    if (!this.handle) throw argError('the stream was freed');
    return this.handle;
  }

  /** The decisions of a push or flush that returned `count` (negative: a stream status). */
  decisions(count) {
    const { ex, mem } = this.model.runtime;
    if (count < 0) throw new LGrinError(mem.string(ex.lgw_stream_strerror(count)), count, null);
    return this.model.runtime.readDecisions(this.handle, count);
  }

  /** Copy a typed array's bytes to module memory at ptr; returns ptr. */
  put(array, ptr) {
    new Uint8Array(this.model.runtime.mem.memory.buffer).set(
      new Uint8Array(array.buffer, array.byteOffset, array.byteLength), ptr);
    return ptr;
  }

  /**
   * PCM at the stream's input rate: float (full scale +-1) or int16.
   * @param {Float32Array|Int16Array} pcm
   * @returns {Decision[]}
   */
  pushAudio(pcm) {
    const ex = this.model.runtime.ex;
    if (!(pcm instanceof Float32Array || pcm instanceof Int16Array)) {
      throw argError('pcm must be a Float32Array or an Int16Array');
    }
    const ptr = this.put(pcm, this.scratch.get(pcm.byteLength));
    const push = pcm instanceof Int16Array ? ex.lgw_stream_push_i16 : ex.lgw_stream_push_f32;
    return this.decisions(push(this.live(), ptr, pcm.length));
  }

  /**
   * Motion samples: times in seconds (non-decreasing), values n x channels in the spec's channel order.
   * @param {Float64Array} times
   * @param {Float32Array} values
   * @returns {Decision[]}
   */
  pushMotion(times, values) {
    if (!(times instanceof Float64Array) || !(values instanceof Float32Array)) {
      throw argError('times must be a Float64Array and values a Float32Array');
    }
    if (values.length !== times.length * this.channels) {
      throw argError(`values must hold ${times.length} x ${this.channels} floats, got ${values.length}`);
    }
    const tBytes = align8(times.byteLength);
    const ptr = this.scratch.get(tBytes + values.byteLength);
    this.put(times, ptr);
    this.put(values, ptr + tBytes);
    const ex = this.model.runtime.ex;
    return this.decisions(ex.lgw_stream_push_motion(this.live(), ptr, ptr + tBytes, times.length));
  }

  /**
   * Ready frames (any kind of stream): n x channels floats, row-major.
   * @param {Float32Array} frames
   * @returns {Decision[]}
   */
  pushFrames(frames) {
    if (!(frames instanceof Float32Array) || frames.length % this.channels !== 0) {
      throw argError(`frames must be a Float32Array of n x ${this.channels} floats`);
    }
    const ptr = this.put(frames, this.scratch.get(frames.byteLength));
    const ex = this.model.runtime.ex;
    return this.decisions(ex.lgw_stream_push_frames(this.live(), ptr, frames.length / this.channels));
  }

  /**
   * The end of the stream: the front-end's last frames and the end-of-stream rule. Pushes then fail until
   * reset().
   * @returns {Decision[]}
   */
  flush() {
    return this.decisions(this.model.runtime.ex.lgw_stream_flush(this.live()));
  }

  /** Start again (same model and configuration). */
  reset() {
    const code = this.model.runtime.ex.lgw_stream_reset(this.live());
    if (code !== 0) this.decisions(code);
  }

  /** Return the stream's memory to the module. */
  free() {
    if (this.handle) this.model.runtime.ex.lgw_stream_free(this.handle);
    this.scratch.release();
    this.handle = 0;
    this.model.streams.delete(this);
  }
}

/**
 * @typedef {object} Decision
 * @property {number} time seconds: frames so far / frame rate
 * @property {number} label argmax of the probabilities
 * @property {number} probability the probability of label
 * @property {number} smoothed argmax of the mean of the last S decisions' probabilities
 * @property {number} smoothedProbability that mean's value at smoothed
 */
