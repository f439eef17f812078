// One flat record per model variant (docs/ARCHITECTURE.md, "Code habits" 10): accuracy, size, speed, memory, energy.
// The terminal table, markdown, JSON and HTML are printers over a list of records.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench_model.h"
#include "bench/energy.h"
#include "bench/latency_stats.h"

namespace qdet::report {

struct Record {
  // What ran.
  std::string variant;      // "fp32", "fp16", "dynamic", "int8", "int16x8", or a peer's label
  std::string runtime;      // "qdet", "onnxruntime", "tflite-wasm"
  std::string precision;    // weights / activations, e.g. "int8 / int8", "float16 / float32"
  std::string model_path;
  int threads = 1;
  // A third-party runtime's row (`qdet study --peers`): latency only, no AP or energy.
  bool peer = false;

  // Size and work.
  int64_t file_bytes = 0;
  std::map<std::string, int64_t> bytes_by_dtype;
  std::map<std::string, double> macs_by_dtype;

  // Accuracy (COCO bbox, pycocotools-exact); empty when not evaluated.
  std::vector<double> coco_stats;              // the 12 summary numbers
  std::map<std::string, double> per_class_ap;  // class name -> AP (0..1)
  int eval_images = 0;

  // Speed and memory.
  std::optional<bench::LatencyStats> latency;
  std::vector<double> latency_samples_ms;  // every timed run, in order
  int warmup_runs = 0;
  int64_t peak_rss_bytes = 0;
  int64_t arena_bytes = 0;

  // Energy per inference, with how it was obtained.
  std::optional<bench::EnergyResult> energy;
  // The arithmetic energy (Horowitz): a second figure, never the one that ranks CPU rows.
  std::optional<bench::EnergyResult> arithmetic_energy;

  // The machine that measured latency, memory and energy (gethostname): a study run in stages
  // on a cluster benchmarks on one node, and says which.
  std::string host;

  // Which implementation ran how many ops ("xnnpack": 120, "reference": 3).
  std::map<std::string, int> kernels;
  // MACs per inference by "precision · kernel family"; main_kernel() names the largest.
  std::map<std::string, double> macs_by_kernel;

  // Set when the variant could not be made, evaluated or benchmarked: the row shows it.
  std::string error;

  // Free-form notes (what was kept in float and why, warnings).
  std::vector<std::string> notes;

  double ap() const { return coco_stats.size() == 12 ? coco_stats[0] : -1; }
  double ap50() const { return coco_stats.size() == 12 ? coco_stats[1] : -1; }
  std::string main_kernel() const;  // "int8 · onednn", or "" when no MACs were counted
  double fps() const { return latency && latency->median_ms > 0 ? 1000.0 / latency->median_ms : 0; }
};

// Fills what a benchmark measured: latency (every sample), memory, size, MACs, energy, kernels.
void fill_from_bench(Record& record, const bench::BenchResult& bench);

// The reference row for ΔAP: the first record whose variant is "fp32" (or the first record).
const Record* baseline_of(const std::vector<Record>& records);

}  // namespace qdet::report
