// Quantization parameters shared by CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED: which
// integer family the op belongs to, the zero-point offsets, the per-channel output multipliers
// and the fused activation's clamp, all computed at prepare time.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "runtime/kernel.h"
#include "runtime/kernel_util.h"
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

// The tensors of a quantized CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED at prepare: input 0,
// filter 1, optional bias 2 (nullptr when absent), output 0; an error naming `op` when input,
// filter or output is missing.
struct WeightedTensors {
  const TensorRef& input;
  const TensorRef& filter;
  const TensorRef* bias;
  TensorRef& output;
};
Result<WeightedTensors> weighted_tensors(const PrepareContext& ctx, const std::string& op);

// The fp32 requantization scale of output channel `channel` as XNNPACK computes it (in_scale x
// w_scale / out_scale in float) for qdet's 8-bit SIMD kernels, or kUnsupported where XNNPACK's
// arithmetic refuses it (a weight scale that is not a positive normal float, a scale outside
// [2^-32, 256)), so such an op runs where XNNPACK's checks apply.
Result<float> xnnpack_requantization_scale(const WeightedTensors& t, int32_t channel);

// The geometry of a quantized CONV_2D or DEPTHWISE_CONV_2D (strides and dilations must be
// positive; filter [.., kh, kw, ..] with `out_c` output channels), and its output shape.
Status fill_quantized_conv_geometry(const PrepareContext& ctx, const std::string& op,
                                    const WeightedTensors& t, int32_t out_c, ConvGeometry* g);

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

// Output channel `oc`'s value from its accumulator (TFLite's reference kernels): the bias
// added (when there is one), rescaled by the channel's multiplier, moved by the output zero
// point and clamped to the fused activation.
template <typename Out, typename Acc, typename Bias>
Out requantize_accumulator(const ConvQuant& q, Acc acc, const Bias* bias, int32_t oc) {
  if (bias != nullptr) acc += static_cast<Acc>(bias[oc]);
  int32_t v = multiply_by_quantized_multiplier(acc, q.multipliers.multiplier[oc], q.multipliers.shift[oc]);
  v += q.output_offset;
  return static_cast<Out>(std::clamp(v, q.activation.min, q.activation.max));
}

// The element types of one integer family's kernel.
template <typename InT, typename FilterT, typename BiasT, typename AccT, typename OutT>
struct ConvTypes {
  using In = InT;
  using Filter = FilterT;
  using Bias = BiasT;
  using Acc = AccT;  // TFLite accumulates in the bias type: int64 (the 16x8 default), or int32
  using Out = OutT;
};

// Calls fn(ConvTypes<...>{}) with the element types of q's family, as TFLite's reference
// CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED kernels instantiate them.
template <typename Fn>
void with_conv_types(const ConvQuant& q, Fn&& fn) {
  switch (q.family) {
    case ConvFamily::kUInt8: fn(ConvTypes<uint8_t, uint8_t, int32_t, int32_t, uint8_t>{}); return;
    case ConvFamily::kInt8: fn(ConvTypes<int8_t, int8_t, int32_t, int32_t, int8_t>{}); return;
    case ConvFamily::kInt16x8:
      if (q.bias_dtype == DType::kInt32)
        fn(ConvTypes<int16_t, int8_t, int32_t, int32_t, int16_t>{});
      else
        fn(ConvTypes<int16_t, int8_t, int64_t, int64_t, int16_t>{});
      return;
  }
}

// The operands of a quantized CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED at eval, typed by
// the op's family (ConvTypes): input 0, filter 1, optional bias 2, output 0.
template <typename T>
struct ConvOperands {
  using In = typename T::In;
  using Filter = typename T::Filter;
  using Bias = typename T::Bias;
  using Acc = typename T::Acc;
  using Out = typename T::Out;
  const In* in;
  const Filter* filter;
  const Bias* bias;  // nullptr without a bias
  Out* out;
  explicit ConvOperands(const EvalContext& ctx)
      : in(ctx.inputs[0]->as<const In>()),
        filter(ctx.inputs[1]->as<const Filter>()),
        bias(ctx.inputs.size() > 2 && ctx.inputs[2] != nullptr ? ctx.inputs[2]->as<const Bias>() : nullptr),
        out(ctx.outputs[0]->as<Out>()) {}
};

// The eval of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED: kernel(ConvOperands<T>(ctx)) with
// T the element types of q's family.
template <typename Kernel>
Status run_conv_kernel(const EvalContext& ctx, const ConvQuant& q, Kernel&& kernel) {
  with_conv_types(q, [&](auto t) { kernel(ConvOperands<decltype(t)>(ctx)); });
  return ok_status();
}

}  // namespace qdet::rt::quantized
