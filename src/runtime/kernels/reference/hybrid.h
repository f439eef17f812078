// Hybrid kernels (TFLite's dynamic-range "hybrid" ops): float32 input and output, int8
// constant weights. At every invoke the float input is quantized to int8 with a scale (and,
// for the asymmetric scheme, a zero point) computed from its own min/max, the products are
// summed in int32, and each sum goes back to float as
//     out = act(float(acc) * (input_scale * filter_scale[c]) + bias[c])
// which is the expression TFLite's kernels evaluate (conv.cc EvalHybrid / EvalHybridPerChannel,
// depthwise_conv.cc EvalHybridPerChannel, fully_connected.cc EvalHybrid), so results agree with
// TFLite up to float rounding of that one product.
//
// Which scheme TFLite uses, and so which these kernels use:
//   CONV_2D            per-channel filter (scales not all equal): asymmetric, one (scale, zero
//                      point) per batch item over the whole image; otherwise symmetric per batch
//                      item with the filter's single scale.
//   DEPTHWISE_CONV_2D  per-channel filter (one scale per output channel): asymmetric per batch item.
//   FULLY_CONNECTED    one quantization per input row; asymmetric when the op's
//                      asymmetric_quantize_inputs is set, symmetric otherwise.
// Dilated and grouped hybrid convolutions are not supported (TFLite's hybrid conv has neither).
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/kernel.h"

namespace qdet::rt::ref {

// Quantization of one run of float values: real = scale * (q - offset).
struct InputQuantization {
  float scale = 1.0f;
  int32_t offset = 0;
};

// TFLite's SymmetricQuantizeFloats: q = round(x * 127 / max|x|) in [-127, 127], offset 0;
// all zeros give scale 1.
InputQuantization quantize_input_symmetric(const float* values, size_t n, int8_t* out);

// TFLite's AsymmetricQuantizeFloats: the range [min(0, min x), max(0, max x)] onto [-128, 127],
// scale and zero point computed in double, the zero point nudged to an integer; q =
// round(offset + x / scale) clamped. A constant-zero input gives scale 1, offset 0.
InputQuantization quantize_input_asymmetric(const float* values, size_t n, int8_t* out);

extern const Kernel kConv2dHybrid;
extern const Kernel kDepthwiseConv2dHybrid;
extern const Kernel kFullyConnectedHybrid;

}  // namespace qdet::rt::ref
