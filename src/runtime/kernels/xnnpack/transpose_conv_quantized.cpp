// TRANSPOSE_CONV on uint8 (per-tensor weights) as xnn_deconvolution2d_nhwc_qu8, which TFLite's
// XNNPACK delegate runs for it: the same scatter as TFLite's kernel, requantized in fp32 with
// one rounding (one step from TFLite's own double-rounding kernel on some elements). Paddings as
// the delegate computes them from the output shape (CalculateTransposeConvPaddings): SAME splits
// max(0, (in - 1) * s + k - out) with the smaller half first, VALID pads nothing and adds
// out - ((in - 1) * s + k) as the adjustment. Strides larger than the kernel are the delegate's
// "unsupported" case: declined here, the reference runs them.
#include "runtime/kernels/xnnpack/kernels.h"
#include "runtime/kernels/xnnpack/xnn_common.h"

namespace qdet::rt::xnn {
namespace {

struct DeconvData : XnnOpData {
  size_t batch = 0, in_h = 0, in_w = 0;
  uint32_t adjust_h = 0, adjust_w = 0;
};

struct Axis {
  uint32_t before = 0, after = 0, adjust = 0;
};

Result<Axis> axis_padding(const PrepareContext& ctx, int32_t in, int32_t k, int32_t s, int32_t out) {
  Axis a;
  if (ctx.op.attrs.padding == graph::Padding::kSame) {
    if ((out + s - 1) / s != in) return unsupported("{}: output size {} does not match input {}", op_label(ctx), out, in);
    const int32_t total = std::max(0, (in - 1) * s + k - out);
    a.before = static_cast<uint32_t>(total / 2);
    a.after = static_cast<uint32_t>(total - total / 2);
  } else {
    const int32_t adjust = out - ((in - 1) * s + k);
    if (adjust < 0 || adjust >= s) return unsupported("{}: output size {} does not match input {}", op_label(ctx), out, in);
    a.adjust = static_cast<uint32_t>(adjust);
  }
  return a;
}

Status prepare(PrepareContext& ctx) {
  QDET_TRY(ensure_initialized());
  if (ctx.inputs.size() < 3 || ctx.inputs.size() > 4 || ctx.outputs.size() != 1 || !ctx.inputs[0] || !ctx.inputs[1] || !ctx.inputs[2])
    return unsupported("{}: unexpected inputs or outputs", op_label(ctx));
  const TensorRef& shape = *ctx.inputs[0];
  const TensorRef& w = *ctx.inputs[1];
  const TensorRef& in = *ctx.inputs[2];
  const TensorRef* bias = ctx.inputs.size() > 3 ? ctx.inputs[3] : nullptr;
  const TensorRef& out = *ctx.outputs[0];
  if (in.dtype != DType::kUInt8 || w.dtype != DType::kUInt8 || out.dtype != DType::kUInt8)
    return unsupported("{}: only uint8 input, weights and output", op_label(ctx));
  if (in.shape.size() != 4 || w.shape.size() != 4 || !w.is_constant || !w.data || shape.dtype != DType::kInt32 ||
      shape.num_elements() != 4 || !shape.is_constant || !shape.data)
    return unsupported("{}: needs 4-D tensors, constant weights and a constant output shape", op_label(ctx));
  if (bias && (bias->dtype != DType::kInt32 || !bias->is_constant || !bias->data || bias->num_elements() != w.shape[0]))
    return unsupported("{}: the bias must be a constant int32 per output channel", op_label(ctx));
  QDET_TRY(require_nonempty(ctx, ctx.inputs.subspan(2, 1), "input"));
  QDET_TRY(require_per_tensor(ctx, in, in.dtype, "input"));
  QDET_TRY(require_per_tensor(ctx, w, w.dtype, "weights"));
  QDET_TRY(require_per_tensor(ctx, out, out.dtype, "output"));
  const int32_t* os = shape.as<const int32_t>();
  const int32_t k_h = w.shape[1], k_w = w.shape[2], s_h = ctx.op.attrs.stride_h, s_w = ctx.op.attrs.stride_w;
  if (os[0] != in.shape[0] || os[3] != w.shape[0] || w.shape[3] != in.shape[3] || s_h < 1 || s_w < 1 || s_h > k_h || s_w > k_w)
    return unsupported("{}: shapes or strides the delegate does not take", op_label(ctx));
  QDET_TRY(require_requantization_scale(ctx, in.scale() * w.scale() / out.scale()));
  QDET_ASSIGN_OR_RETURN(Axis ah, axis_padding(ctx, in.shape[1], k_h, s_h, os[1]));
  QDET_ASSIGN_OR_RETURN(Axis aw, axis_padding(ctx, in.shape[2], k_w, s_w, os[2]));
  QDET_ASSIGN_OR_RETURN(QuantizedRange range, quantized_activation_range(ctx, ctx.op.attrs.activation, out));
  auto data = std::make_unique<DeconvData>();
  const size_t ic = static_cast<size_t>(in.shape[3]), oc = static_cast<size_t>(w.shape[0]);
  const xnn_status status = xnn_create_deconvolution2d_nhwc_qu8(
      ah.before, aw.after, ah.after, aw.before, static_cast<uint32_t>(k_h), static_cast<uint32_t>(k_w),
      static_cast<uint32_t>(s_h), static_cast<uint32_t>(s_w), 1, 1, 1, ic, oc, ic, oc,
      static_cast<uint8_t>(in.zero_point()), in.scale(), static_cast<uint8_t>(w.zero_point()), w.scale(),
      w.as<const uint8_t>(), bias ? bias->as<const int32_t>() : nullptr, static_cast<uint8_t>(out.zero_point()),
      out.scale(), static_cast<uint8_t>(range.min), static_cast<uint8_t>(range.max), /*flags=*/0, &data->op);
  data->batch = static_cast<size_t>(in.shape[0]);
  data->in_h = static_cast<size_t>(in.shape[1]);
  data->in_w = static_cast<size_t>(in.shape[2]);
  data->adjust_h = ah.adjust;
  data->adjust_w = aw.adjust;
  return finish_prepare(ctx, std::move(data), {os[0], os[1], os[2], os[3]}, status,
                        "xnn_create_deconvolution2d_nhwc_qu8");
}

Status eval(EvalContext& ctx) {
  auto* d = op_data_as<DeconvData>(ctx);
  xnn_status status = xnn_setup_deconvolution2d_nhwc_qu8(d->op, d->batch, d->in_h, d->in_w, d->adjust_h, d->adjust_w,
                                                         ctx.inputs[2]->as<const uint8_t>(),
                                                         ctx.outputs[0]->as<uint8_t>(), ctx.threadpool);
  return run_after_setup(ctx, d->op, status, "xnn_setup_deconvolution2d_nhwc_qu8");
}

}  // namespace

const Kernel kTransposeConvQuantized = {"xnnpack", prepare, eval};

}  // namespace qdet::rt::xnn
