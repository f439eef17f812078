// `qdet bench`'s engine, also used by `qdet study`: latency (every timed run kept), memory, size,
// MACs and energy per inference of one .tflite model run by qdet's interpreter.
//
// The inputs are filled once with seeded random data in the input's range (floats in [0,1),
// integers over their full range): the interpreter's work does not depend on the values for the
// models qdet runs (no data-dependent control flow except post-processing, which runs on
// whatever the boxes are). Warm-up runs are not recorded; the energy meter is read just before
// the first and just after the last timed run.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "bench/energy.h"
#include "bench/latency_stats.h"
#include "graph/graph.h"
#include "runtime/input_shape.h"

namespace qdet::bench {

struct BenchOptions {
  std::filesystem::path model;
  int threads = 1;
  int warmup = 3;
  int runs = 20;
  std::string energy = "auto";  // auto | rapl | perf | nvml | estimate
  double idle_seconds = 0.5;    // idle power sampled before the timed runs (measured meters)
  double cpu_watts = 0;         // the estimate's power of the cores used (0: bench/cpu_power.h's table)
  std::filesystem::path cpuinfo = "/proc/cpuinfo";  // where the CPU model is read
  bool use_fast_kernels = true;
  bool profile = false;         // after the timed runs, as many runs again timing every op
  uint32_t seed = 1;
  // Input 0 at another shape or batch (Interpreter::resize_input); empty: the model's.
  rt::InputShapeRequest input_shape;
};

// One op's share of an inference (--profile): mean wall time over the profiled runs.
struct OpTime {
  int32_t op = 0;
  std::string kind;    // "CONV_2D"
  std::string kernel;  // "xnnpack", "reference", "folded", ...
  std::string dtype;   // of its first output ("int8")
  std::string output;  // its first output's name
  double ms = 0;
};

struct BenchResult {
  std::filesystem::path model;
  int threads = 1;
  int warmup = 0;
  Shape input_shape;               // input 0 as run
  int batch = 1;                   // its dim 0: images per inference (throughput per image)
  std::vector<double> samples_ms;  // every timed run, in order
  LatencyStats latency;
  int64_t peak_rss_bytes = 0;      // of the process, reset before loading the model when the
                                   // kernel allows it (/proc/self/clear_refs)
  bool peak_rss_reset = false;
  int64_t arena_bytes = 0;         // the interpreter's activation arena
  int64_t file_bytes = 0;
  std::map<std::string, int64_t> bytes_by_dtype;  // constant (weight) bytes by element type
  std::map<std::string, double> macs_by_dtype;    // per inference (at the shapes run), by precision
  WorkPerInference work;
  EnergyResult energy;                 // the chosen method (measured, or time x power)
  EnergyResult arithmetic;             // the arithmetic energy (Horowitz), always
  std::map<std::string, int> kernels;  // implementation name -> ops it runs
  // MACs per inference by "precision · kernel family" ("int8 · onednn"): who did the arithmetic.
  std::map<std::string, double> macs_by_kernel;
  std::vector<OpTime> profile;         // every op in graph order (with BenchOptions::profile)
};

// The work of one inference, for the arithmetic energy: MACs by precision from graph::compute_stats,
// bytes moved = constant bytes read once + every activation written once and read once.
WorkPerInference work_per_inference(const graph::Graph& graph);

Result<BenchResult> bench_model(const BenchOptions& options,
                                const std::function<void(const std::string&)>& progress = {});

}  // namespace qdet::bench
