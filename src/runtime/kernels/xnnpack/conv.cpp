// CONV_2D and DEPTHWISE_CONV_2D as xnn_convolution2d_nhwc_f32 operators.
//
// TFLite layouts map onto XNNPACK's without repacking:
//   CONV_2D filter [Cout, KH, KW, Cin] = XNNPACK [groups=1, Cout, KH, KW, Cin];
//   DEPTHWISE_CONV_2D filter [1, KH, KW, C*M] = XNNPACK's XNN_FLAG_DEPTHWISE_CONVOLUTION layout
//   [KH, KW, groups=C, M] (output channel c*M+m is group c's m-th output in both).
// Padding is computed here with TFLite's rule and passed explicitly, so SAME with even
// totals, odd sizes and stride 2 match TFLite exactly.
#include "runtime/kernels/xnnpack/conv_common.h"
#include "runtime/kernels/xnnpack/kernels.h"
#include "runtime/kernels/xnnpack/xnn_common.h"

namespace qdet::rt::xnn {
namespace {

// What xnn_create_convolution2d_nhwc_f32 was given, kept so that a folded PAD can re-create
// the operator with more padding (the filter and bias are constants of the model).
struct ConvParams {
  uint32_t pad_top, pad_right, pad_bottom, pad_left;
  uint32_t kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w;
  uint32_t groups;
  size_t group_in, group_out, in_stride, out_stride;
  const float* filter;
  const float* bias;
  OutputRange range;
  uint32_t flags;
};

struct ConvData : XnnOpData {
  size_t batch = 0, height = 0, width = 0;
  ConvParams params;
};

xnn_status create_operator(const ConvParams& p, xnn_operator_t* op) {
  return xnn_create_convolution2d_nhwc_f32(
      p.pad_top, p.pad_right, p.pad_bottom, p.pad_left, p.kernel_h, p.kernel_w, p.stride_h,
      p.stride_w, p.dilation_h, p.dilation_w, p.groups, p.group_in, p.group_out, p.in_stride,
      p.out_stride, p.filter, p.bias, p.range.min, p.range.max, p.flags, op);
}

// Float checks on top of conv_geometry(): every tensor float32.
Result<ConvGeometry> check_conv(PrepareContext& ctx, int32_t filter_out_channels_axis) {
  QDET_ASSIGN_OR_RETURN(ConvGeometry g, conv_geometry(ctx, filter_out_channels_axis));
  QDET_TRY(require_float32(ctx, ctx.inputs, "input"));
  if (ctx.outputs[0]->dtype != DType::kFloat32)
    return unsupported("{}: output is {}, not float32", op_label(ctx),
                       dtype_name(ctx.outputs[0]->dtype));
  return g;
}

Status create_conv(PrepareContext& ctx, const ConvGeometry& g, uint32_t groups,
                   size_t group_in, size_t group_out, uint32_t flags) {
  QDET_ASSIGN_OR_RETURN(OutputRange range, activation_range(ctx, ctx.op.attrs.activation));
  const graph::OpAttrs& a = ctx.op.attrs;
  const float* bias = ctx.inputs.size() > 2 && ctx.inputs[2] != nullptr
                          ? ctx.inputs[2]->as<const float>()
                          : nullptr;
  auto data = std::make_unique<ConvData>();
  data->params = {static_cast<uint32_t>(g.pad_h.before),
                  static_cast<uint32_t>(g.pad_w.after),
                  static_cast<uint32_t>(g.pad_h.after),
                  static_cast<uint32_t>(g.pad_w.before),
                  static_cast<uint32_t>(g.kernel_h),
                  static_cast<uint32_t>(g.kernel_w),
                  static_cast<uint32_t>(a.stride_h),
                  static_cast<uint32_t>(a.stride_w),
                  static_cast<uint32_t>(a.dilation_h),
                  static_cast<uint32_t>(a.dilation_w),
                  groups,
                  group_in,
                  group_out,
                  /*in_stride=*/groups * group_in,
                  /*out_stride=*/groups * group_out,
                  ctx.inputs[1]->as<const float>(),
                  bias,
                  range,
                  flags};
  const xnn_status status = create_operator(data->params, &data->op);
  data->batch = static_cast<size_t>(g.batch);
  data->height = static_cast<size_t>(g.in_h);
  data->width = static_cast<size_t>(g.in_w);
  Shape out_shape = {g.batch, g.pad_h.out, g.pad_w.out, static_cast<int32_t>(data->params.out_stride)};
  return finish_prepare(ctx, std::move(data), std::move(out_shape), status, "xnn_create_convolution2d_nhwc_f32");
}

Status conv2d_prepare(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(ConvGeometry g, check_conv(ctx, /*filter_out_channels_axis=*/0));
  const Shape& filter = ctx.inputs[1]->shape;
  // TFLite's grouped convolution (filter Cin dividing input Cin) is left to the reference.
  if (filter[3] != g.in_c)
    return unsupported("{}: filter {} does not match input channels {}", op_label(ctx),
                       shape_to_string(filter), g.in_c);
  return create_conv(ctx, g, /*groups=*/1, static_cast<size_t>(g.in_c),
                     static_cast<size_t>(filter[0]), /*flags=*/0);
}

Status depthwise_conv2d_prepare(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(ConvGeometry g, check_conv(ctx, /*filter_out_channels_axis=*/3));
  const Shape& filter = ctx.inputs[1]->shape;
  if (filter[0] != 1 || filter[3] % g.in_c != 0)
    return unsupported("{}: filter {} is not [1,KH,KW,{}*M]", op_label(ctx),
                       shape_to_string(filter), g.in_c);
  const int32_t multiplier = filter[3] / g.in_c;
  return create_conv(ctx, g, /*groups=*/static_cast<uint32_t>(g.in_c), /*group_in=*/1,
                     static_cast<size_t>(multiplier), XNN_FLAG_DEPTHWISE_CONVOLUTION);
}

Status conv_eval(EvalContext& ctx) {
  auto* data = op_data_as<ConvData>(ctx);
  xnn_status status = xnn_setup_convolution2d_nhwc_f32(
      data->op, data->batch, data->height, data->width, ctx.inputs[0]->as<const float>(),
      ctx.outputs[0]->as<float>(), ctx.threadpool);
  if (status != xnn_status_success)
    return xnn_eval_failure(ctx, "xnn_setup_convolution2d_nhwc_f32", status);
  status = xnn_run_operator(data->op, ctx.threadpool);
  if (status != xnn_status_success) return xnn_eval_failure(ctx, "xnn_run_operator", status);
  return ok_status();
}

// A zero PAD before the convolution becomes more of the operator's
// own padding (conv_common.h).
bool fold_input_pad(OpData* op_data, const Shape& unpadded, const SpatialPad& pad) {
  return fold_pad_into_operator(static_cast<ConvData*>(op_data), unpadded, pad, create_operator);
}

}  // namespace

const Kernel kConv2d = {"xnnpack", conv2d_prepare, conv_eval, fold_input_pad};
const Kernel kDepthwiseConv2d = {"xnnpack", depthwise_conv2d_prepare, conv_eval, fold_input_pad};

}  // namespace qdet::rt::xnn
