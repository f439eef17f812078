// Quantization parameters shared by CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED: which
// integer family the op belongs to, the zero-point offsets, the per-channel output multipliers
// and the fused activation's clamp, all computed at prepare time.
#pragma once

#include <cstdint>
#include <string>

#include "runtime/kernel.h"
#include "runtime/quantization_util.h"

namespace qdet::rt::quantized {

enum class ConvFamily : uint8_t {
  kUInt8,    // uint8 input/output, uint8 per-tensor weights with a zero point, int32 bias
  kInt8,     // int8 input/output, int8 weights (zero point 0) per-tensor or per-channel, int32 bias
  kInt16x8,  // int16 input/output (zero point 0), int8 weights, int64 (or int32) bias
};

struct ConvQuant {
  ConvFamily family = ConvFamily::kInt8;
  int32_t input_offset = 0;   // -input zero point
  int32_t filter_offset = 0;  // -filter zero point (uint8 weights only)
  int32_t output_offset = 0;  // +output zero point
  ChannelMultipliers multipliers;  // one per output channel
  QuantizedActivationRange activation;
  DType bias_dtype = DType::kUnknown;  // kInt32, kInt64, or kUnknown when there is no bias
};

// Checks dtypes and quantization of input, filter, optional bias and output, and computes the
// multipliers. `channel_axis` is the filter dim holding output channels (0 for CONV_2D and
// FULLY_CONNECTED, 3 for DEPTHWISE_CONV_2D); `num_channels` the number of output channels.
// Returns kUnsupported (so that another kernel is tried) when the input is not int8, uint8 or
// int16, and a descriptive error for inconsistent quantized tensors.
// `int8_weight_zero_point`: TFLite's int8 FULLY_CONNECTED honours a per-tensor weight zero
// point (weights_offset); its convolutions require 0.
Result<ConvQuant> prepare_conv_quant(const std::string& op, const TensorRef& input,
                                     const TensorRef& filter, const TensorRef* bias,
                                     const TensorRef& output, int32_t num_channels,
                                     int32_t channel_axis, graph::Activation activation,
                                     bool int8_weight_zero_point = false);

}  // namespace qdet::rt::quantized
