// `qdet study`: the whole study as one call. For each mode (fp32, fp16, dynamic, int8, int16x8)
// the variant is made by the quantizer (fp32: the source rewritten as float32), evaluated on COCO
// (coco/model_eval.h, with its journal), benchmarked (bench/bench_model.h) and drawn on a few
// images; then report/ gets index.html, report.md and results.json.
//
// Folder layout (every file written atomically):
//   MODE.tflite (+ MODE.qdet.json when the source has a sidecar), MODE.results.json (COCO
//   results), pictures/MODE_N.png, MODE.done (the variant's record as JSON, written last: a
//   variant with a done file is finished), results.json, report.md, index.html, plan.json (the
//   settings, read by `--stage` jobs: study/stages.h runs the same study as separate jobs); with
//   --peers, peers/peer_latency.js and peers/<row>.json (the peer's raw output, re-measured
//   every run).
// A variant that fails at any stage becomes a record with `error` set (no done file, so
// `resume` tries it again); the study goes on.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "report/record.h"
#include "runtime/input_shape.h"

namespace qdet::study {

struct StudyOptions {
  std::filesystem::path model;
  std::filesystem::path images;       // evaluation images (the annotation file's file_name)
  std::filesystem::path annotations;  // COCO instances JSON
  std::filesystem::path calib;        // calibration images (int8, int16x8); never the eval images
  std::filesystem::path output;       // the report folder
  std::vector<std::string> modes = {"fp32", "fp16", "dynamic", "int8", "int16x8"};
  int threads = 1;
  int limit = 0;         // evaluate the first N images (0: all)
  int calib_count = 0;   // first N calibration images (0: all)
  int runs = 20;         // timed benchmark runs per variant
  int warmup = 3;
  std::string energy = "auto";
  double cpu_watts = 0;  // the time x power estimate's power (0: bench/cpu_power.h's table)
  int pictures = 3;      // images drawn side by side
  std::string preset;    // preprocessing preset (default: recognised)
  // Every variant evaluated, benchmarked and drawn at this input size (the preset's letterbox
  // follows); the variants are made (and calibrated) at the model's own size.
  rt::InputShapeRequest input_shape;
  bool resume = false;
  // Peer rows (study/peers.h): ONNX Runtime on each `onnx` model, TFLite-WASM on the fp32 and
  // int8 variants; latency only. Giving an ONNX model turns peers on.
  bool peers = false;
  std::vector<std::filesystem::path> onnx;
  // The quantizer's progress while a variant is made (quant::QuantizeOptions::progress);
  // nullptr: one line per stage on stderr. The Python module routes it to its callback, which
  // is also where Ctrl-C stops a study in the middle of quantizing.
  void (*quantize_progress)(const char* stage, size_t done, size_t total) = nullptr;
};

struct StudyResult {
  std::vector<report::Record> records;
  std::vector<std::string> reused;  // variants taken from their done file (resume)
  std::string peers_warning;        // why --peers added no rows (node or the packages missing)
  std::filesystem::path index_html, report_md, results_json;
};

// Checks the inputs (before anything is written): modes known and not repeated, model, images
// folder and annotation file present, calibration folder present when a mode needs it, report
// folder creatable and writable, every --onnx model present and named .onnx.
Status check_study_inputs(const StudyOptions& options);

Result<StudyResult> run_study(const StudyOptions& options,
                              const std::function<void(const std::string&)>& progress = {});

// File names inside the report folder.
std::filesystem::path variant_model_path(const std::filesystem::path& dir, const std::string& mode);
std::filesystem::path variant_done_path(const std::filesystem::path& dir, const std::string& mode);
std::filesystem::path variant_results_path(const std::filesystem::path& dir, const std::string& mode);

}  // namespace qdet::study
