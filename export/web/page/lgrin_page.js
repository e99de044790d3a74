// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
// lgrin_page.js - the live page of a web export (index.html): loads the runtime (lgrin.js) and
// model_int8.lgrn beside it, shows the model's facts, streams the microphone, a WAV file or a motion CSV
// through the model's stream (the label timeline drawn as decisions come), and checks the export's held-out
// samples (../samples.npz) against the native C runtime's logits. No network beyond the files beside it and
// its parent folder; errors are one line on the page. window.lgrinPage is the page's handle for tests.
import { loadRuntime, softmax } from './lgrin.js';

const MODEL_FILE = 'model_int8.lgrn';
const WAV_BLOCK = 4096; // samples (WAV) or rows (CSV) per push, as lgrin_live reads them
const TABLE_ROWS = 400; // decision rows kept in the table (newest first); the timeline keeps all
const LIVE_SPAN_S = 30; // seconds of a live input the timeline shows
const RUN_BATCH = 64; // graphs per model.run call when checking samples
const COLOURS = [
  '#1f6fb4',
  '#e8710a',
  '#2a9d3a',
  '#c62f2f',
  '#8256b8',
  '#8a5a44',
  '#d64fa8',
  '#6b6b6b',
  '#a8a81c',
  '#1aa3b5',
];

const $ = (id) => document.getElementById(id);

// -- status and errors ---------------------------------------------------------------------------------

function setStatus(text) {
  $('status').textContent = text;
}

/* One line on the page for any failure: the message, never a stack. */
function showError(error) {
  const text = error instanceof Error ? error.message : String(error);
  $('error').textContent = text;
  $('error').hidden = false;
}

function clearError() {
  $('error').textContent = '';
  $('error').hidden = true;
}

/* An event handler that reports what it throws on the page instead of leaving it uncaught. */
function guard(handler) {
  return async (event) => {
    clearError();
    try {
      await handler(event);
    } catch (error) {
      showError(error);
    }
  };
}

// -- fetching ------------------------------------------------------------------------------------------

