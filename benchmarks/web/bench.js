// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
// bench.js - times runtimes side by side in one page, bench.html: the web export's wasm runtime
// (lgrin.js), onnxruntime-web (wasm backend) and LiteRT.js (wasm accelerator), all loaded from files this
// server holds (no CDN), all on one thread. bench() loads every (runtime, model) pair, checks one batch-1
// run of each, then times them in interleaved rounds (batch 1, then streaming hops) and names the files
// each pair needs.
//
// Timing: performance.now() is coarse in a page without cross-origin isolation (100 us, jittered), so a
// round repeats its call until it lasts minRoundMs and is its total over its calls; the rounds give the
// spread, and interleaving them spreads the machine's other work over every pair alike. A batch-1 call is
// the work from a Float32Array graph (1, M, P) to a Float32Array of logits: the runtime's input tensor,
// its run, reading the logits back. A streaming hop is the work from H new frames to a decision:
// lgrin.js's Stream.pushFrames, or for the other runtimes windowStream below (the same ring, graph rule,
// run, softmax and smoothing, in JS around one run).

const NODE = new URL('./node_modules/', import.meta.url).href;
const ORT = `${NODE}onnxruntime-web/dist/`;
const LITERT = `${NODE}@litertjs/core/`;

const fromBase64 = (text) => {
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
};

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

// Each loader returns {classify(x, dims) -> Promise<Float32Array>, stream?(plan), facts, free()}.

async function loadLgrin({lgrinJs, model}) {
  const lgrin = await import(lgrinJs);
  const runtime = await lgrin.loadRuntime({build: 'auto'});
  const m = runtime.loadModel(await fetchBytes(model));
  const stream = (plan) => {
    const s = m.openStream({smoothing: plan.smoothing});
    if (s.window !== plan.window || s.hop !== plan.hop) {
      const spec = `the spec's W ${plan.window} / H ${plan.hop}`;
      throw new Error(`lgrin.js stream W ${s.window} / H ${s.hop}, ${spec}`);
    }
    return (frames) => s.pushFrames(frames).length;
  };
  const facts = {build: runtime.build, kernels: m.kernels, precision: m.precision};
  return {classify: async (x) => m.run(x, 1), stream, facts, free: () => m.free()};
}

async function loadOrt({model}) {
  const ort = await import(`${ORT}ort.wasm.min.mjs`);
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmPaths = ORT;
  const session = await ort.InferenceSession.create(model, {executionProviders: ['wasm']});
  const [input] = session.inputNames;
  const [output] = session.outputNames;
  const classify = async (x, dims) => {
    const result = await session.run({[input]: new ort.Tensor('float32', x, dims)});
    return result[output].data;
  };
  const facts = {version: ort.env.versions.web, numThreads: ort.env.wasm.numThreads};
  return {classify, facts, free: () => session.release()};
}

let litertLoaded = null; // LiteRT.js loads its wasm module once per page

async function loadLitert({model}) {
  const litert = await import(`${LITERT}dist/index.js`);
  litertLoaded ||= litert.loadLiteRt(`${LITERT}wasm/`, {threads: false, jspi: false});
  await litertLoaded;
  const compiled = await litert.loadAndCompile(model, {accelerator: 'wasm', cpuOptions: {numThreads: 1}});
  const classify = async (x, dims) => {
    const input = new litert.Tensor(x, dims);
    try {
      const outputs = await compiled.run(input);
      const logits = Float32Array.from(outputs[0].toTypedArray());
      outputs.forEach((t) => t.delete());
      return logits;
    } finally {
      input.delete();
    }
  };
  return {classify, facts: {accelerator: 'wasm', numThreads: 1}, free: () => compiled.delete()};
}

const LOADERS = {lgrin: loadLgrin, ort: loadOrt, litert: loadLitert};

