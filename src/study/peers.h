// `qdet study --peers`: latency rows for third-party runtimes beside qdet's own. ONNX Runtime
// runs each `--onnx` model (the source's ONNX twin), TFLite-WASM (Google's TFLite interpreter
// compiled to WebAssembly) runs the study's own fp32 and int8 variants. Each model is timed by
// tools/peers/peer_latency.js in one node process: loaded once, a seeded input, `warmup`
// untimed then `runs` timed inferences; every sample comes back and qdet computes the same
// statistics as for its own rows. Peer rows are latency only (no AP, no energy).
//
// The packages come from the peers folder ($QDET_PEERS_DIR, default ~/.cache/qdet-peers, made by
// ../shared/peers/setup.sh); node from $QDET_NODE or PATH. When either is missing the study
// prints one warning line and goes on without peer rows.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "report/record.h"
#include "study/study.h"

namespace qdet::study {

struct PeerEnv {
  std::filesystem::path node;          // the node executable
  std::filesystem::path node_modules;  // holds onnxruntime-node and @tensorflow/tfjs-tflite
};

// Finds node and the peer packages; the error says what is missing and how to install it.
Result<PeerEnv> find_peers();

// One model to time in one runtime.
struct PeerJob {
  std::string variant;    // row label: "ort-<stem>", "wasm-fp32", "wasm-int8"
  std::string runtime;    // "onnxruntime" or "tflite-wasm"
  std::string precision;
  std::filesystem::path model;
};

// ONNX Runtime for every options.onnx model, TFLite-WASM for the fp32 and int8 variants that
// were made (records without error).
std::vector<PeerJob> peer_jobs(const StudyOptions& options, const std::vector<report::Record>& records);

// The row from peer_latency.js's JSON (`{ok, samples_ms, ...}`); `{ok:false, error}` and
// malformed output are errors.
Result<report::Record> peer_record_from_json(const nlohmann::json& j, const PeerJob& job);

// Runs the script (written to REPORT_DIR/peers/peer_latency.js) on one job with
// options.runs / options.warmup / options.threads. A failing run is a record with `error`.
report::Record run_peer(const PeerEnv& env, const PeerJob& job, const StudyOptions& options);

// The peer file names: REPORT_DIR/peers/<variant>.json holds the script's raw JSON.
std::filesystem::path peer_output_path(const std::filesystem::path& dir, const std::string& variant);

}  // namespace qdet::study
