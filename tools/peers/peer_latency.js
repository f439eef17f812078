#!/usr/bin/env node
// Latency of a model in a third-party runtime, for `qdet study --peers` (src/study/peers.h):
// the model is loaded once, a seeded input filled once, then `--warmup` untimed and `--runs`
// timed inferences run in this one process. Prints one JSON object on stdout:
//   {ok, runtime, version, model, threads, load_ms, first_ms, warmup, runs, samples_ms, inputs}
// or {ok:false, error} (exit 1). Every timed run is kept (samples_ms); qdet computes the
// statistics itself, the same way as for its own rows.
//
// usage: node peer_latency.js MODEL.(onnx|tflite) [--runs N] [--warmup W] [--threads T] [--seed S]
// .onnx runs in ONNX Runtime (onnxruntime-node, CPU), .tflite in TFLite-WASM (Google's TFLite
// interpreter + XNNPACK compiled to WebAssembly SIMD, from @tensorflow/tfjs-tflite: single
// threaded in Node, so --threads is ignored there). Both packages are found through NODE_PATH
// (the peers folder, ../shared/peers/README.md). The qdet binary carries a copy of this file.
'use strict';
const fs = require('fs');
const path = require('path');

function fail(message) {
  console.log(JSON.stringify({ ok: false, error: String(message) }));
  process.exit(1);
}

function parseArgs(argv) {
  const a = { runs: 20, warmup: 3, threads: 1, seed: 1 };
  const pos = [];
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) fail(`${k} needs a whole number, got '${argv[i]}'`);
      return v;
    };
    if (k === '--runs') a.runs = num();
    else if (k === '--warmup') a.warmup = num();
    else if (k === '--threads') a.threads = num();
    else if (k === '--seed') a.seed = num();
    else if (k.startsWith('--')) fail(`unknown option ${k}`);
    else pos.push(k);
  }
  if (pos.length !== 1) fail('usage: node peer_latency.js MODEL.(onnx|tflite) [--runs N] [--warmup W] [--threads T] [--seed S]');
  if (a.runs < 1) fail('--runs must be at least 1');
  a.model = pos[0];
  return a;
}