async function fetchBytes(url, what) {
  let response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new Error(`${what}: cannot fetch ${url} (${error.message})`);
  }
  if (!response.ok) throw new Error(`${what}: ${url} answered ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}

/* True when the page is the web/ folder of a served export folder, whose parent holds manifest.json and
 * samples.npz; served alone, the page asks for nothing outside its folder. */
function inExportFolder() {
  return /\/web\/(index\.html)?$/.test(window.location.pathname);
}

async function fetchManifest() {
  if (!inExportFolder()) return null;
  try {
    const response = await fetch('../manifest.json');
    return response.ok ? await response.json() : null;
  } catch {
    return null; // not an export folder after all: the spec's class names serve
  }
}

// -- number formats ------------------------------------------------------------------------------------

function kib(bytes) {
  return bytes >= 1048576 ? `${(bytes / 1048576).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

function seconds(frames, rate) {
  return rate > 0 ? `${(frames / rate).toFixed(2)} s` : '? s';
}

// -- the model and its facts ---------------------------------------------------------------------------

const page = {
  runtime: null,
  model: null,
  modelBytes: 0,
  classes: [],
  session: null, // the input now streaming (or the last one)
  samplesFile: null, // a samples.npz the user chose
};

function classNames(model, manifest) {
  const fromManifest = manifest && manifest.model && manifest.model.classes;
  const fromSpec = model.spec && model.spec.classes;
  const names = (fromManifest && fromManifest.length ? fromManifest : fromSpec) || [];
  return Array.from({ length: model.numClasses }, (_, c) =>
    names[c] !== undefined ? String(names[c]) : `${c}`,
  );
}

/* The stream the spec defines, described in a line; null and the reason when there is none. */
function describeStream(model) {
  let stream;
  try {
    stream = model.openStream({});
  } catch (error) {
    return { text: `none: ${error.message}`, kind: null };
  }
  try {
    const rate = stream.frameRate;
    const smooth = `smoothing over ${stream.smoothing} decision${stream.smoothing === 1 ? '' : 's'}`;
    const text =
      stream.mode === 'utterance'
        ? `utterance (voice activity), up to ${stream.window} frames ` +
          `(${seconds(stream.window, rate)}), ${smooth}`
        : `sliding, window ${stream.window} frames (${seconds(stream.window, rate)}), hop ${stream.hop} ` +
          `frames (${seconds(stream.hop, rate)}), ${smooth}`;
    return { text: `${text}; ${rate} frames/s`, kind: stream.kind };
  } finally {
    stream.free();
  }
}

function inputFacts(spec) {
  if (!spec) return 'no feature spec in the file: the live inputs need one (check all samples still works)';
  const input = spec.input || {};
  const parts = [String(input.kind)];
  if (input.kind === 'audio' && input.sample_rate_hz) parts.push(`${input.sample_rate_hz} Hz`);
  if (spec.extractor && spec.extractor.id) parts.push(`front-end ${spec.extractor.id}`);
  if (Array.isArray(input.channels))
    parts.push(`channels ${input.channels.map((c) => c.name || c).join(', ')}`);
  return parts.join(', ');
}

function showFacts(runtime, model, stream) {
  const rows = [
    ['graph', `${model.numNodes} nodes × ${model.numFeatures} features`],
    ['classes', `${model.numClasses}: ${page.classes.join(', ')}`],
    ['precision', model.precision],
    [
      'runtime',
      `lgrin_${runtime.build}.wasm, kernels ${model.kernels} (of ${model.kernelFamilies().join(', ')})`,
    ],
    [
      'download',
      `${MODEL_FILE} ${kib(page.modelBytes)} + lgrin_${runtime.build}.wasm ${kib(runtime.wasmBytes)}`,
    ],
    ['input', inputFacts(model.spec)],
    ['stream', stream.text],
  ];
  const list = $('facts');
  list.replaceChildren();
  for (const [name, value] of rows) {
    const dt = document.createElement('dt');
    const dd = document.createElement('dd');
    dt.textContent = name;
    dd.textContent = value;
    dd.dataset.fact = name;
    list.append(dt, dd);
  }
}

function showLegend() {
  const legend = $('legend');
  legend.replaceChildren();
  page.classes.forEach((name, c) => {
    const item = document.createElement('span');
    const swatch = document.createElement('i');
    swatch.style.background = COLOURS[c % COLOURS.length];
    item.append(swatch, name);
    legend.append(item);
  });
}

/* Which live inputs this model takes: the microphone and a WAV for audio, a CSV for motion. */
function enableInputs(kind) {
  const audio = kind === 'audio';
  $('mic').disabled = !audio || !navigator.mediaDevices;
  $('wav').disabled = false; // a wrong choice gets a message saying which input the model takes
  $('csv').disabled = false;
  $('inputs').dataset.kind = kind || 'none';
  $('check').disabled = false;
}

async function boot() {
  setStatus('loading the runtime…');
  const runtime = await loadRuntime();
  setStatus(`loading ${MODEL_FILE}…`);
  const [bytes, manifest] = await Promise.all([fetchBytes(MODEL_FILE, 'the model'), fetchManifest()]);
  const model = runtime.loadModel(bytes);
  Object.assign(page, { runtime, model, modelBytes: bytes.length, classes: classNames(model, manifest) });
  const stream = describeStream(model);
  page.kind = stream.kind;
  showFacts(runtime, model, stream);
  showLegend();
  enableInputs(stream.kind);
  setStatus(
    stream.kind ? `ready: ${hint(stream.kind)}` : 'ready: this model has no live stream; check the samples',
  );
  return { build: runtime.build, kernels: model.kernels, kind: stream.kind };
}

function hint(kind) {
  if (kind === 'audio') return 'start the microphone or choose a WAV file';
  if (kind === 'motion') return 'choose a motion CSV (time and one column per channel)';
  return 'its input is ready frames, which this page cannot make; check the samples';
}

// -- the timeline ----------------------------------------------------------------------------------------

const LAYOUT = { left: 88, right: 12, top: 8, band: 22, gap: 6, plot: 130, axis: 24 };

function niceStep(span, target) {
  const raw = span / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) || power * 10;
}

/* The canvas at the device's pixel ratio, cleared; its size in CSS pixels. */
function prepareCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 900;
  const height = LAYOUT.top + 2 * (LAYOUT.band + LAYOUT.gap) + LAYOUT.plot + LAYOUT.axis + 4;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.height = `${height}px`;
  }
  const g = canvas.getContext('2d');
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);
  g.font = '12px system-ui, sans-serif';
  return { g, width, height };
}

function drawAxis(g, view, x, y) {
  const step = niceStep(view.end - view.start, 10);
  g.strokeStyle = '#999';
  g.fillStyle = '#444';
  g.textAlign = 'center';
  g.beginPath();
  g.moveTo(x(view.start), y);
  g.lineTo(x(view.end), y);
  for (let t = Math.ceil(view.start / step) * step; t <= view.end + 1e-9; t += step) {
    g.moveTo(x(t), y);
    g.lineTo(x(t), y + 4);
    g.fillText(`${+t.toFixed(3)}`, x(t), y + 16);
  }
  g.stroke();
  g.textAlign = 'right';
  g.fillText('time (s)', LAYOUT.left - 8, y + 16);
  g.textAlign = 'left';
}

