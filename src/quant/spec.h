// TFLite's quantization rules in one place (docs/ARCHITECTURE.md, "Formats and exactness", "TensorFlow Lite 8-bit quantization
// specification"): how a range becomes a scale and zero point, how weights and biases are
// quantized, and what each op requires of its quantized inputs and outputs.
//
//   real = scale * (q - zero_point)
//   activations int8:  asymmetric per tensor, q in [-128, 127], the range nudged to include 0 so
//                      that 0.0 is exact (zero padding, ReLU);
//   activations int16: symmetric, zero point 0 (the 16x8 scheme);
//   weights:           int8 symmetric in [-127, 127], zero point 0, per channel on the output
//                      channel axis (CONV_2D 0, DEPTHWISE_CONV_2D 3, FULLY_CONNECTED 0,
//                      TRANSPOSE_CONV 0) or per tensor;
//   bias:              int32 (int64 with int16 activations), scale = input_scale x weight_scale
//                      per channel, zero point 0.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"
#include "graph/graph.h"
#include "tensor/dtype.h"
#include "tensor/quant_params.h"

namespace qdet::quant {

// A real-valued range [min, max] of a tensor.
struct Range {
  float min = 0.f;
  float max = 0.f;
  bool operator==(const Range&) const = default;
};

// Scale and zero point of an activation of `dtype` covering `range` (TFLite's
// ChooseQuantizationParams). int8/uint8: the range is first extended to include 0, then
//   scale = (max - min) / (qmax - qmin), zero_point = round(qmin - min / scale) clamped.
// int16: symmetric, scale = max(|min|, |max|) / 32767, zero point 0. An empty range (all zero)
// gets scale 1. Non-finite bounds are an error.
Result<QuantParams> activation_params(Range range, DType dtype);

// Symmetric int8 weights in [-127, 127]: one scale per slice along `axis`, or one for the whole
// tensor when axis < 0. scale = max|w| / 127 (1 for an all-zero slice); q = round(w / scale).
struct QuantizedConstant {
  std::vector<uint8_t> data;  // little-endian elements of the quantized dtype
  QuantParams params;
};
Result<QuantizedConstant> quantize_weights_symmetric(std::span<const float> values,
                                                     const Shape& shape, int32_t axis);

// Bias of a CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED / TRANSPOSE_CONV: int32 (or int64 for
// 16x8) with scale_c = input_scale * weight_scale_c (weight_scales has 1 or values.size()
// entries), zero point 0; values are rounded and saturated to the type.
Result<QuantizedConstant> quantize_bias(std::span<const float> values, float input_scale,
                                        std::span<const float> weight_scales, DType dtype);

// Per-tensor quantization of constant values with given parameters (clamped to the dtype).
QuantizedConstant quantize_with_params(std::span<const float> values, const QuantParams& params,
                                       DType dtype);

// What an op needs from the quantizer. `output` says where its output parameters come from.
enum class OutputRule : uint8_t {
  kFromRange,    // the output's own calibrated range
  kSameAsInput,  // exactly the parameters of the (first) value input: TFLite kernels of these
                 // ops move bytes without requantizing (RESHAPE, MAX_POOL_2D, PAD, ...)
  kShared,       // the output's own range, and every value input requantized to the output's
                 // parameters (CONCATENATION, PACK, MAXIMUM, MINIMUM: TFLite's int8 kernels
                 // require equal parameters)
  kFixed,        // fixed by TFLite: LOGISTIC, SOFTMAX, TANH
};

// Read from graph/op_traits.h (op_quant_spec below).
struct OpQuantSpec {
  bool tflite_int8 = false;   // TFLite has an int8 kernel
  bool tflite_int16 = false;  // TFLite has an int16 (16x8) kernel
  bool int8 = false;          // ... and so does qdet: the quantizer may write it in int8
  bool int16 = false;         // ... in int16
  OutputRule output = OutputRule::kFromRange;
  int8_t weight_input = -1;  // constant weights quantized symmetric per channel
  int8_t weight_axis = 0;    // their channel axis
  int8_t bias_input = -1;    // bias: int32 / int64 from input x weight scales
  QuantParams fixed_int8, fixed_int16;  // kFixed only
};

// The spec of an op kind, or nullptr when TFLite cannot run it quantized (it stays float).
const OpQuantSpec* op_quant_spec(graph::OpKind kind);

// Inputs of `op` that carry real values (float32 tensors in a float graph), as opposed to
// shapes, indices, axes and paddings: the inputs the quantizer converts.
bool is_value_input(const graph::Graph& graph, const graph::Op& op, size_t input_index);

// The TFLite op version for the dtypes `op` now has in `graph` (operator codes carry it; TFLite
// rejects versions it does not know, so the version follows TFLite's op_version rules for the
// cases qdet writes and never exceeds what TFLite 2.12 registers).
int32_t tflite_op_version(const graph::Graph& graph, const graph::Op& op);

// Per-channel scales that minimise the weights' squared rounding error: scale = a * max|w| / 127
// for a in [0.70, 1.00] (clipping a few outliers of a channel makes the steps of all its other
// weights finer); `q` (from quantize_weights_symmetric of `values`, axis `axis`) is rewritten
// with them. Still symmetric int8 in [-127, 127].
void refine_weight_scales_mse(std::span<const float> values, const Shape& shape, int32_t axis,
                              QuantizedConstant& q);

}  // namespace qdet::quant
