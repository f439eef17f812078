// Quantized CONV_2D and DEPTHWISE_CONV_2D as XNNPACK convolution operators:
//   int8 input, int8 per-channel weights (zero point 0)  -> xnn_convolution2d_nhwc_qc8
//   int8 input, int8 per-tensor weights (zero point 0)   -> xnn_convolution2d_nhwc_qs8
//   uint8 input, uint8 per-tensor weights with a zero point -> xnn_convolution2d_nhwc_qu8
// Filter layouts are the float ones (conv.cpp). XNNPACK requantizes in fp32 (acc * scale,
// one round-half-to-even), TFLite's reference in double-rounding fixed point: results agree
// within one step, and equal what TFLite runs through its XNNPACK delegate. XNNPACK refuses
// requantization scales >= 256 (and non-normal scales): the reference kernel then runs the op.
#include <cmath>

#include "runtime/kernels/reference/quantized/conv_params.h"
#include "runtime/kernels/xnnpack/conv_common.h"
#include "runtime/kernels/xnnpack/kernels.h"

namespace qdet::rt::xnn {
namespace {

enum class QuantFamily : uint8_t { kQc8, kQs8, kQu8 };

// What the xnn_create_convolution2d_nhwc_q* call was given, kept so that a folded PAD can
// re-create the operator with more padding (filter, bias and scales are the model's constants).
struct QuantConvParams {
  QuantFamily family = QuantFamily::kQs8;
  uint32_t pad_top, pad_right, pad_bottom, pad_left;
  uint32_t kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w;
  uint32_t groups;
  size_t group_in, group_out, in_stride, out_stride;
  int32_t input_zero_point, filter_zero_point, output_zero_point, out_min, out_max;
  float input_scale, filter_scale, output_scale;
  const float* filter_scales;  // per channel (qc8)
  const void* filter;
  const int32_t* bias;
  uint32_t flags;
};

struct QuantizedConvData : XnnOpData {
  size_t batch = 0, height = 0, width = 0;
  QuantConvParams params;
};

const char* create_name(QuantFamily family) {
  switch (family) {
    case QuantFamily::kQu8: return "xnn_create_convolution2d_nhwc_qu8";
    case QuantFamily::kQc8: return "xnn_create_convolution2d_nhwc_qc8";
    case QuantFamily::kQs8: break;
  }
  return "xnn_create_convolution2d_nhwc_qs8";
}

xnn_status create_operator(const QuantConvParams& p, xnn_operator_t* op) {
  switch (p.family) {
    case QuantFamily::kQu8:
      return xnn_create_convolution2d_nhwc_qu8(
          p.pad_top, p.pad_right, p.pad_bottom, p.pad_left, p.kernel_h, p.kernel_w, p.stride_h, p.stride_w,
          p.dilation_h, p.dilation_w, p.groups, p.group_in, p.group_out, p.in_stride, p.out_stride,
          static_cast<uint8_t>(p.input_zero_point), p.input_scale, static_cast<uint8_t>(p.filter_zero_point),
          p.filter_scale, static_cast<const uint8_t*>(p.filter), p.bias, static_cast<uint8_t>(p.output_zero_point),
          p.output_scale, static_cast<uint8_t>(p.out_min), static_cast<uint8_t>(p.out_max), p.flags, op);
    case QuantFamily::kQc8:
      return xnn_create_convolution2d_nhwc_qc8(
          p.pad_top, p.pad_right, p.pad_bottom, p.pad_left, p.kernel_h, p.kernel_w, p.stride_h, p.stride_w,
          p.dilation_h, p.dilation_w, p.groups, p.group_in, p.group_out, p.in_stride, p.out_stride,
          static_cast<int8_t>(p.input_zero_point), p.input_scale, p.filter_scales,
          static_cast<const int8_t*>(p.filter), p.bias, static_cast<int8_t>(p.output_zero_point), p.output_scale,
          static_cast<int8_t>(p.out_min), static_cast<int8_t>(p.out_max), p.flags, op);
    case QuantFamily::kQs8: break;
  }
  return xnn_create_convolution2d_nhwc_qs8(
      p.pad_top, p.pad_right, p.pad_bottom, p.pad_left, p.kernel_h, p.kernel_w, p.stride_h, p.stride_w,
      p.dilation_h, p.dilation_w, p.groups, p.group_in, p.group_out, p.in_stride, p.out_stride,
      static_cast<int8_t>(p.input_zero_point), p.input_scale, p.filter_scale, static_cast<const int8_t*>(p.filter),
      p.bias, static_cast<int8_t>(p.output_zero_point), p.output_scale, static_cast<int8_t>(p.out_min),
      static_cast<int8_t>(p.out_max), p.flags, op);
}

Status create_quantized_conv(PrepareContext& ctx, const ConvGeometry& g, int32_t channel_axis,
                             uint32_t groups, size_t group_in, size_t group_out, uint32_t flags) {
  const TensorRef& input = *ctx.inputs[0];
  const TensorRef& filter = *ctx.inputs[1];
  const TensorRef* bias = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
  const TensorRef& output = *ctx.outputs[0];
  const int32_t channels = static_cast<int32_t>(groups * group_out);
  if (input.dtype != DType::kInt8 && input.dtype != DType::kUInt8)
    return unsupported("{}: input is {}, xnnpack quantized convolutions take int8 or uint8",
                       op_label(ctx), dtype_name(input.dtype));
  // The reference's checks of dtypes, zero points, per-channel axis and bias; anything it
  // refuses is left to it (it then reports its own error).
  auto checked = quantized::prepare_conv_quant(op_label(ctx), input, filter, bias, output,
                                               channels, channel_axis, ctx.op.attrs.activation);
  if (!checked.ok()) return Status(StatusCode::kUnsupported, checked.status().message());
  QDET_TRY(require_per_tensor(ctx, input, input.dtype, "input"));
  QDET_TRY(require_per_tensor(ctx, output, input.dtype, "output"));
  QDET_ASSIGN_OR_RETURN(QuantizedRange range,
                        quantized_activation_range(ctx, ctx.op.attrs.activation, output));
  const std::vector<float>& filter_scales = filter.quant->scale;
  for (float s : filter_scales) {
    if (!std::isnormal(s) || s <= 0.0f)
      return unsupported("{}: filter scale {} is not a positive normal number", op_label(ctx),
                         s);
    QDET_TRY(require_requantization_scale(ctx, input.scale() * s / output.scale()));
  }

  const graph::OpAttrs& a = ctx.op.attrs;
  auto data = std::make_unique<QuantizedConvData>();
  QuantConvParams& p = data->params;
  p.family = input.dtype == DType::kUInt8 ? QuantFamily::kQu8
             : filter_scales.size() > 1   ? QuantFamily::kQc8
                                          : QuantFamily::kQs8;
  p.pad_top = static_cast<uint32_t>(g.pad_h.before);
  p.pad_right = static_cast<uint32_t>(g.pad_w.after);
  p.pad_bottom = static_cast<uint32_t>(g.pad_h.after);
  p.pad_left = static_cast<uint32_t>(g.pad_w.before);
  p.kernel_h = static_cast<uint32_t>(g.kernel_h);
  p.kernel_w = static_cast<uint32_t>(g.kernel_w);
  p.stride_h = static_cast<uint32_t>(a.stride_h);
  p.stride_w = static_cast<uint32_t>(a.stride_w);
  p.dilation_h = static_cast<uint32_t>(a.dilation_h);
  p.dilation_w = static_cast<uint32_t>(a.dilation_w);
  p.groups = groups;
  p.group_in = group_in;
  p.group_out = group_out;
  p.in_stride = groups * group_in;
  p.out_stride = groups * group_out;
  p.input_zero_point = input.zero_point();
  p.filter_zero_point = p.family == QuantFamily::kQc8 ? 0 : filter.zero_point();
  p.output_zero_point = output.zero_point();
  p.out_min = range.min;
  p.out_max = range.max;
  p.input_scale = input.scale();
  p.filter_scale = p.family == QuantFamily::kQc8 ? 0.0f : filter.scale();
  p.output_scale = output.scale();
  p.filter_scales = filter_scales.data();
  p.filter = filter.data;
  p.bias = bias != nullptr ? bias->as<const int32_t>() : nullptr;
  p.flags = flags;
  const xnn_status status = create_operator(p, &data->op);
  if (status != xnn_status_success) return xnn_failure(ctx, create_name(p.family), status);
  data->batch = static_cast<size_t>(g.batch);
  data->height = static_cast<size_t>(g.in_h);
  data->width = static_cast<size_t>(g.in_w);
  ctx.outputs[0]->shape = {g.batch, g.pad_h.out, g.pad_w.out, channels};
  ctx.op_data = std::move(data);
  return ok_status();
}

Status conv2d_prepare(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(ConvGeometry g, conv_geometry(ctx, /*filter_out_channels_axis=*/0));
  const Shape& filter = ctx.inputs[1]->shape;
  if (filter[3] != g.in_c)
    return unsupported("{}: filter {} does not match input channels {}", op_label(ctx),
                       shape_to_string(filter), g.in_c);
  return create_quantized_conv(ctx, g, /*channel_axis=*/0, /*groups=*/1,
                               static_cast<size_t>(g.in_c), static_cast<size_t>(filter[0]),
                               /*flags=*/0);
}

Status depthwise_conv2d_prepare(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(ConvGeometry g, conv_geometry(ctx, /*filter_out_channels_axis=*/3));
  const Shape& filter = ctx.inputs[1]->shape;
  if (filter[0] != 1 || filter[3] % g.in_c != 0)
    return unsupported("{}: filter {} is not [1,KH,KW,{}*M]", op_label(ctx),
                       shape_to_string(filter), g.in_c);
  const int32_t multiplier = filter[3] / g.in_c;
  return create_quantized_conv(ctx, g, /*channel_axis=*/3, static_cast<uint32_t>(g.in_c),
                               /*group_in=*/1, static_cast<size_t>(multiplier),
                               XNN_FLAG_DEPTHWISE_CONVOLUTION);
}

Status quantized_conv_eval(EvalContext& ctx) {
  auto* data = op_data_as<QuantizedConvData>(ctx);
  const uint8_t* in = ctx.inputs[0]->data;
  uint8_t* out = ctx.outputs[0]->data;
  xnn_status status = xnn_status_invalid_state;
  switch (data->params.family) {
    case QuantFamily::kQc8:
      status = xnn_setup_convolution2d_nhwc_qc8(
          data->op, data->batch, data->height, data->width, reinterpret_cast<const int8_t*>(in),
          reinterpret_cast<int8_t*>(out), ctx.threadpool);
      break;
    case QuantFamily::kQs8:
      status = xnn_setup_convolution2d_nhwc_qs8(
          data->op, data->batch, data->height, data->width, reinterpret_cast<const int8_t*>(in),
          reinterpret_cast<int8_t*>(out), ctx.threadpool);
      break;
    case QuantFamily::kQu8:
      status = xnn_setup_convolution2d_nhwc_qu8(data->op, data->batch, data->height,
                                                data->width, in, out, ctx.threadpool);
      break;
  }
  if (status != xnn_status_success)
    return xnn_eval_failure(ctx, "xnn_setup_convolution2d_nhwc (quantized)", status);
  status = xnn_run_operator(data->op, ctx.threadpool);
  if (status != xnn_status_success) return xnn_eval_failure(ctx, "xnn_run_operator", status);
  return ok_status();
}

// A PAD of the input zero point before the convolution becomes more of the operator's
// own padding (conv_common.h).
bool fold_input_pad(OpData* op_data, const Shape& unpadded, const SpatialPad& pad) {
  return fold_pad_into_operator(static_cast<QuantizedConvData*>(op_data), unpadded, pad, create_operator);
}

}  // namespace

const Kernel kConv2dQuantized = {"xnnpack", conv2d_prepare, quantized_conv_eval, fold_input_pad};
const Kernel kDepthwiseConv2dQuantized = {"xnnpack", depthwise_conv2d_prepare, quantized_conv_eval,
                                          fold_input_pad};

}  // namespace qdet::rt::xnn