function drawBands(g, decisions, view, x, rows) {
  const { top, band, gap, left } = LAYOUT;
  g.fillStyle = '#444';
  g.textAlign = 'right';
  g.fillText('label', left - 8, top + band - 7);
  g.fillText('smoothed', left - 8, top + 2 * band + gap - 7);
  g.textAlign = 'left';
  decisions.forEach((d, i) => {
    if (d.time < view.start) return;
    const from = Math.max(i > 0 ? decisions[i - 1].time : d.time - view.band, d.time - view.band, view.start);
    const w = Math.max(1, x(d.time) - x(from));
    g.fillStyle = COLOURS[d.label % COLOURS.length];
    g.fillRect(x(from), top, w, band);
    g.fillStyle = COLOURS[d.smoothed % COLOURS.length];
    g.fillRect(x(from), top + band + gap, w, band);
  });
  return rows;
}

function drawProbability(g, decisions, view, x) {
  const y0 = LAYOUT.top + 2 * (LAYOUT.band + LAYOUT.gap);
  const y = (p) => y0 + (1 - p) * LAYOUT.plot;
  g.strokeStyle = '#ddd';
  g.fillStyle = '#444';
  g.textAlign = 'right';
  for (const p of [0, 0.5, 1]) {
    g.beginPath();
    g.moveTo(LAYOUT.left, y(p));
    g.lineTo(x(view.end), y(p));
    g.stroke();
    g.fillText(p.toFixed(1), LAYOUT.left - 8, y(p) + 4);
  }
  g.fillText('probability', LAYOUT.left - 8, y(0.75) + 4);
  const shown = decisions.filter((d) => d.time >= view.start);
  g.strokeStyle = '#333';
  g.beginPath();
  shown.forEach((d, i) =>
    i ? g.lineTo(x(d.time), y(d.probability)) : g.moveTo(x(d.time), y(d.probability)),
  );
  g.stroke();
  for (const d of shown) {
    g.fillStyle = COLOURS[d.label % COLOURS.length];
    g.beginPath();
    g.arc(x(d.time), y(d.probability), 2.5, 0, 2 * Math.PI);
    g.fill();
  }
  return y(0);
}

/* The whole timeline: label and smoothed-label bands, the probability line, the time axis. */
function drawTimeline(session) {
  const { g, width } = prepareCanvas($('timeline'));
  const decisions = session ? session.decisions : [];
  const view = session ? session.view() : { start: 0, end: 10, band: 1 };
  const span = Math.max(view.end - view.start, 1e-6);
  const x = (t) => LAYOUT.left + ((t - view.start) / span) * (width - LAYOUT.left - LAYOUT.right);
  drawBands(g, decisions, view, x);
  const bottom = drawProbability(g, decisions, view, x);
  drawAxis(g, view, x, bottom + 2);
}

// -- the decision table and the current label ----------------------------------------------------------

function decisionRow(d, index) {
  const tr = document.createElement('tr');
  const cells = [
    index + 1,
    d.time.toFixed(2),
    page.classes[d.label],
    d.probability.toFixed(3),
    page.classes[d.smoothed],
    d.smoothedProbability.toFixed(3),
  ];
  for (const value of cells) {
    const td = document.createElement('td');
    td.textContent = value;
    tr.append(td);
  }
  tr.children[2].style.color = COLOURS[d.label % COLOURS.length];
  tr.children[4].style.color = COLOURS[d.smoothed % COLOURS.length];
  return tr;
}

function addRows(decisions, first) {
  const body = $('decisions');
  const rows = decisions.map((d, i) => decisionRow(d, first + i)).reverse();
  body.prepend(...rows);
  while (body.children.length > TABLE_ROWS) body.lastElementChild.remove();
  const total = first + decisions.length;
  $('table-note').textContent =
    total > TABLE_ROWS
      ? `the newest ${TABLE_ROWS} of ${total} decisions`
      : `${total} decision${total === 1 ? '' : 's'}`;
}

function showCurrent(session) {
  const last = session.decisions[session.decisions.length - 1];
  const now = $('now');
  if (!last) {
    now.textContent = '–';
    now.style.color = '';
    return;
  }
  now.textContent = `${page.classes[last.smoothed]} ${(100 * last.smoothedProbability).toFixed(0)}%`;
  now.style.color = COLOURS[last.smoothed % COLOURS.length];
  const perDecision = session.modelMs / Math.max(1, session.decisions.length);
  $('speed').textContent =
    `${session.decisions.length} decisions at ${session.heardS().toFixed(2)} s ` +
    `of input; ${perDecision.toFixed(2)} ms of stream work per decision`;
}

// -- a streaming session: one input through one stream -------------------------------------------------

