// Quantized ops TFLite's XNNPACK delegate (what the official TFLite runs) takes from TFLite's own
// kernels, run by the same XNNPACK operators so that qdet's bytes are the delegate's:
//   ELU on int8: xnn_create_elu_nc_qs8 (a 256-entry table of alpha * expm1(x) rounded to
//     nearest-even; TFLite's own table rounds half away and uses exp(x) - 1);
//   RESIZE_BILINEAR on int8 / uint8: xnn_resize_bilinear2d_nhwc_{s8,u8} (11-bit fixed-point
//     weights; TFLite's own kernels use 10-bit (int8) or float (uint8) weights), the coordinate
//     mode mapped as for float32 (resize.cpp);
//   MEAN over H and W of a 4-D input with keep_dims, int8 / uint8:
//     xnn_global_average_pooling_nwc_{qs8,qu8} over the H * W pixels (fp32 requantization of
//     the sum minus count * z_in, scaled by s_in / s_out / count).
// Each accepts only what the delegate accepts (per-tensor parameters, zero points in range);
// the reference kernels run everything else.
#include "runtime/kernels/xnnpack/kernels.h"
#include "runtime/kernels/xnnpack/xnn_common.h"

namespace qdet::rt::xnn {
namespace {

struct QuantizedOpData : XnnOpData {
  bool is_signed = true;
  size_t batch = 0, elements = 0;
};

Status require_one_in_one_out(const PrepareContext& ctx, size_t inputs) {
  QDET_TRY(require_arity(ctx, inputs));
  return require_nonempty(ctx, ctx.inputs.first(1), "input");
}

Status elu_prepare(PrepareContext& ctx) {
  QDET_TRY(ensure_initialized());
  QDET_TRY(require_one_in_one_out(ctx, 1));
  const TensorRef& in = *ctx.inputs[0];
  const TensorRef& out = *ctx.outputs[0];
  if (in.dtype != DType::kInt8) return unsupported("{}: input is {}, not int8", op_label(ctx), dtype_name(in.dtype));
  QDET_TRY(require_per_tensor(ctx, in, in.dtype, "input"));
  QDET_TRY(require_per_tensor(ctx, out, in.dtype, "output"));
  auto data = std::make_unique<QuantizedOpData>();
  const xnn_status status = xnn_create_elu_nc_qs8(
      1, 1, 1, 1.0f, static_cast<int8_t>(in.zero_point()), in.scale(), static_cast<int8_t>(out.zero_point()),
      out.scale(), INT8_MIN, INT8_MAX, /*flags=*/0, &data->op);
  data->elements = static_cast<size_t>(in.num_elements());
  return finish_prepare(ctx, std::move(data), in.shape, status, "xnn_create_elu_nc_qs8");
}

Status elu_eval(EvalContext& ctx) {
  auto* data = op_data_as<QuantizedOpData>(ctx);
  return run_after_setup(ctx, data->op,
                         xnn_setup_elu_nc_qs8(data->op, data->elements, ctx.inputs[0]->as<const int8_t>(),
                                              ctx.outputs[0]->as<int8_t>(), ctx.threadpool),
                         "xnn_setup_elu_nc_qs8");
}

struct QuantizedResizeData : XnnOpData, ResizeSizes {
  bool is_signed = true;
};

Status resize_prepare(PrepareContext& ctx) {
  QDET_TRY(ensure_initialized());
  auto data = std::make_unique<QuantizedResizeData>();
  QDET_ASSIGN_OR_RETURN(Shape out_shape, resize_sizes(ctx, data.get()));
  const TensorRef& in = *ctx.inputs[0];
  if (in.dtype != DType::kInt8 && in.dtype != DType::kUInt8)
    return unsupported("{}: input is {}, not int8 or uint8", op_label(ctx), dtype_name(in.dtype));
  if (ctx.outputs[0]->dtype != in.dtype)
    return unsupported("{}: needs an output of the input's dtype", op_label(ctx));
  QDET_ASSIGN_OR_RETURN(const uint32_t flags, resize_bilinear_flags(ctx));
  data->is_signed = in.dtype == DType::kInt8;
  const size_t c = static_cast<size_t>(in.shape[3]);
  const xnn_status status = data->is_signed ? xnn_create_resize_bilinear2d_nhwc_s8(c, c, c, flags, &data->op)
                                            : xnn_create_resize_bilinear2d_nhwc_u8(c, c, c, flags, &data->op);
  return finish_prepare(ctx, std::move(data), std::move(out_shape), status,
                        "xnn_create_resize_bilinear2d_nhwc_{s,u}8");
}

Status resize_eval(EvalContext& ctx) {
  auto* d = op_data_as<QuantizedResizeData>(ctx);
  return run_8bit(ctx, d->op, d->is_signed, xnn_setup_resize_bilinear2d_nhwc_s8,
                  xnn_setup_resize_bilinear2d_nhwc_u8, "xnn_setup_resize_bilinear2d_nhwc_{s,u}8",
                  d->batch, d->in_h, d->in_w, d->out_h, d->out_w);
}

// The MEAN the delegate takes: 4-D, keep_dims, constant axes exactly {1, 2} or {2, 1}.
bool is_mean_over_hw(const PrepareContext& ctx) {
  const TensorRef* axes = ctx.inputs[1];
  if (axes == nullptr || axes->dtype != DType::kInt32 || !axes->is_constant || axes->data == nullptr ||
      axes->num_elements() != 2 || !ctx.op.attrs.keep_dims || ctx.inputs[0]->shape.size() != 4)
    return false;
  const int32_t a0 = axes->as<const int32_t>()[0], a1 = axes->as<const int32_t>()[1];
  return (a0 == 1 && a1 == 2) || (a0 == 2 && a1 == 1);
}

Status mean_prepare(PrepareContext& ctx) {
  QDET_TRY(ensure_initialized());
  QDET_TRY(require_one_in_one_out(ctx, 2));
  const TensorRef& in = *ctx.inputs[0];
  const TensorRef& out = *ctx.outputs[0];
  if (in.dtype != DType::kInt8 && in.dtype != DType::kUInt8)
    return unsupported("{}: input is {}, not int8 or uint8", op_label(ctx), dtype_name(in.dtype));
  if (!is_mean_over_hw(ctx)) return unsupported("{}: only the mean over H and W with keep_dims", op_label(ctx));
  QDET_TRY(require_per_tensor(ctx, in, in.dtype, "input"));
  QDET_TRY(require_per_tensor(ctx, out, in.dtype, "output"));
  auto data = std::make_unique<QuantizedOpData>();
  data->is_signed = in.dtype == DType::kInt8;
  const size_t c = static_cast<size_t>(in.shape[3]);
  const xnn_status status =
      data->is_signed
          ? xnn_create_global_average_pooling_nwc_qs8(
                c, c, c, static_cast<int8_t>(in.zero_point()), in.scale(), static_cast<int8_t>(out.zero_point()),
                out.scale(), INT8_MIN, INT8_MAX, /*flags=*/0, &data->op)
          : xnn_create_global_average_pooling_nwc_qu8(
                c, c, c, static_cast<uint8_t>(in.zero_point()), in.scale(), static_cast<uint8_t>(out.zero_point()),
                out.scale(), 0, UINT8_MAX, /*flags=*/0, &data->op);
  data->batch = static_cast<size_t>(in.shape[0]);
  data->elements = static_cast<size_t>(in.shape[1]) * static_cast<size_t>(in.shape[2]);
  return finish_prepare(ctx, std::move(data), {in.shape[0], 1, 1, in.shape[3]}, status,
                        "xnn_create_global_average_pooling_nwc_q{s,u}8");
}

Status mean_eval(EvalContext& ctx) {
  auto* d = op_data_as<QuantizedOpData>(ctx);
  return run_8bit(ctx, d->op, d->is_signed, xnn_setup_global_average_pooling_nwc_qs8,
                  xnn_setup_global_average_pooling_nwc_qu8, "xnn_setup_global_average_pooling_nwc_q{s,u}8",
                  d->batch, d->elements);
}

}  // namespace

const Kernel kEluQuantized = {"xnnpack", elu_prepare, elu_eval};
const Kernel kResizeBilinearQuantized = {"xnnpack", resize_prepare, resize_eval};
const Kernel kMeanQuantized = {"xnnpack", mean_prepare, mean_eval};

}  // namespace qdet::rt::xnn
