// PAD and PADV2 (float32) as xnn_constant_pad_nd_x32. Paddings come from the constant
// [rank, 2] int32/int64 input; PADV2's pad value from its constant scalar input (PAD: 0).
#include <cstring>

#include "runtime/kernels/xnnpack/kernels.h"
#include "runtime/kernels/xnnpack/xnn_common.h"

namespace qdet::rt::xnn {
namespace {

struct PadData : XnnOpData {
  std::vector<size_t> shape, pre, post;
};

Status pad_prepare(PrepareContext& ctx) {
  QDET_TRY(ensure_initialized());
  const bool v2 = ctx.op.kind == graph::OpKind::kPadV2;
  if (ctx.inputs.size() != (v2 ? 3u : 2u) || ctx.outputs.size() != 1 ||
      ctx.inputs[0] == nullptr || ctx.inputs[1] == nullptr || (v2 && ctx.inputs[2] == nullptr))
    return unsupported("{}: unexpected inputs", op_label(ctx));
  QDET_TRY(require_float32(ctx, ctx.inputs.first(1), "input"));
  if (ctx.outputs[0]->dtype != DType::kFloat32)
    return unsupported("{}: output is not float32", op_label(ctx));
  const TensorRef& input = *ctx.inputs[0];
  const TensorRef& paddings = *ctx.inputs[1];
  const size_t rank = input.shape.size();
  if (rank == 0 || rank > XNN_MAX_TENSOR_DIMS)
    return unsupported("{}: rank {} not handled", op_label(ctx), rank);
  if (!paddings.is_constant || paddings.data == nullptr ||
      (paddings.dtype != DType::kInt32 && paddings.dtype != DType::kInt64) ||
      paddings.num_elements() != static_cast<int64_t>(2 * rank))
    return unsupported("{}: paddings must be a constant int32/int64 [{},2]", op_label(ctx), rank);
  float value = 0.0f;
  if (v2) {
    const TensorRef& v = *ctx.inputs[2];
    if (v.dtype != DType::kFloat32 || v.num_elements() != 1 || !v.is_constant || v.data == nullptr)
      return unsupported("{}: constant value must be a constant float32 scalar", op_label(ctx));
    value = v.as<const float>()[0];
  }
  auto data = std::make_unique<PadData>();
  Shape out = input.shape;
  for (size_t d = 0; d < rank; ++d) {
    int64_t before, after;
    if (paddings.dtype == DType::kInt32) {
      before = paddings.as<const int32_t>()[2 * d];
      after = paddings.as<const int32_t>()[2 * d + 1];
    } else {
      before = paddings.as<const int64_t>()[2 * d];
      after = paddings.as<const int64_t>()[2 * d + 1];
    }
    if (before < 0 || after < 0 || before > (1 << 24) || after > (1 << 24))
      return unsupported("{}: padding {},{} of dim {} not handled", op_label(ctx), before, after,
                         d);
    data->shape.push_back(static_cast<size_t>(input.shape[d]));
    data->pre.push_back(static_cast<size_t>(before));
    data->post.push_back(static_cast<size_t>(after));
    out[d] = static_cast<int32_t>(input.shape[d] + before + after);
  }
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  const xnn_status status = xnn_create_constant_pad_nd_x32(&bits, /*flags=*/0, &data->op);
  if (status != xnn_status_success)
    return xnn_failure(ctx, "xnn_create_constant_pad_nd_x32", status);
  ctx.outputs[0]->shape = out;
  ctx.op_data = std::move(data);
  return ok_status();
}

Status pad_eval(EvalContext& ctx) {
  auto* data = op_data_as<PadData>(ctx);
  xnn_status status = xnn_setup_constant_pad_nd_x32(
      data->op, data->shape.size(), data->shape.data(), data->pre.data(), data->post.data(),
      ctx.inputs[0]->data, ctx.outputs[0]->data, ctx.threadpool);
  if (status != xnn_status_success)
    return xnn_eval_failure(ctx, "xnn_setup_constant_pad_nd_x32", status);
  status = xnn_run_operator(data->op, ctx.threadpool);
  if (status != xnn_status_success) return xnn_eval_failure(ctx, "xnn_run_operator", status);
  return ok_status();
}

}  // namespace

const Kernel kPad = {"xnnpack", pad_prepare, pad_eval};

}  // namespace qdet::rt::xnn