/* One input (microphone, WAV or CSV) through a fresh stream: decisions, what was heard, the drawing. */
class Session {
  constructor(source, stream, { rate = 0, duration = null } = {}) {
    Object.assign(this, { source, stream, rate, duration });
    this.decisions = [];
    this.heardChunks = []; // the PCM pushed, as float32 (full scale 1), in order
    this.heardSamples = 0;
    this.motionSpan = [NaN, NaN]; // first and last sample time of a motion input
    this.modelMs = 0;
    this.lastDraw = 0;
    this.finished = false;
    this.stopper = null; // a live input's release (microphone, audio context)
    const frames = stream.mode === 'sliding' ? stream.hop : stream.window;
    this.bandS = stream.mode === 'sliding' ? frames / stream.frameRate : 1.0;
    $('decisions').replaceChildren();
    $('table-note').textContent = '0 decisions';
  }

  heardS() {
    if (this.stream.kind === 'motion') return this.motionSpan[1] - this.motionSpan[0] || 0;
    return this.rate ? this.heardSamples / this.rate : 0;
  }

  view() {
    const last = this.decisions.length ? this.decisions[this.decisions.length - 1].time : 0;
    const end = Math.max(this.duration || 0, this.heardS(), last, this.duration ? 0.1 : LIVE_SPAN_S);
    const start = this.duration === null ? Math.max(0, end - LIVE_SPAN_S) : 0;
    return { start, end, band: this.bandS };
  }

  /* Run one push of the stream, timing it; its decisions go to the timeline and the table. */
  push(call) {
    const start = performance.now();
    const made = call();
    this.modelMs += performance.now() - start;
    this.record(made);
  }

  pushAudio(block) {
    const heard = block instanceof Int16Array ? Float32Array.from(block, (v) => v / 32768) : block.slice();
    this.heardChunks.push(heard);
    this.heardSamples += heard.length;
    this.push(() => this.stream.pushAudio(block));
  }

  pushMotion(times, values) {
    if (Number.isNaN(this.motionSpan[0])) this.motionSpan[0] = times[0];
    this.motionSpan[1] = times[times.length - 1];
    this.push(() => this.stream.pushMotion(times, values));
  }

  record(made) {
    const first = this.decisions.length;
    for (const d of made) {
      this.decisions.push({
        time: d.time,
        label: d.label,
        probability: d.probability,
        smoothed: d.smoothed,
        smoothedProbability: d.smoothedProbability,
      });
    }
    if (made.length) addRows(this.decisions.slice(first), first);
    this.draw(false);
  }

  draw(force) {
    const now = performance.now();
    if (!force && now - this.lastDraw < 50) return; // a redraw per 50 ms is live enough
    this.lastDraw = now;
    drawTimeline(this);
    showCurrent(this);
  }

  /* The end of the input: the live source released, the stream flushed and freed. */
  async finish() {
    if (this.finished) return;
    this.finished = true;
    try {
      if (this.stopper) await this.stopper();
      this.push(() => this.stream.flush());
    } finally {
      this.stream.free();
      if (this.duration === null) this.duration = Math.max(this.heardS(), 0.1); // the whole of it now
      this.draw(true);
      inputsIdle();
    }
  }

  heardBase64() {
    const all = new Float32Array(this.heardSamples);
    let at = 0;
    for (const chunk of this.heardChunks) {
      all.set(chunk, at);
      at += chunk.length;
    }
    return toBase64(new Uint8Array(all.buffer));
  }
}