// The node -> frame map of the graph rule (lgrin_edge/data/graph.py) for t frames held and M nodes:
// cyclic padding up to M, else the rule's M frames (resample: numpy's round of an even spacing).
function nodeFrames(t, m, policy) {
  const idx = new Int32Array(m);
  for (let j = 0; j < m; j++) {
    if (t <= m) idx[j] = j % t;
    else if (policy === 'resample') {
      const v = (j * (t - 1)) / (m - 1);
      let r = Math.round(v);
      if (r - v === 0.5 && r % 2 === 1) r -= 1; // numpy rounds halves to even
      idx[j] = r;
    } else idx[j] = j; // truncate, and chunk's first graph
  }
  return idx;
}

function softmax(logits) {
  let top = -Infinity;
  for (const v of logits) top = Math.max(top, v);
  const z = Float32Array.from(logits, (v) => Math.exp(v - top));
  const total = z.reduce((a, b) => a + b, 0);
  return z.map((v) => v / total);
}

const argmax = (v) => v.reduce((best, x, i) => (x > v[best] ? i : best), 0);

// A stream over frames for a runtime that has none: the latest W frames in a ring; at n = W + kH frames
// the graph of the rule, one run, softmax, and the mean of the last S decisions' probabilities.
export function windowStream(classify, {window: w, hop: h, nodes: m, features: p, policy, smoothing}) {
  const ring = new Float32Array(w * p);
  const graph = new Float32Array(m * p);
  const recent = [];
  let n = 0;
  const decide = async () => {
    const t = Math.min(n, w);
    const idx = nodeFrames(t, m, policy);
    for (let j = 0; j < m; j++) {
      const at = ((n - t + idx[j]) % w) * p; // frame n - t + idx[j] of the stream
      graph.set(ring.subarray(at, at + p), j * p);
    }
    const probs = softmax(await classify(graph, [1, m, p]));
    recent.push(probs);
    if (recent.length > smoothing) recent.shift();
    const mean = new Float32Array(probs.length);
    for (const r of recent) r.forEach((v, i) => (mean[i] += v / recent.length));
    return {label: argmax(probs), probability: probs[argmax(probs)], smoothed: argmax(mean)};
  };
  return async (frames) => {
    let made = 0;
    for (let at = 0; at < frames.length / p; at++) {
      ring.set(frames.subarray(at * p, (at + 1) * p), (n % w) * p);
      n += 1;
      if (n >= w && (n - w) % h === 0) {
        await decide();
        made += 1;
      }
    }
    return made;
  };
}

// The time of one call in ms after warm-up (at least `warmup` calls and warmupMs, for the wasm tier-up):
// blocks of 1, 2, 4, ... calls until calibrateMs are spent; the least time per call of the blocks that
// lasted 1 ms or more (ten ticks of the coarse clock), so that one slow call cannot decide it.
async function perCall(step, {warmup, warmupMs, calibrateMs}) {
  const start = performance.now();
  for (let i = 0; i < warmup || performance.now() - start < warmupMs; i++) await step();
  let each = Infinity;
  let spent = 0;
  for (let calls = 1; spent < calibrateMs || each === Infinity; calls *= 2) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) await step();
    const elapsed = performance.now() - t0;
    spent += elapsed;
    if (elapsed >= 1) each = Math.min(each, elapsed / calls);
  }
  return each;
}

// Interleaved rounds: round r of every step, then round r + 1 of every step, ..., so that other work on
// the machine falls on all of them alike; each step's calls set so that its round lasts minRoundMs.
// Each step's time per call of every round, in ms, and its calls per round (null for a null step).
export async function timeInterleaved(steps, timing) {
  const calls = [];
  for (const step of steps) {
    const each = step ? await perCall(step, timing) : Infinity;
    calls.push(step ? Math.min(1 << 20, Math.max(1, Math.ceil(timing.minRoundMs / each))) : 0);
  }
  const times = steps.map(() => []);
  for (let r = 0; r < timing.rounds; r++) {
    for (let k = 0; k < steps.length; k++) {
      if (!steps[k]) continue;
      const start = performance.now();
      for (let i = 0; i < calls[k]; i++) await steps[k]();
      times[k].push((performance.now() - start) / calls[k]);
    }
  }
  return steps.map((step, k) => (step ? {times: times[k], calls: calls[k]} : null));
}

