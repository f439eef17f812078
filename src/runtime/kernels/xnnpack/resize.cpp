// RESIZE_BILINEAR as xnn_resize_bilinear2d_nhwc_f32. TFLite's coordinate modes map to flags:
//   align_corners                      -> XNN_FLAG_ALIGN_CORNERS
//   half_pixel_centers                 -> no flag (XNNPACK's default)
//   neither (TFLite's legacy mapping)  -> XNN_FLAG_TENSORFLOW_LEGACY_MODE
// The output size comes from the constant `size` input (int32 [new_h, new_w]).
#include "runtime/kernels/xnnpack/kernels.h"
#include "runtime/kernels/xnnpack/xnn_common.h"

namespace qdet::rt::xnn {
namespace {

struct ResizeData : XnnOpData, ResizeSizes {};

Status resize_bilinear_prepare(PrepareContext& ctx) {
  QDET_TRY(ensure_initialized());
  auto data = std::make_unique<ResizeData>();
  QDET_ASSIGN_OR_RETURN(Shape out_shape, resize_sizes(ctx, data.get()));
  QDET_TRY(require_float32(ctx, ctx.inputs.first(1), "input"));
  if (ctx.outputs[0]->dtype != DType::kFloat32)
    return unsupported("{}: output is {}, not float32", op_label(ctx),
                       dtype_name(ctx.outputs[0]->dtype));
  QDET_ASSIGN_OR_RETURN(const uint32_t flags, resize_bilinear_flags(ctx));
  const size_t channels = static_cast<size_t>(out_shape[3]);
  const xnn_status status =
      xnn_create_resize_bilinear2d_nhwc_f32(channels, channels, channels, flags, &data->op);
  return finish_prepare(ctx, std::move(data), std::move(out_shape), status,
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
