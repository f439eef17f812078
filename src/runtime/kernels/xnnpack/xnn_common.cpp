#include "runtime/kernels/xnnpack/xnn_common.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "runtime/quantization_util.h"

namespace qdet::rt::xnn {

static_assert(XNN_EXTRA_BYTES <= kKernelReadTailBytes,
              "the arena's tail room (kernel.h) must cover XNNPACK's over-reads");

Status ensure_initialized() {
  // xnn_initialize is itself idempotent and guarded by a once-flag; the static keeps the
  // status so that a failure is reported the same way every time.
  static const xnn_status status = xnn_initialize(/*allocator=*/nullptr);
  if (status != xnn_status_success)
    return unsupported("xnnpack: xnn_initialize failed: {}", status_name(status));
  return ok_status();
}

const char* status_name(xnn_status status) {
  switch (status) {
    case xnn_status_success: return "success";
    case xnn_status_uninitialized: return "uninitialized";
    case xnn_status_invalid_parameter: return "invalid_parameter";
    case xnn_status_invalid_state: return "invalid_state";
    case xnn_status_unsupported_parameter: return "unsupported_parameter";
    case xnn_status_unsupported_hardware: return "unsupported_hardware";
    case xnn_status_out_of_memory: return "out_of_memory";
  }
  return "unknown";
}

std::string op_label(const PrepareContext& ctx) {
  return fmt::format("{} (op {})", ctx.op.name(), ctx.op_index);
}

Status xnn_failure(const PrepareContext& ctx, const char* call, xnn_status status) {
  const std::string message =
      fmt::format("{}: {} failed: {}", op_label(ctx), call, status_name(status));
  // Out of memory is a real error; anything else means XNNPACK does not take this
  // configuration and the reference kernel should run the op.
  if (status == xnn_status_out_of_memory) return Status(StatusCode::kInternal, message);
  return Status(StatusCode::kUnsupported, message);
}

Status xnn_eval_failure(const EvalContext& ctx, const char* call, xnn_status status) {
  return internal_error("{}: {} failed at eval: {}", ctx.op.name(), call, status_name(status));
}

Status run_after_setup(const EvalContext& ctx, xnn_operator_t op, xnn_status setup, const char* setup_call) {
  if (setup != xnn_status_success) return xnn_eval_failure(ctx, setup_call, setup);
  const xnn_status status = xnn_run_operator(op, ctx.threadpool);
  if (status != xnn_status_success) return xnn_eval_failure(ctx, "xnn_run_operator", status);
  return ok_status();
}

Status require_arity(const PrepareContext& ctx, size_t inputs) {
  if (ctx.inputs.size() != inputs || ctx.outputs.size() != 1 || ctx.inputs[0] == nullptr)
    return unsupported("{}: expects {} input(s) and one output", op_label(ctx), inputs);
  return ok_status();
}

Status finish_prepare(PrepareContext& ctx, std::unique_ptr<OpData> data, Shape out_shape) {
  ctx.outputs[0]->shape = std::move(out_shape);
  return keep_op_data(ctx, std::move(data));
}

Status finish_prepare(PrepareContext& ctx, std::unique_ptr<OpData> data, Shape out_shape,
                      xnn_status created, const char* create_call) {
  if (created != xnn_status_success) return xnn_failure(ctx, create_call, created);
  return finish_prepare(ctx, std::move(data), std::move(out_shape));
}

XnnOpData::~XnnOpData() {
  if (op != nullptr) xnn_delete_operator(op);
}

std::vector<float> padded_copy(const TensorRef& t) {
  const size_t n = static_cast<size_t>(t.num_elements());
  std::vector<float> copy(n + XNN_EXTRA_BYTES / sizeof(float), 0.0f);
  if (n > 0) std::memcpy(copy.data(), t.data, n * sizeof(float));
  return copy;
}

Result<OutputRange> activation_range(const PrepareContext& ctx, graph::Activation activation) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  switch (activation) {
    case graph::Activation::kNone: return OutputRange{-kInf, kInf};
    case graph::Activation::kRelu: return OutputRange{0.0f, kInf};
    case graph::Activation::kReluN1To1: return OutputRange{-1.0f, 1.0f};
    case graph::Activation::kRelu6: return OutputRange{0.0f, 6.0f};
    default: break;
  }
  return unsupported("{}: fused activation {} is not handled by xnnpack", op_label(ctx),
                     graph::activation_name(activation));
}

Status require_float32(const PrepareContext& ctx, std::span<TensorRef* const> tensors,
                       const char* role) {
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorRef* t = tensors[i];
    if (t == nullptr) continue;
    if (t->dtype != DType::kFloat32)
      return unsupported("{}: {} {} is {}, xnnpack kernels here take float32", op_label(ctx),
                         role, i, dtype_name(t->dtype));
    for (int32_t d : t->shape)
      if (d <= 0)
        return unsupported("{}: {} {} has shape {}, left to the reference kernel",
                           op_label(ctx), role, i, shape_to_string(t->shape));
  }
  return ok_status();
}

Status require_nonempty(const PrepareContext& ctx, std::span<TensorRef* const> tensors,
                        const char* role) {
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorRef* t = tensors[i];
    if (t == nullptr) continue;
    for (int32_t d : t->shape)
      if (d <= 0)
        return unsupported("{}: {} {} has shape {}, left to the reference kernel",
                           op_label(ctx), role, i, shape_to_string(t->shape));
  }
  return ok_status();
}