function toBase64(bytes) {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function inputsBusy(source) {
  document.body.dataset.busy = source;
  for (const id of ['mic', 'wav', 'csv', 'check']) $(id).disabled = true;
  $('stop').disabled = source !== 'microphone';
}

function inputsIdle() {
  delete document.body.dataset.busy;
  enableInputs(page.kind);
  $('stop').disabled = true;
}

/* A fresh stream for an input, after the last session ends; a model that takes another input is told. */
async function openSession(source, want, options) {
  if (!page.model) throw new Error('the model is not loaded');
  if (page.session && !page.session.finished) await page.session.finish();
  if (!page.kind)
    throw new Error(
      `${MODEL_FILE} has no live stream (${$('facts').querySelector('[data-fact=stream]').textContent})`,
    );
  if (page.kind !== want) {
    throw new Error(`this model's input is ${page.kind}, not ${want}: ${hint(page.kind)}`);
  }
  const stream = page.model.openStream(options.rate ? { inputRate: options.rate } : {});
  page.session = new Session(source, stream, options);
  inputsBusy(source);
  return page.session;
}

const pause = () => new Promise((resolve) => setTimeout(resolve, 0));

// -- WAV files -----------------------------------------------------------------------------------------

/* A WAV's format from its fmt chunk (as export/tools/lgrin_wav.c reads it): 16-bit PCM or 32-bit float. */
function wavFormat(view, at, size, name) {
  if (size < 16) throw new Error(`${name}: fmt chunk of ${size} bytes, expected at least 16`);
  let encoding = view.getUint16(at + 8, true);
  const channels = view.getUint16(at + 10, true);
  const rate = view.getUint32(at + 12, true);
  const bits = view.getUint16(at + 22, true);
  if (encoding === 0xfffe && size >= 26) encoding = view.getUint16(at + 32, true); // the sub-format's
  if (channels < 1 || rate < 1) throw new Error(`${name}: ${channels} channels at ${rate} Hz`);
  if (!((encoding === 1 && bits === 16) || (encoding === 3 && bits === 32))) {
    throw new Error(
      `${name}: ${bits}-bit encoding ${encoding} samples; the page reads 16-bit PCM or 32-bit float WAV`,
    );
  }
  return { channels, rate, bits, isFloat: encoding === 3 };
}

/* The first channel's samples, exactly as stored: Int16Array (PCM) or Float32Array (float). */
function wavSamples(view, at, size, format, name) {
  const frame = (format.channels * format.bits) / 8;
  if (size % frame)
    throw new Error(`${name}: data chunk of ${size} bytes is not a whole number of ${frame}-byte frames`);
  const n = size / frame;
  const out = format.isFloat ? new Float32Array(n) : new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const p = at + 8 + i * frame;
    out[i] = format.isFloat ? view.getFloat32(p, true) : view.getInt16(p, true);
  }
  return out;
}

function parseWav(bytes, name) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE')
    throw new Error(`${name}: not a WAV file (no RIFF/WAVE header)`);
  let at = 12;
  let format = null;
  while (at + 8 <= bytes.length) {
    const size = view.getUint32(at + 4, true);
    if (size > bytes.length - at - 8) {
      throw new Error(
        `${name}: truncated: chunk '${tag(at)}' declares ${size} bytes, ${bytes.length - at - 8} remain`,
      );
    }
    if (tag(at) === 'fmt ') format = wavFormat(view, at, size, name);
    if (tag(at) === 'data' && format) return { ...format, samples: wavSamples(view, at, size, format, name) };
    if (tag(at) === 'data') break;
    at += 8 + size + (size & 1); // chunks are padded to an even length
  }
  throw new Error(`${name}: no ${format ? 'data' : 'fmt '} chunk before the end of the file`);
}

async function streamWav(file) {
  const wav = parseWav(new Uint8Array(await file.arrayBuffer()), file.name);
  const duration = wav.samples.length / wav.rate;
  const session = await openSession(`WAV ${file.name}`, 'audio', { rate: wav.rate, duration });
  setStatus(
    `streaming ${file.name}: ${duration.toFixed(2)} s at ${wav.rate} Hz, ` +
      `${wav.isFloat ? 'float' : '16-bit'}${wav.channels > 1 ? `, first of ${wav.channels} channels` : ''}`,
  );
  try {
    for (let start = 0; start < wav.samples.length; start += WAV_BLOCK) {
      session.pushAudio(wav.samples.subarray(start, start + WAV_BLOCK));
      if ((start / WAV_BLOCK) % 8 === 7) await pause(); // let the timeline show as it grows
    }
  } finally {
    await session.finish();
  }
  setStatus(`${file.name}: ${session.decisions.length} decisions over ${duration.toFixed(2)} s`);
}

// -- motion CSV files ----------------------------------------------------------------------------------

const NUMBER = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/* One line "time,v1,...,vP" (as lgrin_live reads it) into times[row] and values; false if it is not one. */
function csvRow(line, p, times, values, row) {
  const fields = line.replace(/[\s]+$/, '').split(',');
  if (fields.length !== p + 1 || !fields.every((f) => NUMBER.test(f))) return false;
  times[row] = Number(fields[0]);
  for (let k = 0; k < p; k++) values[row * p + k] = Number(fields[k + 1]);
  return true;
}

function parseCsv(text, p, name) {
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const times = new Float64Array(lines.length);
  const values = new Float32Array(lines.length * p);
  let n = 0;
  lines.forEach((line, i) => {
    if (csvRow(line, p, times, values, n)) n++;
    else if (i > 0)
      throw new Error(`${name}: line ${i + 1} is not 'time' and ${p} values separated by commas`);
  });
  if (!n) throw new Error(`${name}: no samples ('time' and ${p} values a line)`);
  return { times: times.subarray(0, n), values: values.subarray(0, n * p), n };
}

