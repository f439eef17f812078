// GPTQ weight rounding (Frantar et al. 2022, "GPTQ: Accurate Post-Training Quantization for
// Generative Pre-trained Transformers", the Optimal Brain Quantization update applied column by
// column). Nearest rounding minimises each weight's own error; GPTQ minimises the error of the
// layer's output on calibration inputs: with H = sum x x^T over the layer's input patches, it
// rounds the weights of each output channel one at a time and moves the error onto the weights
// not yet rounded, in proportion to H^-1, so that they absorb it. The scales and the grid stay
// the ones nearest rounding would use (symmetric int8 in [-127, 127], TFLite's spec); only which
// of the two neighbouring grid points each weight takes changes.
//
// Measured (COCO AP on val2017-139, 32 calibration images; int8 means over three calibration
// sets: all 111 images, the first 56, the last 55):
//   YOLOv5n, weights int8 and activations float: 31.73 -> 32.03 (float 32.1); output error
//     sum e^T H e 5.8x lower. Full int8: mean 31.51 -> 31.99.
//   YOLOX-Nano, weights only: 29.99 -> 30.39 (float 30.3). Full int8 with GPTQ on every layer:
//     mean 30.46 -> 29.96; without its depthwise layers 30.37, with only them (two sets) 30.12.
// So depthwise convolutions keep nearest rounding by default (`depthwise`): with 9 weights per
// channel there is little to compensate with, and in full int8 it measured worse.
#pragma once

#include <cstdint>
#include <set>
#include <span>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "graph/graph.h"
#include "quant/spec.h"

namespace qdet::quant {

struct GptqOptions {
  int positions_per_image = 256;  // input patches sampled per image and layer (seeded)
  double damp = 0.01;             // added to H's diagonal, as a share of its mean
  bool per_channel = true;        // scales as quantize_weights_symmetric gives them
  bool mse_scales = false;        // ... refined by refine_weight_scales_mse
  bool depthwise = false;         // DEPTHWISE_CONV_2D too (see above)
  // Memory for the H matrices (k^2 doubles per layer, all held at once): the layers with the
  // smallest H first; those beyond keep nearest rounding (GptqResult::over_budget).
  size_t max_bytes = size_t{1} << 30;
  uint32_t seed = 1;
};

struct GptqResult {
  // Source weight tensor id -> its int8 weights and scales (the layout and parameters
  // quantize_weights_symmetric would give, values rounded by GPTQ).
  std::unordered_map<int32_t, QuantizedConstant> weights;
  double error_nearest = 0;  // sum over layers and channels of e^T H e, nearest rounding
  double error_gptq = 0;     // the same with GPTQ's rounding
  int layers = 0;
  int over_budget = 0;       // layers left to nearest rounding by GptqOptions::max_bytes
};

// Rounds the constant float32 weights of every CONV_2D (one group), FULLY_CONNECTED and, with
// `depthwise`, DEPTHWISE_CONV_2D (depth multiplier 1) of `float_model` that is not in `skip_ops`, with H measured
// by running the float model on `samples` (input tensors in the model's input format). A weight
// tensor read by several ops, or whose H is not positive definite even after damping, keeps
// nearest rounding (it is left out of the result).
Result<GptqResult> gptq_round_weights(const graph::Model& float_model,
                                      std::span<const std::vector<uint8_t>> samples,
                                      const std::set<int32_t>& skip_ops, const GptqOptions& options,
                                      void (*progress)(const char*, size_t, size_t) = nullptr);

}  // namespace qdet::quant