std::vector<uint8_t> padded_bytes(const TensorRef& t) {
  const size_t n = t.byte_size();
  std::vector<uint8_t> copy(n + XNN_EXTRA_BYTES, 0);
  if (n > 0) std::memcpy(copy.data(), t.data, n);
  return copy;
}

Status require_per_tensor(const PrepareContext& ctx, const TensorRef& t, DType dtype,
                          const char* role) {
  if (t.dtype != dtype)
    return unsupported("{}: {} is {}, expected {}", op_label(ctx), role, dtype_name(t.dtype),
                       dtype_name(dtype));
  if (dtype != DType::kInt8 && dtype != DType::kUInt8)
    return unsupported("{}: {} is {}, xnnpack quantized kernels take int8 or uint8",
                       op_label(ctx), role, dtype_name(dtype));
  const QuantParams& q = *t.quant;
  if (q.scale.size() != 1 || q.zero_point.size() > 1)
    return unsupported("{}: {} is not quantized per tensor ({} scales)", op_label(ctx), role,
                       q.scale.size());
  const float scale = q.scale[0];
  if (!std::isfinite(scale) || !(scale > 0.0f) || !std::isnormal(scale))
    return unsupported("{}: {} scale {} is not a positive normal number", op_label(ctx), role,
                       scale);
  const int32_t zp = t.zero_point();
  if (zp < dtype_qmin(dtype) || zp > dtype_qmax(dtype))
    return unsupported("{}: {} zero point {} is outside {}", op_label(ctx), role, zp,
                       dtype_name(dtype));
  return ok_status();
}

Status require_8bit_per_tensor(const PrepareContext& ctx, const TensorRef& in, const TensorRef& out) {
  if (in.dtype != DType::kInt8 && in.dtype != DType::kUInt8)
    return unsupported("{}: input is {}, not int8 or uint8", op_label(ctx), dtype_name(in.dtype));
  QDET_TRY(require_per_tensor(ctx, in, in.dtype, "input"));
  return require_per_tensor(ctx, out, in.dtype, "output");
}

Result<QuantizedRange> quantized_activation_range(const PrepareContext& ctx,
                                                  graph::Activation activation,
                                                  const TensorRef& output) {
  auto r = activation_range_quantized(activation, output.dtype, output.scale(),
                                      output.zero_point());
  if (!r.ok())
    return unsupported("{}: fused activation {} is not handled by xnnpack: {}", op_label(ctx),
                       graph::activation_name(activation), r.status().message());
  if (r->min > r->max)
    return unsupported("{}: empty output range [{}, {}]", op_label(ctx), r->min, r->max);
  return QuantizedRange{r->min, r->max};
}


Result<Padding1d> tflite_padding(graph::Padding padding, int32_t input, int32_t filter,
                                 int32_t stride, int32_t dilation) {
  if (input < 1)
    return invalid_argument("padding: input {} must be >= 1", input);
  QDET_ASSIGN_OR_RETURN(Padding1d p, compute_padding(padding, input, filter, stride, dilation, "padding"));
  if (p.out < 1)
    return invalid_argument("padding: VALID filter {} (dilation {}) is larger than input {}", filter,
                            dilation, input);
  return p;
}

Status require_requantization_scale(const PrepareContext& ctx, float scale) {
  if (!(scale >= 0x1.0p-32f && scale < 256.0f))
    return unsupported("{}: requantization scale {} outside XNNPACK's [2^-32, 256)",
                       op_label(ctx), scale);
  return ok_status();
}

Result<Shape> resize_sizes(const PrepareContext& ctx, ResizeSizes* sizes) {
  if (ctx.inputs.size() != 2 || ctx.outputs.size() != 1 || ctx.inputs[0] == nullptr ||
      ctx.inputs[1] == nullptr)
    return unsupported("{}: expects input, size and one output", op_label(ctx));
  const TensorRef& input = *ctx.inputs[0];
  const TensorRef& size = *ctx.inputs[1];
  if (input.shape.size() != 4 || input.num_elements() == 0)
    return unsupported("{}: input {} must be 4-D and non-empty", op_label(ctx), shape_to_string(input.shape));
  if (size.dtype != DType::kInt32 || size.num_elements() != 2 || !size.is_constant || size.data == nullptr)
    return unsupported("{}: size must be a constant int32[2]", op_label(ctx));
  const int32_t out_h = size.as<const int32_t>()[0], out_w = size.as<const int32_t>()[1];
  if (out_h < 1 || out_w < 1)
    return unsupported("{}: output size {}x{} must be >= 1", op_label(ctx), out_h, out_w);
  *sizes = {static_cast<size_t>(input.shape[0]), static_cast<size_t>(input.shape[1]),
            static_cast<size_t>(input.shape[2]), static_cast<size_t>(out_h), static_cast<size_t>(out_w)};
  return Shape{input.shape[0], out_h, out_w, input.shape[3]};
}

Result<uint32_t> resize_bilinear_flags(const PrepareContext& ctx) {
  const graph::OpAttrs& a = ctx.op.attrs;
  if (a.align_corners && a.half_pixel_centers)
    return unsupported("{}: align_corners with half_pixel_centers", op_label(ctx));
  if (a.align_corners) return uint32_t{XNN_FLAG_ALIGN_CORNERS};
  return a.half_pixel_centers ? uint32_t{0} : uint32_t{XNN_FLAG_TENSORFLOW_LEGACY_MODE};
}

}  // namespace qdet::rt::xnn
