// Quantized ADD, SUB and MUL as XNNPACK's N-D binary operators, int8 (qs8) and uint8 (qu8),
// numpy broadcasting up to XNN_MAX_TENSOR_DIMS dims, the fused activation as the output
// clamp. XNNPACK computes in int32 with fp32 / fixed-point requantization (one rounding),
// TFLite's reference with its double-rounding fixed point: results agree within one step.
// XNNPACK refuses input-to-output scale ratios outside [2^-10, 2^8) (ADD/SUB) and product
// scale ratios outside [2^-16, 2^8) (MUL) at creation: the reference then runs the op.
#include "runtime/kernels/xnnpack/kernels.h"
#include "runtime/kernels/xnnpack/xnn_common.h"

namespace qdet::rt::xnn {
namespace {

using CreateS8 = xnn_status (*)(int8_t, float, int8_t, float, int8_t, float, int8_t, int8_t,
                                uint32_t, xnn_operator_t*);
using SetupS8 = xnn_status (*)(xnn_operator_t, size_t, const size_t*, size_t, const size_t*,
                               const int8_t*, const int8_t*, int8_t*, pthreadpool_t);
using CreateU8 = xnn_status (*)(uint8_t, float, uint8_t, float, uint8_t, float, uint8_t,
                                uint8_t, uint32_t, xnn_operator_t*);
using SetupU8 = xnn_status (*)(xnn_operator_t, size_t, const size_t*, size_t, const size_t*,
                               const uint8_t*, const uint8_t*, uint8_t*, pthreadpool_t);

struct BinaryFns {
  CreateS8 create_s8;
  SetupS8 setup_s8;
  CreateU8 create_u8;
  SetupU8 setup_u8;
};

struct QuantizedBinaryData : XnnOpData {
  SetupS8 setup_s8 = nullptr;
  SetupU8 setup_u8 = nullptr;
  std::vector<size_t> shape1, shape2;
  // Padded copies of constant operands (XNNPACK may over-read them), else empty.
  std::vector<uint8_t> constant1, constant2;
};

Status quantized_binary_prepare(PrepareContext& ctx, const BinaryFns& fns) {
  QDET_TRY(ensure_initialized());
  if (ctx.inputs.size() != 2 || ctx.outputs.size() != 1 || ctx.inputs[0] == nullptr ||
      ctx.inputs[1] == nullptr)
    return unsupported("{}: expects two inputs and one output", op_label(ctx));
  QDET_TRY(require_nonempty(ctx, ctx.inputs, "input"));
  const TensorRef& a = *ctx.inputs[0];
  const TensorRef& b = *ctx.inputs[1];
  const TensorRef& out = *ctx.outputs[0];
  const DType dtype = a.dtype;
  if (dtype != DType::kInt8 && dtype != DType::kUInt8)
    return unsupported("{}: input is {}, xnnpack quantized kernels take int8 or uint8",
                       op_label(ctx), dtype_name(dtype));
  QDET_TRY(require_per_tensor(ctx, a, dtype, "input 0"));
  QDET_TRY(require_per_tensor(ctx, b, dtype, "input 1"));
  QDET_TRY(require_per_tensor(ctx, out, dtype, "output"));
  if (a.shape.size() > XNN_MAX_TENSOR_DIMS || b.shape.size() > XNN_MAX_TENSOR_DIMS)
    return unsupported("{}: {} and {} have more than {} dims", op_label(ctx),
                       shape_to_string(a.shape), shape_to_string(b.shape), XNN_MAX_TENSOR_DIMS);
  Result<Shape> broadcast = broadcast_shapes(a.shape, b.shape);
  if (!broadcast.ok()) return unsupported("{}: {}", op_label(ctx), broadcast.status().message());
  const Shape out_shape = *broadcast;
  QDET_ASSIGN_OR_RETURN(QuantizedRange range,
                        quantized_activation_range(ctx, ctx.op.attrs.activation, out));

  auto data = std::make_unique<QuantizedBinaryData>();
  xnn_status status;
  if (dtype == DType::kInt8) {
    status = fns.create_s8(static_cast<int8_t>(a.zero_point()), a.scale(),
                           static_cast<int8_t>(b.zero_point()), b.scale(),
                           static_cast<int8_t>(out.zero_point()), out.scale(),
                           static_cast<int8_t>(range.min), static_cast<int8_t>(range.max),
                           /*flags=*/0, &data->op);
    data->setup_s8 = fns.setup_s8;
  } else {
    status = fns.create_u8(static_cast<uint8_t>(a.zero_point()), a.scale(),
                           static_cast<uint8_t>(b.zero_point()), b.scale(),
                           static_cast<uint8_t>(out.zero_point()), out.scale(),
                           static_cast<uint8_t>(range.min), static_cast<uint8_t>(range.max),
                           /*flags=*/0, &data->op);
    data->setup_u8 = fns.setup_u8;
  }
  if (status != xnn_status_success)
    return xnn_failure(ctx, "xnn_create_*_nd_q{s,u}8", status);
  data->shape1.assign(a.shape.begin(), a.shape.end());
  data->shape2.assign(b.shape.begin(), b.shape.end());
  if (a.is_constant && a.data != nullptr) data->constant1 = padded_bytes(a);
  if (b.is_constant && b.data != nullptr) data->constant2 = padded_bytes(b);
  return finish_prepare(ctx, std::move(data), out_shape);
}

Status quantized_binary_eval(EvalContext& ctx) {
  auto* data = op_data_as<QuantizedBinaryData>(ctx);
  const uint8_t* in1 = data->constant1.empty() ? ctx.inputs[0]->data : data->constant1.data();
  const uint8_t* in2 = data->constant2.empty() ? ctx.inputs[1]->data : data->constant2.data();
  uint8_t* out = ctx.outputs[0]->data;
  xnn_status status =
      data->setup_s8 != nullptr
          ? data->setup_s8(data->op, data->shape1.size(), data->shape1.data(),
                           data->shape2.size(), data->shape2.data(),
                           reinterpret_cast<const int8_t*>(in1),
                           reinterpret_cast<const int8_t*>(in2), reinterpret_cast<int8_t*>(out),
                           ctx.threadpool)
          : data->setup_u8(data->op, data->shape1.size(), data->shape1.data(),
                           data->shape2.size(), data->shape2.data(), in1, in2, out,
                           ctx.threadpool);
  return run_after_setup(ctx, data->op, status, "xnn_setup_*_nd_q{s,u}8");
}

Status add_prepare(PrepareContext& ctx) {
  static constexpr BinaryFns kFns = {xnn_create_add_nd_qs8, xnn_setup_add_nd_qs8,
                                     xnn_create_add_nd_qu8, xnn_setup_add_nd_qu8};
  return quantized_binary_prepare(ctx, kFns);
}
Status sub_prepare(PrepareContext& ctx) {
  static constexpr BinaryFns kFns = {xnn_create_subtract_nd_qs8, xnn_setup_subtract_nd_qs8,
                                     xnn_create_subtract_nd_qu8, xnn_setup_subtract_nd_qu8};
  return quantized_binary_prepare(ctx, kFns);
}
Status mul_prepare(PrepareContext& ctx) {
  static constexpr BinaryFns kFns = {xnn_create_multiply_nd_qs8, xnn_setup_multiply_nd_qs8,
                                     xnn_create_multiply_nd_qu8, xnn_setup_multiply_nd_qu8};
  return quantized_binary_prepare(ctx, kFns);
}

}  // namespace

const Kernel kAddQuantized = {"xnnpack", add_prepare, quantized_binary_eval};
const Kernel kSubQuantized = {"xnnpack", sub_prepare, quantized_binary_eval};
const Kernel kMulQuantized = {"xnnpack", mul_prepare, quantized_binary_eval};

}  // namespace qdet::rt::xnn
