#!/usr/bin/env node
// Runs one ONNX model over many inputs in one process (the model is loaded once), for
// bench/ort_anchors_bench: `node ort_batch.js MODEL.onnx INPUTS.bin N OUTPUTS.bin [--threads T] [--warmup W]`.
// INPUTS.bin holds N float32 tensors of the model's first input shape back to back; OUTPUTS.bin
// gets the first output of each run back to back; stdout one JSON object with each run's ms.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const argv = process.argv.slice(2);
  const pos = [];
  let threads = 1, warmup = 3;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--threads') threads = +argv[++i];
    else if (argv[i] === '--warmup') warmup = +argv[++i];
    else pos.push(argv[i]);
  }
  if (pos.length !== 4) {
    console.error('usage: node ort_batch.js MODEL.onnx INPUTS.bin N OUTPUTS.bin [--threads T] [--warmup W]');
    process.exit(2);
  }
  const [model, inputs, nText, outputs] = pos;
  const n = +nText;
  const sess = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1,
    executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  const meta = sess.inputMetadata[0];
  const dims = meta.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
  const per = dims.reduce((x, y) => x * y, 1);
  const buf = fs.readFileSync(inputs);
  if (buf.length !== n * per * 4) throw new Error(`${inputs}: ${buf.length} bytes, expected ${n} x ${per} float32`);
  const all = new Float32Array(buf.buffer, buf.byteOffset, n * per);
  const fd = fs.openSync(outputs, 'w');
  const times = [];
  let outShape = null;
  for (let i = -warmup; i < n; i++) {
    const k = Math.max(i, 0);
    const feeds = { [sess.inputNames[0]]: new ort.Tensor('float32', all.subarray(k * per, (k + 1) * per), dims) };
    const s = process.hrtime.bigint();
    const out = await sess.run(feeds);
    const ms = Number(process.hrtime.bigint() - s) / 1e6;
    if (i < 0) continue;
    times.push(ms);
    const t = out[sess.outputNames[0]];
    outShape = t.dims;
    fs.writeSync(fd, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  fs.closeSync(fd);
  console.log(JSON.stringify({ model, threads, runs: n, output_shape: outShape, input_shape: dims, times_ms: times }));
}
main().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
