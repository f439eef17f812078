// FULLY_CONNECTED as xnn_fully_connected_nc_f32: TFLite weights [O, I] are XNNPACK's default
// [output_channels, input_channels] layout. The input is read as [batch, I] with
// batch = elements / I, as TFLite does.
#include "runtime/kernels/xnnpack/kernels.h"
#include "runtime/kernels/xnnpack/xnn_common.h"

namespace qdet::rt::xnn {
namespace {

struct FullyConnectedData : XnnOpData {
  size_t batch = 0;
};

Status fully_connected_prepare(PrepareContext& ctx) {
  QDET_TRY(ensure_initialized());
  if (ctx.inputs.size() < 2 || ctx.inputs.size() > 3 || ctx.outputs.size() != 1 ||
      ctx.inputs[0] == nullptr || ctx.inputs[1] == nullptr)
    return unsupported("{}: expects input, weights, optional bias and one output", op_label(ctx));
  QDET_TRY(require_float32(ctx, ctx.inputs, "input"));
  if (ctx.outputs[0]->dtype != DType::kFloat32)
    return unsupported("{}: output is {}, not float32", op_label(ctx),
                       dtype_name(ctx.outputs[0]->dtype));
  const TensorRef& input = *ctx.inputs[0];
  const TensorRef& weights = *ctx.inputs[1];
  const TensorRef* bias = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
  if (weights.shape.size() != 2)
    return unsupported("{}: weights {} must be 2-D", op_label(ctx),
                       shape_to_string(weights.shape));
  if (!weights.is_constant || weights.data == nullptr)
    return unsupported("{}: weights are not constant", op_label(ctx));
  const int32_t out_channels = weights.shape[0], in_channels = weights.shape[1];
  if (bias != nullptr && (!bias->is_constant || bias->data == nullptr ||
                          bias->num_elements() != out_channels))
    return unsupported("{}: bias {} is not a constant of {} values", op_label(ctx),
                       shape_to_string(bias->shape), out_channels);
  if (input.shape.empty() || input.num_elements() % in_channels != 0)
    return unsupported("{}: input {} is not a whole number of rows of {}", op_label(ctx),
                       shape_to_string(input.shape), in_channels);
  QDET_ASSIGN_OR_RETURN(OutputRange range, activation_range(ctx, ctx.op.attrs.activation));

  auto data = std::make_unique<FullyConnectedData>();
  data->batch = static_cast<size_t>(input.num_elements() / in_channels);
  const xnn_status status = xnn_create_fully_connected_nc_f32(
      static_cast<size_t>(in_channels), static_cast<size_t>(out_channels),
      /*input_stride=*/static_cast<size_t>(in_channels),
      /*output_stride=*/static_cast<size_t>(out_channels), weights.as<const float>(),
      bias != nullptr ? bias->as<const float>() : nullptr, range.min, range.max, /*flags=*/0,
      &data->op);
  if (status != xnn_status_success)
    return xnn_failure(ctx, "xnn_create_fully_connected_nc_f32", status);

  Shape out;
  if (ctx.op.attrs.keep_num_dims) {
    if (input.shape.back() != in_channels)
      return unsupported("{}: keep_num_dims needs input's last dim {} == {}", op_label(ctx),
                         input.shape.back(), in_channels);
    out = input.shape;
    out.back() = out_channels;
  } else {
    out = {static_cast<int32_t>(data->batch), out_channels};
  }
  ctx.outputs[0]->shape = out;
  ctx.op_data = std::move(data);
  return ok_status();
}

Status fully_connected_eval(EvalContext& ctx) {
  auto* data = op_data_as<FullyConnectedData>(ctx);
  xnn_status status =
      xnn_setup_fully_connected_nc_f32(data->op, data->batch, ctx.inputs[0]->as<const float>(),
                                       ctx.outputs[0]->as<float>(), ctx.threadpool);
  if (status != xnn_status_success)
    return xnn_eval_failure(ctx, "xnn_setup_fully_connected_nc_f32", status);
  status = xnn_run_operator(data->op, ctx.threadpool);
  if (status != xnn_status_success) return xnn_eval_failure(ctx, "xnn_run_operator", status);
  return ok_status();
}

}  // namespace

const Kernel kFullyConnected = {"xnnpack", fully_connected_prepare, fully_connected_eval};

}  // namespace qdet::rt::xnn
