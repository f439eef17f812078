// Element-wise float ops as XNNPACK *_nc_f32 operators over the flattened tensor
// (channels = 1, batch = elements: XNNPACK then walks it as one contiguous block).
//   LOGISTIC -> sigmoid, HARD_SWISH -> hardswish, LEAKY_RELU -> leaky_relu(alpha),
//   RELU / RELU6 / RELU_N1_TO_1 -> clamp to [0,inf) / [0,6] / [-1,1].
#include <limits>

#include "runtime/kernels/xnnpack/kernels.h"
#include "runtime/kernels/xnnpack/xnn_common.h"

namespace qdet::rt::xnn {
namespace {

using SetupFn = xnn_status (*)(xnn_operator_t, size_t, const float*, float*, pthreadpool_t);

struct UnaryData : XnnOpData {
  SetupFn setup = nullptr;
  const char* setup_name = "";
  size_t elements = 0;
};

Status check_unary(PrepareContext& ctx) {
  QDET_TRY(ensure_initialized());
  QDET_TRY(require_arity(ctx, 1));
  QDET_TRY(require_float32(ctx, ctx.inputs, "input"));
  if (ctx.outputs[0]->dtype != DType::kFloat32)
    return unsupported("{}: output is {}, not float32", op_label(ctx),
                       dtype_name(ctx.outputs[0]->dtype));
  return ok_status();
}

Status finish_unary(PrepareContext& ctx, std::unique_ptr<UnaryData> data, xnn_status created,
                    const char* create_name, SetupFn setup, const char* setup_name) {
  data->setup = setup;
  data->setup_name = setup_name;
  data->elements = static_cast<size_t>(ctx.inputs[0]->num_elements());
  return finish_prepare(ctx, std::move(data), ctx.inputs[0]->shape, created, create_name);
}

Status logistic_prepare(PrepareContext& ctx) {
  QDET_TRY(check_unary(ctx));
  auto data = std::make_unique<UnaryData>();
  const xnn_status s = xnn_create_sigmoid_nc_f32(1, 1, 1, /*flags=*/0, &data->op);
  return finish_unary(ctx, std::move(data), s, "xnn_create_sigmoid_nc_f32",
                      xnn_setup_sigmoid_nc_f32, "xnn_setup_sigmoid_nc_f32");
}

Status hard_swish_prepare(PrepareContext& ctx) {
  QDET_TRY(check_unary(ctx));
  auto data = std::make_unique<UnaryData>();
  const xnn_status s = xnn_create_hardswish_nc_f32(1, 1, 1, /*flags=*/0, &data->op);
  return finish_unary(ctx, std::move(data), s, "xnn_create_hardswish_nc_f32",
                      xnn_setup_hardswish_nc_f32, "xnn_setup_hardswish_nc_f32");
}

Status leaky_relu_prepare(PrepareContext& ctx) {
  QDET_TRY(check_unary(ctx));
  auto data = std::make_unique<UnaryData>();
  const xnn_status s =
      xnn_create_leaky_relu_nc_f32(1, 1, 1, ctx.op.attrs.alpha, /*flags=*/0, &data->op);
  return finish_unary(ctx, std::move(data), s, "xnn_create_leaky_relu_nc_f32",
                      xnn_setup_leaky_relu_nc_f32, "xnn_setup_leaky_relu_nc_f32");
}

Status relu_prepare(PrepareContext& ctx) {
  QDET_TRY(check_unary(ctx));
  float lo = 0.0f, hi = std::numeric_limits<float>::infinity();
  switch (ctx.op.kind) {
    case graph::OpKind::kRelu: break;
    case graph::OpKind::kRelu6: hi = 6.0f; break;
    case graph::OpKind::kReluN1To1: lo = -1.0f; hi = 1.0f; break;
    default: return unsupported("{}: not a RELU op", op_label(ctx));
  }
  auto data = std::make_unique<UnaryData>();
  const xnn_status s = xnn_create_clamp_nc_f32(1, 1, 1, lo, hi, /*flags=*/0, &data->op);
  return finish_unary(ctx, std::move(data), s, "xnn_create_clamp_nc_f32",
                      xnn_setup_clamp_nc_f32, "xnn_setup_clamp_nc_f32");
}

Status unary_eval(EvalContext& ctx) {
  auto* data = op_data_as<UnaryData>(ctx);
  xnn_status status = data->setup(data->op, data->elements, ctx.inputs[0]->as<const float>(),
                                  ctx.outputs[0]->as<float>(), ctx.threadpool);
  return run_after_setup(ctx, data->op, status, data->setup_name);
}

}  // namespace

const Kernel kLogistic = {"xnnpack", logistic_prepare, unary_eval};
const Kernel kHardSwish = {"xnnpack", hard_swish_prepare, unary_eval};
const Kernel kLeakyRelu = {"xnnpack", leaky_relu_prepare, unary_eval};
const Kernel kRelu = {"xnnpack", relu_prepare, unary_eval};

}  // namespace qdet::rt::xnn