async function streamCsv(file) {
  if (page.kind !== 'motion') return openSession(`CSV ${file.name}`, 'motion', {}); // says which input
  const p = page.model.numFeatures;
  const csv = parseCsv(await file.text(), p, file.name);
  const duration = csv.times[csv.n - 1] - csv.times[0];
  const session = await openSession(`CSV ${file.name}`, 'motion', { duration: Math.max(duration, 0.1) });
  setStatus(`streaming ${file.name}: ${csv.n} samples of ${p} channels over ${duration.toFixed(2)} s`);
  try {
    for (let start = 0; start < csv.n; start += WAV_BLOCK) {
      const end = Math.min(csv.n, start + WAV_BLOCK);
      session.pushMotion(csv.times.subarray(start, end), csv.values.subarray(start * p, end * p));
      await pause();
    }
  } finally {
    await session.finish();
  }
  setStatus(`${file.name}: ${session.decisions.length} decisions over ${duration.toFixed(2)} s`);
}

// -- the microphone ------------------------------------------------------------------------------------

const FLUSH_WAIT_MS = 1000; // the worklet answers a flush within a render quantum or two

/* The microphone through an AudioWorklet (lgrin_capture.js) into a stream at the context's rate. */
async function startMicrophone() {
  if (page.kind !== 'audio') return openSession('microphone', 'audio', {}); // says which input
  if (!navigator.mediaDevices)
    throw new Error('no microphone access here: the page needs https or localhost');
  const media = await navigator.mediaDevices.getUserMedia({
    audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
  });
  const context = new AudioContext();
  try {
    await context.audioWorklet.addModule(new URL('lgrin_capture.js', import.meta.url));
  } catch (error) {
    media.getTracks().forEach((track) => track.stop());
    await context.close();
    throw new Error(`the capture worklet (lgrin_capture.js) did not load: ${error.message}`);
  }
  const session = await openSession('microphone', 'audio', { rate: context.sampleRate });
  const node = new AudioWorkletNode(context, 'lgrin-capture', {
    numberOfOutputs: 1,
    outputChannelCount: [1],
  });
  const mute = context.createGain();
  mute.gain.value = 0; // the node must reach the destination to be run; nothing is played back
  context.createMediaStreamSource(media).connect(node).connect(mute).connect(context.destination);
  session.stopper = captureStopper(node, media, context);
  node.port.onmessage = (event) => onCapture(session, event.data);
  await context.resume();
  setStatus(
    `listening: ${context.sampleRate} Hz from ${media.getAudioTracks()[0].label || 'the microphone'}`,
  );
}

function onCapture(session, data) {
  if (data === 'flushed') {
    if (session.flushed) session.flushed();
    return;
  }
  if (session.finished && !session.flushed) return; // after the flush: not heard, not pushed
  try {
    session.pushAudio(data);
  } catch (error) {
    showError(error);
    session.finish().catch(showError);
  }
}

/* Release of a microphone session: the worklet's last partial chunk first, then the tracks and context. */
function captureStopper(node, media, context) {
  return async () => {
    const session = page.session;
    await new Promise((resolve) => {
      session.flushed = resolve;
      node.port.postMessage('flush');
      setTimeout(resolve, FLUSH_WAIT_MS);
    });
    session.flushed = null;
    node.port.onmessage = null;
    media.getTracks().forEach((track) => track.stop());
    await context.close();
  };
}

async function stop() {
  const session = page.session;
  if (!session || session.finished) return;
  await session.finish();
  setStatus(`${session.source}: ${session.decisions.length} decisions over ${session.heardS().toFixed(2)} s`);
}

// -- samples.npz ---------------------------------------------------------------------------------------

/* The end-of-central-directory record's entry count and directory offset (zip64 where they overflow). */
function zipDirectory(bytes, view) {
  let eocd = bytes.length - 22;
  while (eocd >= Math.max(0, bytes.length - 65557) && view.getUint32(eocd, true) !== 0x06054b50) eocd--;
  if (eocd < 0 || view.getUint32(eocd, true) !== 0x06054b50) throw new Error('samples.npz: not a zip file');
  let count = view.getUint16(eocd + 10, true);
  let offset = view.getUint32(eocd + 16, true);
  if ((offset === 0xffffffff || count === 0xffff) && view.getUint32(eocd - 20, true) === 0x07064b50) {
    const z64 = Number(view.getBigUint64(eocd - 20 + 8, true));
    count = Number(view.getBigUint64(z64 + 32, true));
    offset = Number(view.getBigUint64(z64 + 48, true));
  }
  return { count, offset };
}

/* Sizes and offset that overflow 32 bits are in the entry's zip64 extra field (id 1), in this order. */
function zip64Fields(view, extra, end, entry) {
  for (let at = extra; at + 4 <= end; at += 4 + view.getUint16(at + 2, true)) {
    if (view.getUint16(at, true) !== 1) continue;
    let p = at + 4;
    for (const key of ['size', 'compressed', 'local']) {
      if (entry[key] !== 0xffffffff) continue;
      entry[key] = Number(view.getBigUint64(p, true));
      p += 8;
    }
  }
  return entry;
}

