// RESIZE_BILINEAR as xnn_resize_bilinear2d_nhwc_f32. TFLite's coordinate modes map to flags:
//   align_corners                      -> XNN_FLAG_ALIGN_CORNERS
//   half_pixel_centers                 -> no flag (XNNPACK's default)
//   neither (TFLite's legacy mapping)  -> XNN_FLAG_TENSORFLOW_LEGACY_MODE
// The output size comes from the constant `size` input (int32 [new_h, new_w]).
#include "runtime/kernels/xnnpack/kernels.h"
#include "runtime/kernels/xnnpack/xnn_common.h"

namespace qdet::rt::xnn {
namespace {

struct ResizeData : XnnOpData {
  size_t batch = 0, in_h = 0, in_w = 0, out_h = 0, out_w = 0;
};

Status resize_bilinear_prepare(PrepareContext& ctx) {
  QDET_TRY(ensure_initialized());
  if (ctx.inputs.size() != 2 || ctx.outputs.size() != 1 || ctx.inputs[0] == nullptr ||
      ctx.inputs[1] == nullptr)
    return unsupported("{}: expects input, size and one output", op_label(ctx));
  QDET_TRY(require_float32(ctx, ctx.inputs.first(1), "input"));
  if (ctx.outputs[0]->dtype != DType::kFloat32)
    return unsupported("{}: output is {}, not float32", op_label(ctx),
                       dtype_name(ctx.outputs[0]->dtype));
  const TensorRef& input = *ctx.inputs[0];
  const TensorRef& size = *ctx.inputs[1];
  if (input.shape.size() != 4)
    return unsupported("{}: input {} must be 4-D", op_label(ctx), shape_to_string(input.shape));
  if (size.dtype != DType::kInt32 || size.num_elements() != 2 || !size.is_constant ||
      size.data == nullptr)
    return unsupported("{}: size must be a constant int32[2]", op_label(ctx));
  const int32_t out_h = size.as<const int32_t>()[0], out_w = size.as<const int32_t>()[1];
  if (out_h < 1 || out_w < 1)
    return unsupported("{}: output size {}x{} must be >= 1", op_label(ctx), out_h, out_w);
  const graph::OpAttrs& a = ctx.op.attrs;
  uint32_t flags = 0;
  if (a.align_corners && a.half_pixel_centers)
    return unsupported("{}: align_corners with half_pixel_centers", op_label(ctx));
  if (a.align_corners) flags = XNN_FLAG_ALIGN_CORNERS;
  else if (!a.half_pixel_centers) flags = XNN_FLAG_TENSORFLOW_LEGACY_MODE;

  const size_t channels = static_cast<size_t>(input.shape[3]);
  auto data = std::make_unique<ResizeData>();
  const xnn_status status =
      xnn_create_resize_bilinear2d_nhwc_f32(channels, channels, channels, flags, &data->op);
  data->batch = static_cast<size_t>(input.shape[0]);
  data->in_h = static_cast<size_t>(input.shape[1]);
  data->in_w = static_cast<size_t>(input.shape[2]);
  data->out_h = static_cast<size_t>(out_h);
  data->out_w = static_cast<size_t>(out_w);
  return finish_prepare(ctx, std::move(data), {input.shape[0], out_h, out_w, input.shape[3]}, status,
                        "xnn_create_resize_bilinear2d_nhwc_f32");
}

Status resize_bilinear_eval(EvalContext& ctx) {
  auto* data = op_data_as<ResizeData>(ctx);
  xnn_status status = xnn_setup_resize_bilinear2d_nhwc_f32(
      data->op, data->batch, data->in_h, data->in_w, data->out_h, data->out_w,
      ctx.inputs[0]->as<const float>(), ctx.outputs[0]->as<float>(), ctx.threadpool);
  return run_after_setup(ctx, data->op, status, "xnn_setup_resize_bilinear2d_nhwc_f32");
}

}  // namespace

const Kernel kResizeBilinear = {"xnnpack", resize_bilinear_prepare, resize_bilinear_eval};

}  // namespace qdet::rt::xnn
