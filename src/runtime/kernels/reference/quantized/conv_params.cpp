#include "runtime/kernels/reference/quantized/conv_params.h"

#include <cmath>

#include "runtime/kernels/reference/quantized/quantized_common.h"

namespace qdet::rt::quantized {

Result<WeightedTensors> weighted_tensors(const PrepareContext& ctx, const std::string& op) {
  QDET_ASSIGN_OR_RETURN(const TensorRef* input, required_input(ctx, 0, op));
  QDET_ASSIGN_OR_RETURN(const TensorRef* filter, required_input(ctx, 1, op));
  QDET_ASSIGN_OR_RETURN(TensorRef& output, single_output(ctx, op));
  return WeightedTensors{*input, *filter, optional_input(ctx, 2), output};
}

Status fill_quantized_conv_geometry(const PrepareContext& ctx, const std::string& op,
                                    const WeightedTensors& t, int32_t out_c, ConvGeometry* g) {
  const graph::OpAttrs& a = ctx.op.attrs;
  if (a.stride_h <= 0 || a.stride_w <= 0 || a.dilation_h <= 0 || a.dilation_w <= 0)
    return invalid_argument("{}: strides ({},{}) and dilations ({},{}) must be positive", op,
                            a.stride_h, a.stride_w, a.dilation_h, a.dilation_w);
  QDET_TRY(fill_conv_geometry(t.input, t.filter.shape[1], t.filter.shape[2], out_c, nullptr, a, g));
  t.output.shape = {g->batches, g->out_h, g->out_w, out_c};
  return ok_status();
}

Result<ConvQuant> prepare_conv_quant(const std::string& op, const TensorRef& input,
                                     const TensorRef& filter, const TensorRef* bias,
                                     const TensorRef& output, int32_t num_channels,
                                     int32_t channel_axis, graph::Activation activation,
                                     bool int8_weight_zero_point) {
  ConvQuant q;
  DType filter_dtype;
  switch (input.dtype) {
    case DType::kUInt8:
      q.family = ConvFamily::kUInt8;
      filter_dtype = DType::kUInt8;
      break;
    case DType::kInt8:
      q.family = ConvFamily::kInt8;
      filter_dtype = DType::kInt8;
      break;
    case DType::kInt16:
      q.family = ConvFamily::kInt16x8;
      filter_dtype = DType::kInt8;
      break;
    default:
      return unsupported("{}: quantized kernel does not handle {} input", op,
                         dtype_name(input.dtype));
  }
  // A hybrid op (float input, int8 weights) never gets here; int8 weights with uint8 input
  // and the like are invalid TFLite.
  if (filter.dtype != filter_dtype)
    return unsupported("{}: {} input needs {} weights, got {}", op, dtype_name(input.dtype),
                       dtype_name(filter_dtype), dtype_name(filter.dtype));
  if (output.dtype != input.dtype)
    return unsupported("{}: output dtype {} differs from input dtype {}", op,
                       dtype_name(output.dtype), dtype_name(input.dtype));
  QDET_TRY(check_per_tensor_quant(input, op + " input"));
  QDET_TRY(check_per_tensor_quant(output, op + " output"));

  const QuantParams& fq = *filter.quant;
  if (fq.scale.empty())
    return invalid_argument("{}: weights ({}) have no quantization parameters", op,
                            dtype_name(filter.dtype));
  if (fq.scale.size() != 1) {
    if (q.family == ConvFamily::kUInt8)
      return unsupported("{}: uint8 weights must be quantized per tensor, got {} scales", op,
                         fq.scale.size());
    if (fq.scale.size() != static_cast<size_t>(num_channels) ||
        fq.quantized_dimension != channel_axis)
      return invalid_argument(
          "{}: per-channel weights need {} scales along dimension {}, got {} along {}", op,
          num_channels, channel_axis, fq.scale.size(), fq.quantized_dimension);
  }
  if (q.family == ConvFamily::kUInt8 ||
      (q.family == ConvFamily::kInt8 && int8_weight_zero_point && fq.scale.size() == 1)) {
    QDET_TRY(check_per_tensor_quant(filter, op + " weights"));
    q.filter_offset = -static_cast<int32_t>(fq.zero_point.empty() ? 0 : fq.zero_point[0]);
  } else {
    // TFLite's int8 and 16x8 kernels ignore weight zero points: they must be 0 (symmetric).
    for (int64_t zp : fq.zero_point)
      if (zp != 0)
        return unsupported("{}: int8 weights must be symmetric (zero point 0), got {}", op, zp);
  }

  q.input_offset = -input.zero_point();
  q.output_offset = output.zero_point();
  if (q.family == ConvFamily::kInt16x8 && (input.zero_point() != 0 || output.zero_point() != 0))
    return invalid_argument("{}: int16 activations must have zero point 0 (input {}, output {})",
                            op, input.zero_point(), output.zero_point());

  if (bias != nullptr) {
    const bool ok_bias = q.family == ConvFamily::kInt16x8
                             ? (bias->dtype == DType::kInt64 || bias->dtype == DType::kInt32)
                             : bias->dtype == DType::kInt32;
    if (!ok_bias)
      return unsupported("{}: bias dtype {} does not fit {} input", op, dtype_name(bias->dtype),
                         dtype_name(input.dtype));
    if (bias->num_elements() != num_channels)
      return invalid_argument("{}: bias has {} elements for {} output channels", op,
                              bias->num_elements(), num_channels);
    q.bias_dtype = bias->dtype;
  }

  auto mult = per_channel_multipliers(input.scale(), fq.scale, output.scale(), num_channels);
  if (!mult.ok()) return mult.status().with_context(op);
  q.multipliers = std::move(mult).value();

  auto range = activation_range_quantized(activation, output.dtype, output.scale(),
                                          output.zero_point());
  if (!range.ok()) return range.status().with_context(op);
  q.activation = *range;
  return q;
}

Result<float> xnnpack_requantization_scale(const WeightedTensors& t, int32_t channel) {
  const std::vector<float>& w_scales = t.filter.quant->scale;
  const float ws = w_scales.size() > 1 ? w_scales[static_cast<size_t>(channel)] : w_scales[0];
  const float s = t.input.scale() * ws / t.output.scale();
  if (!std::isnormal(ws) || ws <= 0.0f || !(s >= 0x1.0p-32f && s < 256.0f))
    return unsupported("requantization scale {} outside what XNNPACK's arithmetic takes", s);
  return s;
}

}  // namespace qdet::rt::quantized