function zipEntries(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { count, offset } = zipDirectory(bytes, view);
  const entries = [];
  for (let i = 0, at = offset; i < count; i++) {
    if (view.getUint32(at, true) !== 0x02014b50) throw new Error('samples.npz: a broken zip directory');
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const entry = {
      name: new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength)),
      method: view.getUint16(at + 10, true),
      compressed: view.getUint32(at + 20, true),
      size: view.getUint32(at + 24, true),
      local: view.getUint32(at + 42, true),
    };
    const extra = at + 46 + nameLength;
    entries.push(zip64Fields(view, extra, extra + extraLength, entry));
    at = extra + extraLength + view.getUint16(at + 32, true);
  }
  return { view, entries };
}

async function zipData(bytes, view, entry) {
  const local = entry.local;
  const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
  const raw = bytes.slice(start, start + entry.compressed);
  if (entry.method === 0) return raw;
  if (entry.method !== 8) throw new Error(`samples.npz: ${entry.name} uses zip method ${entry.method}`);
  const inflated = new Blob([raw]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(inflated).arrayBuffer());
}

const NPY_TYPES = {
  f4: Float32Array,
  f8: Float64Array,
  i4: Int32Array,
  i8: BigInt64Array,
  u1: Uint8Array,
  i1: Int8Array,
  b1: Uint8Array,
  i2: Int16Array,
  u4: Uint32Array,
  u8: BigUint64Array,
};

/* One .npy: {shape, data} with data a typed array (numbers) or an array of strings ('<U'). */
function parseNpy(bytes, name) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY')
    throw new Error(`${name}: not a .npy array`);
  const wide = bytes[6] >= 2;
  const length = wide ? view.getUint32(8, true) : view.getUint16(8, true);
  const start = (wide ? 12 : 10) + length;
  const header = new TextDecoder().decode(bytes.subarray(wide ? 12 : 10, start));
  const descr = /'descr':\s*'([<>|=])(\w)(\d+)'/.exec(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !shapeText || /'fortran_order':\s*True/.test(header))
    throw new Error(`${name}: an array layout the page does not read (${header.trim()})`);
  if (descr[1] === '>') throw new Error(`${name}: big-endian data`);
  const shape = shapeText[1]
    .split(',')
    .filter((s) => s.trim())
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const body = bytes.slice(start); // a copy: aligned for the typed array
  if (descr[2] === 'U') return { shape, data: npyStrings(body, count, Number(descr[3])) };
  const Type = NPY_TYPES[descr[2] + descr[3]];
  if (!Type) throw new Error(`${name}: dtype ${descr[0]} is not one the page reads`);
  return { shape, data: new Type(body.buffer, 0, count) };
}

function npyStrings(body, count, width) {
  const codes = new Uint32Array(body.buffer, 0, count * width);
  return Array.from({ length: count }, (_, i) =>
    String.fromCodePoint(...codes.subarray(i * width, (i + 1) * width).filter((c) => c)),
  );
}

async function readNpz(bytes) {
  const { view, entries } = zipEntries(bytes);
  const arrays = {};
  for (const entry of entries) {
    if (!entry.name.endsWith('.npy')) continue;
    arrays[entry.name.slice(0, -4)] = parseNpy(await zipData(bytes, view, entry), entry.name);
  }
  return arrays;
}

// -- check all samples ---------------------------------------------------------------------------------

async function samplesBytes() {
  if (page.samplesFile) return new Uint8Array(await page.samplesFile.arrayBuffer());
  if (!inExportFolder()) {
    throw new Error('no samples.npz: the page is served without its export folder; choose a samples.npz');
  }
  return fetchBytes('../samples.npz', 'the samples');
}

/* The model's logits for every graph of x (B, M, P), RUN_BATCH graphs a call. */
function runAll(x) {
  const { numNodes: m, numFeatures: p, numClasses: c } = page.model;
  const [b, xm, xp] = x.shape;
  if (x.shape.length !== 3 || xm !== m || xp !== p) {
    throw new Error(`samples.npz: x is (${x.shape.join(', ')}), the model takes (B, ${m}, ${p})`);
  }
  const out = new Float32Array(b * c);
  for (let i = 0; i < b; i += RUN_BATCH) {
    const n = Math.min(RUN_BATCH, b - i);
    out.set(page.model.run(x.data.subarray(i * m * p, (i + n) * m * p), n), i * c);
  }
  return out;
}

function argmax(values, from, count) {
  let best = 0;
  for (let k = 1; k < count; k++) if (values[from + k] > values[from + best]) best = k;
  return best;
}