// mulberry32: the same seeded stream in every run.
function rng(seed) {
  let t = seed >>> 0;
  return () => {
    t += 0x6d2b79f5;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r ^= r + Math.imul(r ^ (r >>> 7), 61 | r);
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

// Fills a typed array: floats in [-1, 1), integers over their range.
function fill(arr, dtype, rand) {
  for (let j = 0; j < arr.length; j++) {
    const r = rand();
    if (dtype === 'float32' || dtype === 'float64') arr[j] = r * 2 - 1;
    else if (dtype === 'uint8') arr[j] = Math.floor(r * 256);
    else if (dtype === 'int8') arr[j] = Math.floor(r * 256) - 128;
    else if (dtype === 'int64' || dtype === 'uint64') arr[j] = BigInt(Math.floor(r * 10));
    else arr[j] = Math.floor(r * 10);
  }
}

function packageVersion(name) {
  try {
    return require(`${name}/package.json`).version;
  } catch (e) {
    return undefined;
  }
}

async function time(a, infer) {
  const t0 = performance.now();
  await infer();
  const first = performance.now() - t0;
  for (let i = 0; i < a.warmup; i++) await infer();
  const samples = [];
  for (let i = 0; i < a.runs; i++) {
    const s = performance.now();
    await infer();
    samples.push(performance.now() - s);
  }
  return { first_ms: +first.toFixed(4), samples_ms: samples.map((x) => +x.toFixed(4)) };
}

async function onnxruntime(a) {
  let ort;
  try {
    ort = require('onnxruntime-node');
  } catch (e) {
    fail(`onnxruntime-node not found through NODE_PATH (${e.message.split('\n')[0]})`);
  }
  const TYPED = {
    float32: Float32Array, float64: Float64Array, int8: Int8Array, uint8: Uint8Array, int16: Int16Array,
    uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array, int64: BigInt64Array, uint64: BigUint64Array,
    bool: Uint8Array,
  };
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(a.model, {
    executionProviders: ['cpu'], intraOpNumThreads: a.threads, interOpNumThreads: 1,
    executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  const loadMs = performance.now() - t0;
  const rand = rng(a.seed);
  const feeds = {};
  const inputs = [];
  session.inputNames.forEach((name, i) => {
    const meta = (session.inputMetadata && session.inputMetadata[i]) || {};
    const dtype = meta.type || 'float32';
    const T = TYPED[dtype];
    if (!T) fail(`input ${name}: type ${dtype} not supported`);
    // Symbolic or unknown dimensions (batch) are taken as 1.
    const shape = (meta.shape || []).map((d) => (typeof d === 'number' && d > 0 ? d : 1));
    const data = new T(shape.reduce((x, y) => x * y, 1));
    fill(data, dtype, rand);
    feeds[name] = new ort.Tensor(dtype, data, shape);
    inputs.push({ name, dtype, shape });
  });
  const t = await time(a, () => session.run(feeds));
  await session.release();
  return {
    runtime: 'onnxruntime', version: packageVersion('onnxruntime-node'), threads: a.threads,
    load_ms: +loadMs.toFixed(3), inputs, ...t,
  };
}

async function tfliteWasm(a) {
  let pkgDir;
  try {
    pkgDir = path.dirname(require.resolve('@tensorflow/tfjs-tflite/package.json'));
  } catch (e) {
    fail('@tensorflow/tfjs-tflite not found through NODE_PATH');
  }
  // The package's own client needs a browser; its emscripten module runs in Node when handed
  // the .wasm bytes.
  const base = path.join(pkgDir, 'wasm', 'tflite_web_api_cc_simd');
  const logs = [];
  const factory = require(`${base}.js`);
  const M = await factory({
    wasmBinary: fs.readFileSync(`${base}.wasm`), print: (s) => logs.push(s), printErr: (s) => logs.push(s),
  });
  const bytes = fs.readFileSync(a.model);
  const t0 = performance.now();
  const ptr = M._malloc(bytes.length);
  M.HEAPU8.set(bytes, ptr);
  const made = M.TFLiteWebModelRunner.CreateFromBufferAndOptions(ptr, bytes.length, {
    numThreads: 1, enableProfiling: false, maxProfilingBufferEntries: 0,
  });
  if (!made.ok()) fail(`TFLite-WASM cannot load the model: ${made.errorMessage()} ${logs.join(' ').slice(0, 400)}`);
  const runner = made.value();
  const loadMs = performance.now() - t0;
  const rand = rng(a.seed);
  const list = (v) => Array.from({ length: v.size() }, (_, i) => v.get(i));
  const inputs = list(runner.GetInputs()).map((t) => {
    const view = t.data();
    if (!ArrayBuffer.isView(view)) fail(`input ${t.name}: type ${t.dataType} not exposed by TFLite-WASM`);
    fill(view, t.dataType, rand);
    return { name: t.name, dtype: t.dataType, shape: String(t.shape).split(',').map(Number) };
  });
  const t = await time(a, () => {
    if (!runner.Infer()) fail(`TFLite-WASM Infer() failed ${logs.join(' ').slice(0, 400)}`);
  });
  return {
    runtime: 'tflite-wasm', version: packageVersion('@tensorflow/tfjs-tflite'), threads: 1,
    load_ms: +loadMs.toFixed(3), inputs, ...t,
  };
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(a.model)) fail(`${a.model}: model file not found`);
  const ext = path.extname(a.model).toLowerCase();
  let r;
  if (ext === '.onnx') r = await onnxruntime(a);
  else if (ext === '.tflite') r = await tfliteWasm(a);
  else fail(`${a.model}: expected a .onnx or .tflite file`);
  console.log(JSON.stringify({ ok: true, model: path.resolve(a.model), warmup: a.warmup, runs: a.runs, ...r }));
}

main().catch((e) => fail(e && e.message ? e.message : e));
