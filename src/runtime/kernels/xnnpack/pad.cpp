// PAD and PADV2 as xnn_constant_pad_nd_x32 (float32) or _x8 (int8 / uint8 with the same
// quantization in and out). Paddings come from the constant [rank, 2] int32/int64 input;
// PADV2's pad value from its constant scalar input (already in the input's domain); PAD pads
// with 0, or with the output's zero point for quantized tensors (TFLite's rule).
#include <cstring>

#include "runtime/kernels/xnnpack/kernels.h"
#include "runtime/kernels/xnnpack/xnn_common.h"

namespace qdet::rt::xnn {
namespace {

struct PadData : XnnOpData {
  bool bytes = false;  // x8 operator
  std::vector<size_t> shape, pre, post;
};

Status pad_prepare(PrepareContext& ctx) {
  QDET_TRY(ensure_initialized());
  const bool v2 = ctx.op.kind == graph::OpKind::kPadV2;
  if (ctx.inputs.size() != (v2 ? 3u : 2u) || ctx.outputs.size() != 1 ||
      ctx.inputs[0] == nullptr || ctx.inputs[1] == nullptr || (v2 && ctx.inputs[2] == nullptr))
    return unsupported("{}: unexpected inputs", op_label(ctx));
  const TensorRef& input = *ctx.inputs[0];
  const TensorRef& output = *ctx.outputs[0];
  const bool bytes = input.dtype == DType::kInt8 || input.dtype == DType::kUInt8;
  if (bytes) {
    QDET_TRY(require_nonempty(ctx, ctx.inputs.first(1), "input"));
    QDET_TRY(require_per_tensor(ctx, input, input.dtype, "input"));
    QDET_TRY(require_per_tensor(ctx, output, input.dtype, "output"));
    if (input.scale() != output.scale() || input.zero_point() != output.zero_point())
      return unsupported("{}: input and output quantization differ", op_label(ctx));
  } else {
    QDET_TRY(require_float32(ctx, ctx.inputs.first(1), "input"));
    if (output.dtype != DType::kFloat32)
      return unsupported("{}: output is not float32", op_label(ctx));
  }
  const TensorRef& paddings = *ctx.inputs[1];
  const size_t rank = input.shape.size();
  if (rank == 0 || rank > XNN_MAX_TENSOR_DIMS)
    return unsupported("{}: rank {} not handled", op_label(ctx), rank);
  if (!paddings.is_constant || paddings.data == nullptr ||
      (paddings.dtype != DType::kInt32 && paddings.dtype != DType::kInt64) ||
      paddings.num_elements() != static_cast<int64_t>(2 * rank))
    return unsupported("{}: paddings must be a constant int32/int64 [{},2]", op_label(ctx), rank);
  float value = 0.0f;
  uint8_t byte_value = bytes ? static_cast<uint8_t>(output.zero_point()) : 0;
  if (v2) {
    const TensorRef& v = *ctx.inputs[2];
    if (v.dtype != input.dtype || v.num_elements() != 1 || !v.is_constant || v.data == nullptr)
      return unsupported("{}: constant value must be a constant {} scalar", op_label(ctx),
                         dtype_name(input.dtype));
    if (bytes)
      byte_value = v.data[0];
    else
      value = v.as<const float>()[0];
  }
  auto data = std::make_unique<PadData>();
  data->bytes = bytes;
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
  const xnn_status status =
      bytes ? xnn_create_constant_pad_nd_x8(&byte_value, /*flags=*/0, &data->op)
            : xnn_create_constant_pad_nd_x32(&bits, /*flags=*/0, &data->op);
  return finish_prepare(ctx, std::move(data), out, status, "xnn_create_constant_pad_nd_x{8,32}");
}

Status pad_eval(EvalContext& ctx) {
  auto* data = op_data_as<PadData>(ctx);
  const auto setup = data->bytes ? xnn_setup_constant_pad_nd_x8 : xnn_setup_constant_pad_nd_x32;
  xnn_status status = setup(data->op, data->shape.size(), data->shape.data(), data->pre.data(),
                            data->post.data(), ctx.inputs[0]->data, ctx.outputs[0]->data,
                            ctx.threadpool);
  if (status != xnn_status_success)
    return xnn_eval_failure(ctx, "xnn_setup_constant_pad_nd_x32", status);
  status = xnn_run_operator(data->op, ctx.threadpool);
  if (status != xnn_status_success) return xnn_eval_failure(ctx, "xnn_run_operator", status);
  return ok_status();
}

}  // namespace

const Kernel kPad = {"xnnpack", pad_prepare, pad_eval};

}  // namespace qdet::rt::xnn
