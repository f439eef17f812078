// ADD, SUB, MUL as XNNPACK's N-D binary operators (numpy broadcasting, up to
// XNN_MAX_TENSOR_DIMS dims) with the fused activation as the output range.
#include <algorithm>

#include "runtime/kernels/xnnpack/kernels.h"
#include "runtime/kernels/xnnpack/xnn_common.h"

namespace qdet::rt::xnn {
namespace {

using CreateFn = xnn_status (*)(float, float, uint32_t, xnn_operator_t*);
using SetupFn = xnn_status (*)(xnn_operator_t, size_t, const size_t*, size_t, const size_t*,
                               const float*, const float*, float*, pthreadpool_t);

struct BinaryData : XnnOpData {
  SetupFn setup = nullptr;
  const char* setup_name = "";
  std::vector<size_t> shape1, shape2;
  // Padded copies of constant operands (XNNPACK may over-read them), else empty.
  std::vector<float> constant1, constant2;
};

Status binary_prepare(PrepareContext& ctx, CreateFn create, const char* create_name,
                      SetupFn setup, const char* setup_name) {
  QDET_TRY(ensure_initialized());
  if (ctx.inputs.size() != 2 || ctx.outputs.size() != 1 || ctx.inputs[0] == nullptr ||
      ctx.inputs[1] == nullptr)
    return unsupported("{}: expects two inputs and one output", op_label(ctx));
  QDET_TRY(require_float32(ctx, ctx.inputs, "input"));
  if (ctx.outputs[0]->dtype != DType::kFloat32)
    return unsupported("{}: output is {}, not float32", op_label(ctx),
                       dtype_name(ctx.outputs[0]->dtype));
  const TensorRef& a = *ctx.inputs[0];
  const TensorRef& b = *ctx.inputs[1];
  if (a.shape.size() > XNN_MAX_TENSOR_DIMS || b.shape.size() > XNN_MAX_TENSOR_DIMS)
    return unsupported("{}: {} and {} have more than {} dims", op_label(ctx),
                       shape_to_string(a.shape), shape_to_string(b.shape), XNN_MAX_TENSOR_DIMS);
  Result<Shape> broadcast = broadcast_shapes(a.shape, b.shape);
  if (!broadcast.ok()) return unsupported("{}: {}", op_label(ctx), broadcast.status().message());
  const Shape out = *broadcast;
  QDET_ASSIGN_OR_RETURN(OutputRange range, activation_range(ctx, ctx.op.attrs.activation));

  auto data = std::make_unique<BinaryData>();
  const xnn_status status = create(range.min, range.max, /*flags=*/0, &data->op);
  if (status != xnn_status_success) return xnn_failure(ctx, create_name, status);
  data->setup = setup;
  data->setup_name = setup_name;
  data->shape1.assign(a.shape.begin(), a.shape.end());
  data->shape2.assign(b.shape.begin(), b.shape.end());
  if (a.is_constant && a.data != nullptr) data->constant1 = padded_copy(a);
  if (b.is_constant && b.data != nullptr) data->constant2 = padded_copy(b);
  return finish_prepare(ctx, std::move(data), out);
}

Status binary_eval(EvalContext& ctx) {
  auto* data = op_data_as<BinaryData>(ctx);
  const float* in1 =
      data->constant1.empty() ? ctx.inputs[0]->as<const float>() : data->constant1.data();
  const float* in2 =
      data->constant2.empty() ? ctx.inputs[1]->as<const float>() : data->constant2.data();
  xnn_status status = data->setup(data->op, data->shape1.size(), data->shape1.data(),
                                  data->shape2.size(), data->shape2.data(), in1, in2,
                                  ctx.outputs[0]->as<float>(), ctx.threadpool);
  return run_after_setup(ctx, data->op, status, data->setup_name);
}

Status add_prepare(PrepareContext& ctx) {
  return binary_prepare(ctx, xnn_create_add_nd_f32, "xnn_create_add_nd_f32",
                        xnn_setup_add_nd_f32, "xnn_setup_add_nd_f32");
}
Status sub_prepare(PrepareContext& ctx) {
  return binary_prepare(ctx, xnn_create_subtract_nd_f32, "xnn_create_subtract_nd_f32",
                        xnn_setup_subtract_nd_f32, "xnn_setup_subtract_nd_f32");
}
Status mul_prepare(PrepareContext& ctx) {
  return binary_prepare(ctx, xnn_create_multiply_nd_f32, "xnn_create_multiply_nd_f32",
                        xnn_setup_multiply_nd_f32, "xnn_setup_multiply_nd_f32");
}

}  // namespace

const Kernel kAdd = {"xnnpack", add_prepare, binary_eval};
const Kernel kSub = {"xnnpack", sub_prepare, binary_eval};
const Kernel kMul = {"xnnpack", mul_prepare, binary_eval};

}  // namespace qdet::rt::xnn
