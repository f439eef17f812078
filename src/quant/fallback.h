// Sensitivity-ordered float fallback for integer models (docs/ARCHITECTURE.md, "Quantizer"): which quantized layers
// to give back to float, measured rather than guessed.
//
// A unit is one weighted op (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED) with the activation
// ops that read only what it makes (SiLU's LOGISTIC and MUL, RELU, ...): keeping the unit float
// removes its weight rounding and the int8 steps of its pre-activation. A unit's sensitivity is
// measured, not estimated: the model is rewritten with that unit alone in float and run on a few
// calibration images, and the gain is how much closer its detector outputs come to the float
// model's (OutputProbe, in dB). No labels are needed.
//
// Two uses, both in quantize.cpp:
//   - label-free (default for int8): the most sensitive units go back to float while their MACs
//     stay within a share of the model's (QuantizeOptions::fallback_macs);
//   - accuracy-driven (--max-map-drop): units are added one at a time in sensitivity order, the
//     caller's metric (COCO AP on labelled images) judging each trial, until the drop from the
//     float model is within the budget (as Intel Neural Compressor's and OpenVINO's accuracy
//     control do).
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "graph/graph.h"
#include "quant/modes.h"
#include "runtime/interpreter.h"

namespace qdet::quant {

struct FallbackUnit {
  std::vector<int32_t> ops;  // float-graph op indices, the weighted op first
  std::string name;          // the weighted op's output tensor name
  int64_t macs = 0;
  double gain_db = 0;        // OutputProbe score with this unit float minus the base score
};

// The units of a float graph among the ops not already in `float_ops`, in graph order.
std::vector<FallbackUnit> fallback_units(const graph::Graph& graph,
                                         const std::set<int32_t>& float_ops);

// The units (among those not in `float_ops`) whose output a weighted op in `float_ops` reads:
// the layers that make the input of a float head convolution. The head reads that tensor in
// float, so int8 there only adds its rounding to the detections.
std::vector<FallbackUnit> head_input_units(const graph::Graph& graph,
                                           const std::set<int32_t>& float_ops);

// Compares candidate models' detector outputs with the float model's on fixed inputs. The
// compared tensors are the graph outputs, or the inputs of TFLite_Detection_PostProcess when the
// model has one (its sorted, thresholded outputs do not compare element by element). The score,
// in dB, is -10 log10 of the mean over output channels (last dimension) of
// sum (f - q)^2 / sum f^2, so that 0..1 class scores weigh as much as pixel box coordinates.
class OutputProbe {
 public:
  // `inputs`: input tensors in the float model's input format (one input per sample).
  static Result<std::unique_ptr<OutputProbe>> create(const graph::Model& float_model,
                                                     std::vector<std::vector<uint8_t>> inputs,
                                                     int num_threads = 1);
  // The score of a quantized model with float I/O (tensor_map: IntegerResult::tensor_map).
  Result<double> score_db(const graph::Model& quantized, const std::vector<int32_t>& tensor_map);
  size_t samples() const { return inputs_.size(); }

 private:
  OutputProbe() = default;
  std::vector<std::vector<uint8_t>> inputs_;
  std::vector<int32_t> probes_;              // float-graph tensor ids
  std::vector<std::vector<float>> expected_;  // [sample * probes + p]
  int num_threads_ = 1;
};

// Measures every unit's gain: the model is rewritten by quantize_integer (options with float
// I/O, `base_float_ops` plus the unit) and scored. Sorted by gain, largest first. `base_db`
// receives the score with no unit in float. `progress` (may be null) after each unit.
Result<std::vector<FallbackUnit>> rank_units(const graph::Model& float_model,
                                             const RangeMap& ranges, IntegerOptions options,
                                             OutputProbe& probe, double* base_db,
                                             void (*progress)(const char*, size_t, size_t));

// Scores the prefixes of `units` in graph order: element k is the score with the first k units
// in float (k = 0 .. the longest prefix whose MACs fit in `max_macs`).
Result<std::vector<double>> score_prefixes(const graph::Model& float_model, const RangeMap& ranges,
                                           IntegerOptions options,
                                           const std::vector<FallbackUnit>& units,
                                           int64_t max_macs, OutputProbe& probe,
                                           void (*progress)(const char*, size_t, size_t));

}  // namespace qdet::quant
