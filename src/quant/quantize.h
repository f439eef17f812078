// The quantizer as one call: what `qdet quantize` does (docs/ARCHITECTURE.md, "Quantizer"). Reads the model,
// brings it to float32, calibrates (or reads a table), chooses the float ops, rewrites, checks
// that qdet's interpreter accepts the result, and optionally measures the per-tensor error.
// Nothing is written here: the caller saves the model, the table and the report.
#pragma once

#include <cmath>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "graph/graph.h"
#include "quant/calib_table.h"
#include "quant/calibrate.h"
#include "quant/head_aware.h"
#include "quant/mode.h"
#include "quant/modes.h"
#include "quant/observers.h"

namespace qdet::quant {


struct QuantizeOptions {
  Mode mode = Mode::kInt8;
  std::filesystem::path calib_dir;   // images for calibration (int8, int16x8) and the report
  int calib_count = 0;               // 0: every image in calib_dir
  ObserverOptions observer{Method::kMse, 99.99, 256};
  bool per_tensor = false;           // per-tensor weights instead of per-channel
  bool mse_weight_scales = false;    // int8/int16x8 weight scales for least rounding error
  bool bias_correction = false;     // int8: subtract the expected weight-rounding error from
                                     // biases (modes.h IntegerOptions::input_means; needs
                                     // calibration images, not applied with a --table alone).
                                     // Off by default: no AP gain measured (YOLOX-Nano +0.2 AP
                                     // but -2 AP50, YOLOv5n -0.1 AP on val2017-139)
  // int8 / int16x8: the weights of layers kept float are stored as float16 + DEQUANTIZE (as
  // the fp16 mode; qdet folds it at load and runs float32 kernels); false keeps float32.
  bool fp16_float_weights = true;
  // Every mode but float: the lossless compaction passes of modes.h (constant-index SCATTER_ND
  // as PAD, exactly representable float32 tables as float16).
  bool compact = true;
  // int8 / int16x8: weights rounded by GPTQ (gptq.h) on the first `gptq_images` calibration
  // images instead of to nearest; recorded in the table ("gptq_images"). YOLOv5n, weights int8
  // with float activations: AP 31.73 -> 32.03 (float 32.1).
  bool gptq = true;
  int gptq_images = 32;
  bool hybrid = false;               // dynamic: TFLite hybrid ops (else int8 weights + DEQUANTIZE)
  std::string io = "float";          // float | int8 | uint8 | int16 (integer modes); float mode:
                                     // "float" makes integer inputs float too, "keep" keeps them
  HeadAwareOptions head;
  // int8, front fallback (fallback.h; needs calibration images, skipped with a note for a
  // table alone): the network's first weighted layers stay float, as many as bring the outputs
  // closest to the float model's on `fallback_images` calibration images while their MACs stay
  // within this share of the model's. Quantization error made early is carried and amplified
  // by every later layer: on YOLOX-Nano the first ~12 layers (10% of the MACs) in float gain
  // ~0.6 AP on average over three calibration sets. 0: off.
  double fallback_macs = 0.1;
  // int8: the layers whose output a float head convolution reads stay float too (fallback.h
  // head_input_units; recorded in the table's "fallback" list). YOLOX-Nano, three calibration
  // sets: mean AP 30.11 -> 30.46; YOLOv5n 31.26 -> 31.51.
  bool float_head_inputs = true;
  int fallback_images = 16;          // calibration images the sensitivities are measured on
  // Accuracy-driven fallback (--max-map-drop), when `evaluate` is set (int8 and int16x8):
  // `evaluate` scores a model (COCO AP in points, 0..100, on labelled images the caller chose);
  // units go back to float one at a time in sensitivity order until the float model's score
  // minus the quantized one's is at most max_map_drop, or max_trials models were scored (then
  // the best one is kept, with a warning).
  std::function<Result<double>(const graph::Model&)> evaluate;
  double max_map_drop = 1.0;
  int max_trials = 30;
  std::filesystem::path table;       // ranges from this table instead of calibrating
  bool report = false;               // measure the per-tensor error (needs calib_dir)
  int report_count = 16;             // images for the report (first N of the calibration set)
  std::string preset;                // preprocessing preset (default: recognised)
  int num_threads = 1;
  void (*progress)(const char* stage, size_t done, size_t total) = nullptr;
};

struct QuantizeOutcome {
  graph::Model model;
  graph::Graph float_graph;                  // the float32 graph float_ops index into
  Notes notes;
  std::vector<FloatDecision> float_ops;      // kept float, with reasons (integer modes)
  std::optional<CalibrationTable> table;     // when calibrated here
  std::vector<TensorError> errors;           // when report
  // Fallback (fallback.h): the probe's score with the head-aware float ops only and with the
  // chosen fallback, in dB (NaN when not measured).
  double probe_base_db = std::nan(""), probe_final_db = std::nan("");
  // Accuracy-driven fallback: the float model's score, then each trial's (units in float, score).
  double float_score = std::nan("");
  std::vector<std::pair<int, double>> trials;
  bool budget_met = false;
  int report_images = 0;
};

Result<QuantizeOutcome> quantize_file(const std::filesystem::path& model_path,
                                      const QuantizeOptions& options);

}  // namespace qdet::quant
