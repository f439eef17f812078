// FULLY_CONNECTED as xnn_fully_connected_nc_f32: TFLite weights [O, I] are XNNPACK's default
// [output_channels, input_channels] layout. The input is read as [batch, I] with
// batch = elements / I, as TFLite does.
#include "runtime/kernels/reference/common.h"
#include "runtime/kernels/reference/quantized/conv_params.h"
#include "runtime/kernels/xnnpack/kernels.h"
#include "runtime/kernels/xnnpack/xnn_common.h"

namespace qdet::rt::xnn {
namespace {

struct FullyConnectedData : XnnOpData {
  size_t batch = 0;
};

// The output shape as the reference computes it; a shape it cannot make is kUnsupported here
// (the reference kernel then reports it).
Result<Shape> output_shape(const PrepareContext& ctx, const TensorRef& input, int64_t batch,
                           int32_t in_channels, int32_t out_channels) {
  auto shape = ref::fully_connected_output_shape(ctx.op.attrs.keep_num_dims, input.shape, batch,
                                                 in_channels, out_channels);
  if (!shape.ok())
    return unsupported("{}: {}", op_label(ctx), shape.status().message());
  return shape;
}

// Input, weights, an optional bias and one output.
Status require_weighted_arity(const PrepareContext& ctx) {
  if (ctx.inputs.size() < 2 || ctx.inputs.size() > 3 || ctx.outputs.size() != 1 ||
      ctx.inputs[0] == nullptr || ctx.inputs[1] == nullptr)
    return unsupported("{}: expects input, weights, optional bias and one output", op_label(ctx));
  return ok_status();
}

Status fully_connected_prepare(PrepareContext& ctx) {
  QDET_TRY(ensure_initialized());
  QDET_TRY(require_weighted_arity(ctx));
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
  QDET_ASSIGN_OR_RETURN(Shape out, output_shape(ctx, input, static_cast<int64_t>(data->batch), in_channels,
                                                out_channels));
  const xnn_status status = xnn_create_fully_connected_nc_f32(
      static_cast<size_t>(in_channels), static_cast<size_t>(out_channels),
      /*input_stride=*/static_cast<size_t>(in_channels),
      /*output_stride=*/static_cast<size_t>(out_channels), weights.as<const float>(),
      bias != nullptr ? bias->as<const float>() : nullptr, range.min, range.max, /*flags=*/0,
      &data->op);
  return finish_prepare(ctx, std::move(data), std::move(out), status, "xnn_create_fully_connected_nc_f32");
}

Status fully_connected_eval(EvalContext& ctx) {
  auto* data = op_data_as<FullyConnectedData>(ctx);
  xnn_status status =
      xnn_setup_fully_connected_nc_f32(data->op, data->batch, ctx.inputs[0]->as<const float>(),
                                       ctx.outputs[0]->as<float>(), ctx.threadpool);
  return run_after_setup(ctx, data->op, status, "xnn_setup_fully_connected_nc_f32");
}

// FULLY_CONNECTED on int8 (xnn_fully_connected_nc_qs8: per-tensor weights, zero point 0) and
// uint8 (qu8: per-tensor weights with a zero point). Per-channel int8 weights have no XNNPACK
// operator in this version and are left to the reference.
struct QuantizedFullyConnectedData : XnnOpData {
  bool is_signed = true;
  size_t batch = 0;
};

Status fully_connected_quantized_prepare(PrepareContext& ctx) {
  QDET_TRY(ensure_initialized());
  QDET_TRY(require_weighted_arity(ctx));
  QDET_TRY(require_nonempty(ctx, ctx.inputs, "input"));
  const TensorRef& input = *ctx.inputs[0];
  const TensorRef& weights = *ctx.inputs[1];
  const TensorRef* bias = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
  const TensorRef& output = *ctx.outputs[0];
  if (input.dtype != DType::kInt8 && input.dtype != DType::kUInt8)
    return unsupported("{}: input is {}, not int8 or uint8", op_label(ctx),
                       dtype_name(input.dtype));
  if (weights.shape.size() != 2 || !weights.is_constant || weights.data == nullptr)
    return unsupported("{}: weights must be a constant 2-D tensor", op_label(ctx));
  if (bias != nullptr && (!bias->is_constant || bias->data == nullptr))
    return unsupported("{}: bias is not constant", op_label(ctx));
  const int32_t out_channels = weights.shape[0], in_channels = weights.shape[1];
  auto checked = quantized::prepare_conv_quant(op_label(ctx), input, weights, bias, output,
                                               out_channels, /*channel_axis=*/0,
                                               ctx.op.attrs.activation,
                                               /*int8_weight_zero_point=*/true);
  if (!checked.ok()) return Status(StatusCode::kUnsupported, checked.status().message());
  QDET_TRY(require_per_tensor(ctx, input, input.dtype, "input"));
  QDET_TRY(require_per_tensor(ctx, weights, input.dtype, "weights"));
  QDET_TRY(require_per_tensor(ctx, output, input.dtype, "output"));
  if (input.dtype == DType::kInt8 && weights.zero_point() != 0)
    return unsupported("{}: int8 weights with zero point {}", op_label(ctx),
                       weights.zero_point());
  if (input.num_elements() % in_channels != 0)
    return unsupported("{}: input {} is not a whole number of rows of {}", op_label(ctx),
                       shape_to_string(input.shape), in_channels);
  QDET_TRY(require_requantization_scale(ctx, input.scale() * weights.scale() / output.scale()));
  QDET_ASSIGN_OR_RETURN(QuantizedRange range,
                        quantized_activation_range(ctx, ctx.op.attrs.activation, output));
  const int64_t batch = input.num_elements() / in_channels;
  QDET_ASSIGN_OR_RETURN(Shape out, output_shape(ctx, input, batch, in_channels, out_channels));
  auto data = std::make_unique<QuantizedFullyConnectedData>();
  data->is_signed = input.dtype == DType::kInt8;
  data->batch = static_cast<size_t>(batch);
  const auto ic = static_cast<size_t>(in_channels), oc = static_cast<size_t>(out_channels);
  const int32_t* b = bias != nullptr ? bias->as<const int32_t>() : nullptr;
  const xnn_status status =
      data->is_signed
          ? xnn_create_fully_connected_nc_qs8(
                ic, oc, ic, oc, static_cast<int8_t>(input.zero_point()), input.scale(),
                weights.scale(), weights.as<const int8_t>(), b,
                static_cast<int8_t>(output.zero_point()), output.scale(),
                static_cast<int8_t>(range.min), static_cast<int8_t>(range.max), 0, &data->op)
          : xnn_create_fully_connected_nc_qu8(
                ic, oc, ic, oc, static_cast<uint8_t>(input.zero_point()), input.scale(),
                static_cast<uint8_t>(weights.zero_point()), weights.scale(),
                weights.as<const uint8_t>(), b, static_cast<uint8_t>(output.zero_point()),
                output.scale(), static_cast<uint8_t>(range.min),
                static_cast<uint8_t>(range.max), 0, &data->op);
  return finish_prepare(ctx, std::move(data), std::move(out), status, "xnn_create_fully_connected_nc_q{s,u}8");
}

Status fully_connected_quantized_eval(EvalContext& ctx) {
  auto* d = op_data_as<QuantizedFullyConnectedData>(ctx);
  return run_8bit(ctx, d->op, d->is_signed, xnn_setup_fully_connected_nc_qs8, xnn_setup_fully_connected_nc_qu8,
                  "xnn_setup_fully_connected_nc_q{s,u}8", d->batch);
}

}  // namespace

const Kernel kFullyConnectedQuantized = {"xnnpack", fully_connected_quantized_prepare,
                                         fully_connected_quantized_eval};
const Kernel kFullyConnected = {"xnnpack", fully_connected_prepare, fully_connected_eval};

}  // namespace qdet::rt::xnn
