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

struct QuantizedConvData : XnnOpData {
  QuantFamily family = QuantFamily::kQs8;
  size_t batch = 0, height = 0, width = 0;
};

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
  const auto pt = static_cast<uint32_t>(g.pad_h.before), pr = static_cast<uint32_t>(g.pad_w.after),
             pb = static_cast<uint32_t>(g.pad_h.after), pl = static_cast<uint32_t>(g.pad_w.before);
  const auto kh = static_cast<uint32_t>(g.kernel_h), kw = static_cast<uint32_t>(g.kernel_w);
  const auto sh = static_cast<uint32_t>(a.stride_h), sw = static_cast<uint32_t>(a.stride_w);
  const auto dh = static_cast<uint32_t>(a.dilation_h), dw = static_cast<uint32_t>(a.dilation_w);
  const size_t in_stride = groups * group_in, out_stride = groups * group_out;
  const int32_t* bias_data = bias != nullptr ? bias->as<const int32_t>() : nullptr;

  auto data = std::make_unique<QuantizedConvData>();
  xnn_status status = xnn_status_invalid_state;
  const char* create_name;
  if (input.dtype == DType::kUInt8) {
    data->family = QuantFamily::kQu8;
    create_name = "xnn_create_convolution2d_nhwc_qu8";
    status = xnn_create_convolution2d_nhwc_qu8(
        pt, pr, pb, pl, kh, kw, sh, sw, dh, dw, groups, group_in, group_out, in_stride,
        out_stride, static_cast<uint8_t>(input.zero_point()), input.scale(),
        static_cast<uint8_t>(filter.zero_point()), filter.scale(),
        filter.as<const uint8_t>(), bias_data, static_cast<uint8_t>(output.zero_point()),
        output.scale(), static_cast<uint8_t>(range.min), static_cast<uint8_t>(range.max), flags,
        &data->op);
  } else if (filter_scales.size() > 1) {
    data->family = QuantFamily::kQc8;
    create_name = "xnn_create_convolution2d_nhwc_qc8";
    status = xnn_create_convolution2d_nhwc_qc8(
        pt, pr, pb, pl, kh, kw, sh, sw, dh, dw, groups, group_in, group_out, in_stride,
        out_stride, static_cast<int8_t>(input.zero_point()), input.scale(), filter_scales.data(),
        filter.as<const int8_t>(), bias_data, static_cast<int8_t>(output.zero_point()),
        output.scale(), static_cast<int8_t>(range.min), static_cast<int8_t>(range.max), flags,
        &data->op);
  } else {
    data->family = QuantFamily::kQs8;
    create_name = "xnn_create_convolution2d_nhwc_qs8";
    status = xnn_create_convolution2d_nhwc_qs8(
        pt, pr, pb, pl, kh, kw, sh, sw, dh, dw, groups, group_in, group_out, in_stride,
        out_stride, static_cast<int8_t>(input.zero_point()), input.scale(), filter.scale(),
        filter.as<const int8_t>(), bias_data, static_cast<int8_t>(output.zero_point()),
        output.scale(), static_cast<int8_t>(range.min), static_cast<int8_t>(range.max), flags,
        &data->op);
  }
  if (status != xnn_status_success) return xnn_failure(ctx, create_name, status);
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
  switch (data->family) {
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

}  // namespace

const Kernel kConv2dQuantized = {"xnnpack", conv2d_prepare, quantized_conv_eval};
const Kernel kDepthwiseConv2dQuantized = {"xnnpack", depthwise_conv2d_prepare,
                                          quantized_conv_eval};

}  // namespace qdet::rt::xnn
