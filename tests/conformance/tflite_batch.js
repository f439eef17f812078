#!/usr/bin/env node
// Runs many small .tflite models in the official TFLite interpreter (TFLite ~2.12 WebAssembly,
// the package the peers' tflite_run.js uses) in one Node process: starting Node and the
// WebAssembly module once per model would cost more than all the models together.
//
// usage: node tflite_batch.js MANIFEST.json
// MANIFEST: [{"model": "a.tflite", "inputs": ["in0.bin", ...], "out_dir": "dir"}, ...]
// For each entry, writes out_dir/out_<k>.bin (raw bytes of output k) and out_dir/result.json
// ({"ok": true, "outputs": [{"dtype", "shape"}]} or {"ok": false, "error": "..."}).
'use strict';
const fs = require('fs');
const path = require('path');

async function main() {
  const manifest = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const pkgDir = path.dirname(require.resolve('@tensorflow/tfjs-tflite/package.json'));
  const base = path.join(pkgDir, 'wasm', 'tflite_web_api_cc_simd');
  const factory = require(base + '.js');
  const logs = [];
  const M = await factory({
    wasmBinary: fs.readFileSync(base + '.wasm'),
    print: (s) => logs.push(s), printErr: (s) => logs.push(s),
  });
  const vec = (v) => { const r = []; for (let i = 0; i < v.size(); i++) r.push(v.get(i)); return r; };
  for (const entry of manifest) {
    fs.mkdirSync(entry.out_dir, { recursive: true });
    const result = (obj) => fs.writeFileSync(path.join(entry.out_dir, 'result.json'), JSON.stringify(obj));
    logs.length = 0;
    const model = fs.readFileSync(entry.model);
    const ptr = M._malloc(model.length);
    M.HEAPU8.set(model, ptr);
    try {
      const st = M.TFLiteWebModelRunner.CreateFromBufferAndOptions(ptr, model.length, {
        numThreads: 1, enableProfiling: false, maxProfilingBufferEntries: 16,
      });
      if (!st.ok()) { result({ ok: false, error: st.errorMessage(), log: logs.slice() }); continue; }
      const runner = st.value();
      const ins = vec(runner.GetInputs());
      ins.forEach((t, i) => {
        const buf = t.data();
        const raw = fs.readFileSync(entry.inputs[i]);
        if (raw.length !== buf.byteLength) throw new Error(`input ${i}: ${raw.length} bytes, tensor needs ${buf.byteLength}`);
        new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength).set(raw);
      });
      if (!runner.Infer()) { result({ ok: false, error: 'Infer() failed', log: logs.slice() }); continue; }
      const outputs = vec(runner.GetOutputs()).map((t, k) => {
        const d = t.data();
        fs.writeFileSync(path.join(entry.out_dir, `out_${k}.bin`), Buffer.from(d.buffer, d.byteOffset, d.byteLength));
        return { dtype: t.dataType, shape: String(t.shape).split(',').map(Number) };
      });
      result({ ok: true, outputs });
      runner.delete && runner.delete();
    } catch (e) {
      result({ ok: false, error: String(e && e.message || e), log: logs.slice() });
    } finally {
      M._free(ptr);
    }
  }
}
main().catch((e) => { console.error(e && e.stack || e); process.exit(1); });