/* Bit-identical rows and the largest absolute difference against the reference logits. */
function compareLogits(got, ref, b, c) {
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const r = new Uint32Array(ref.buffer, ref.byteOffset, ref.length);
  let identical = 0;
  let maxAbsDiff = 0;
  for (let i = 0; i < b; i++) {
    let same = true;
    for (let k = i * c; k < (i + 1) * c; k++) {
      same = same && a[k] === r[k];
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(got[k] - ref[k]));
    }
    identical += same;
  }
  return { identical, maxAbsDiff };
}

async function checkSamples() {
  if (!page.model) throw new Error('the model is not loaded');
  setStatus('checking the samples…');
  const arrays = await readNpz(await samplesBytes());
  if (!arrays.x || !arrays.y) throw new Error('samples.npz: no x and y arrays');
  const c = page.model.numClasses;
  const b = arrays.x.shape[0];
  const start = performance.now();
  const logits = runAll(arrays.x);
  const ms = performance.now() - start;
  let right = 0;
  for (let i = 0; i < b; i++) right += argmax(logits, i * c, c) === Number(arrays.y.data[i]);
  // The native C runtime's logits where the export holds the c target, else the export's own run of
  // this page's runtime in Chromium: either way the same file, so bit-identical is expected.
  const key = ['logits_c', 'logits_web'].find((k) => arrays[k]);
  const ref = key && arrays[key];
  const same =
    ref && ref.data instanceof Float32Array && ref.data.length === b * c
      ? compareLogits(logits, ref.data, b, c)
      : { identical: null, maxAbsDiff: null };
  const result = { n: b, ...same, reference: key || null, accuracy: b ? right / b : NaN, ms };
  showCheck(result, right);
  return result;
}

const WHOSE = { logits_c: "the native C runtime's", logits_web: "the export's run in Chromium" };

function showCheck(r, right) {
  const diff = r.maxAbsDiff === 0 ? '0' : Number(r.maxAbsDiff).toPrecision(3);
  const line =
    r.identical === null
      ? 'samples.npz holds no logits_c or logits_web (the export\'s runs of this file): nothing to compare with'
      : `${r.identical} of ${r.n} logits bit-identical to ${WHOSE[r.reference]} (max |diff| ${diff})`;
  const text =
    `${r.n} held-out samples: ${line}; accuracy ${(100 * r.accuracy).toFixed(1)}% (${right} of ${r.n}); ` +
    `${(r.ms / Math.max(1, r.n)).toFixed(3)} ms a sample`;
  const out = $('check-result');
  out.textContent = text;
  out.dataset.state = r.identical === null || r.identical === r.n ? 'ok' : 'differs';
  setStatus('samples checked');
}

// -- wiring ---------------------------------------------------------------------------------------------

function chosen(input, handler) {
  input.addEventListener(
    'change',
    guard(async () => {
      const file = input.files && input.files[0];
      input.value = ''; // the same file chosen again streams again
      if (!file) return;
      inputsBusy(file.name); // at once: a script waiting for the page sees it busy from the choice on
      try {
        await handler(file);
      } finally {
        inputsIdle();
      }
    }),
  );
}

function wire() {
  $('mic').addEventListener('click', guard(startMicrophone));
  $('stop').addEventListener('click', guard(stop));
  $('check').addEventListener(
    'click',
    guard(async () => {
      inputsBusy('samples');
      try {
        await checkSamples();
      } finally {
        inputsIdle();
      }
    }),
  );
  chosen($('wav'), streamWav);
  chosen($('csv'), streamCsv);
  chosen($('npz'), async (file) => {
    page.samplesFile = file;
    await checkSamples();
  });
  window.addEventListener('resize', () => drawTimeline(page.session));
  window.addEventListener('unhandledrejection', (event) => {
    event.preventDefault(); // one line on the page instead of an uncaught error in the console
    showError(event.reason);
  });
  window.addEventListener('error', (event) => showError(event.error || event.message));
}

/* The page's handle for tests and scripts (see docs/web.md). */
function handle(ready) {
  return {
    ready,
    get decisions() {
      return page.session ? page.session.decisions : [];
    },
    get heardRate() {
      return page.session ? page.session.rate : 0;
    },
    get heardSeconds() {
      return page.session ? page.session.heardS() : 0;
    },
    heard: () => (page.session ? page.session.heardBase64() : ''),
    checkSamples,
    stop,
  };
}

function main() {
  wire();
  drawTimeline(null);
  const ready = boot().catch((error) => {
    setStatus('not ready');
    showError(error);
    throw error;
  });
  ready.catch(() => {}); // reported on the page; a caller awaiting `ready` still sees the rejection
  window.lgrinPage = handle(ready);
}

main();
