#include "runtime/kernels/xnnpack/conv_common.h"

namespace qdet::rt::xnn {

Result<ConvGeometry> conv_geometry(PrepareContext& ctx, int32_t filter_out_channels_axis) {
  QDET_TRY(ensure_initialized());
  if (ctx.inputs.size() < 2 || ctx.inputs.size() > 3 || ctx.outputs.size() != 1 ||
      ctx.inputs[0] == nullptr || ctx.inputs[1] == nullptr)
    return unsupported("{}: expects input, filter, optional bias and one output", op_label(ctx));
  QDET_TRY(require_nonempty(ctx, ctx.inputs, "input"));
  const TensorRef& input = *ctx.inputs[0];
  const TensorRef& filter = *ctx.inputs[1];
  const TensorRef* bias = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
  if (input.shape.size() != 4 || filter.shape.size() != 4)
    return unsupported("{}: input {} and filter {} must be 4-D", op_label(ctx),
                       shape_to_string(input.shape), shape_to_string(filter.shape));
  if (!filter.is_constant || filter.data == nullptr)
    return unsupported("{}: filter is not constant (xnnpack packs weights once)", op_label(ctx));
  if (bias != nullptr) {
    if (!bias->is_constant || bias->data == nullptr)
      return unsupported("{}: bias is not constant", op_label(ctx));
    if (bias->num_elements() != filter.shape[filter_out_channels_axis])
      return unsupported("{}: bias {} does not match filter {}", op_label(ctx),
                         shape_to_string(bias->shape), shape_to_string(filter.shape));
  }
  const graph::OpAttrs& a = ctx.op.attrs;
  if (a.stride_h < 1 || a.stride_w < 1 || a.dilation_h < 1 || a.dilation_w < 1)
    return unsupported("{}: stride {}x{} dilation {}x{} must be >= 1", op_label(ctx), a.stride_h,
                       a.stride_w, a.dilation_h, a.dilation_w);
  ConvGeometry g;
  g.batch = input.shape[0];
  g.in_h = input.shape[1];
  g.in_w = input.shape[2];
  g.in_c = input.shape[3];
  g.kernel_h = filter.shape[1];
  g.kernel_w = filter.shape[2];
  auto pad_h = tflite_padding(a.padding, g.in_h, g.kernel_h, a.stride_h, a.dilation_h);
  auto pad_w = tflite_padding(a.padding, g.in_w, g.kernel_w, a.stride_w, a.dilation_w);
  if (!pad_h.ok()) return Status(StatusCode::kUnsupported, pad_h.status().message());
  if (!pad_w.ok()) return Status(StatusCode::kUnsupported, pad_w.status().message());
  g.pad_h = *pad_h;
  g.pad_w = *pad_w;
  return g;
}

}  // namespace qdet::rt::xnn