// The files this page fetched from resource entry `from` on, but bench.html, bench.js and the browser's
// own favicon.ico request: [{url, bytes}] (bytes as sent).
function fetched(from = 0) {
  const own = new Set([location.href, import.meta.url, new URL('/favicon.ico', location.href).href]);
  return performance
    .getEntriesByType('resource')
    .slice(from)
    .filter((e) => !own.has(e.name))
    .map((e) => ({url: e.name, bytes: e.encodedBodySize}));
}

// Cycles through the stream's frames, H at a time.
function hops(frames, p, h) {
  const count = Math.floor(frames.length / (p * h));
  let k = 0;
  return () => {
    const at = (k++ % count) * p * h;
    return frames.subarray(at, at + p * h);
  };
}

// A hop step of runtime `rt`: its stream (or windowStream around its run) filled with a full window, then
// H new frames a call, which must make one decision.
async function hopStep(rt, o) {
  const push = rt.stream ? rt.stream(o.plan) : windowStream(rt.classify, o.plan);
  const next = hops(fromBase64(o.frames), o.plan.features, o.plan.hop);
  let made = 0;
  while (made === 0) made = await push(next());
  return async () => {
    if ((await push(next())) !== 1) throw new Error('a hop of frames did not make one decision');
  };
}

const message = (e) => String((e && e.message) || e);

// One pair loaded: its runtime, first logits, steps and the files its load fetched; a refusal as
// {error, stage}, a stream's alone as hopError.
async function prepare(pair, o, x) {
  const from = performance.getEntriesByType('resource').length;
  const dims = [1, o.plan.nodes, o.plan.features];
  const out = {runtime: pair.runtime, model: new URL(pair.model, location.href).href};
  let stage = 'load';
  try {
    out.rt = await LOADERS[pair.runtime](pair);
    stage = 'run';
    out.logits = Array.from(await out.rt.classify(x, dims));
    out.batchStep = () => out.rt.classify(x, dims);
    out.facts = out.rt.facts;
    try {
      out.hopStep = await hopStep(out.rt, o);
    } catch (e) {
      out.hopError = message(e);
    }
  } catch (e) {
    Object.assign(out, {error: message(e), stage});
  }
  out.files = fetched(from);
  return out;
}

// Every pair of o.pairs [{runtime, model, lgrinJs}] loaded side by side in this page (see the head of
// this file), then timed in interleaved rounds, batch 1 first, then hops. o: {pairs, x (base64 float32
// (1, M, P)), frames (base64 float32 (T, P)), plan {window, hop, nodes, features, policy, smoothing},
// timing {warmup, warmupMs, calibrateMs, rounds, minRoundMs}}. Each pair's files: its runtime's (fetched
// by the first pair of that runtime) and its model. Refusals come back in the pair, never thrown.
export async function bench(o) {
  const x = fromBase64(o.x);
  const ready = [];
  for (const pair of o.pairs) ready.push(await prepare(pair, o, x));
  const batch = await timeInterleaved(ready.map((p) => p.batchStep || null), o.timing);
  const hop = await timeInterleaved(ready.map((p) => p.hopStep || null), o.timing);
  const runtimeFiles = {};
  for (const p of ready) {
    const own = p.files.filter((f) => f.url !== p.model);
    runtimeFiles[p.runtime] = [...(runtimeFiles[p.runtime] || []), ...own];
  }
  const pairs = ready.map((p, k) => {
    const files = [...runtimeFiles[p.runtime], ...p.files.filter((f) => f.url === p.model)];
    if (p.rt) p.rt.free();
    const {error, stage, logits, facts, hopError} = p;
    return {error, stage, logits, facts, hopError, files, batch: batch[k], hop: hop[k]};
  });
  return {pairs, isolated: self.crossOriginIsolated};
}
