// Quantized LOGISTIC as xnn_sigmoid_nc_qs8 / _qu8 over the flattened tensor. XNNPACK builds a
// 256-entry table in float (sigmoid of each dequantized input, rounded to nearest-even) as
// TFLite's LUT path does (in round-half-away): entries agree within one step. Both TFLite and
// XNNPACK require the output quantization scale 1/256 with zero point -128 (int8) or 0
// (uint8); XNNPACK refuses anything else at creation and the reference runs the op.
#include "runtime/kernels/xnnpack/kernels.h"
#include "runtime/kernels/xnnpack/xnn_common.h"

namespace qdet::rt::xnn {
namespace {

struct QuantizedUnaryData : XnnOpData {
  bool is_signed = true;
  size_t elements = 0;
};

Status logistic_prepare(PrepareContext& ctx) {
  QDET_TRY(ensure_initialized());
  QDET_TRY(require_arity(ctx, 1));
  QDET_TRY(require_nonempty(ctx, ctx.inputs, "input"));
  const TensorRef& in = *ctx.inputs[0];
  const TensorRef& out = *ctx.outputs[0];
  if (in.dtype != DType::kInt8 && in.dtype != DType::kUInt8)
    return unsupported("{}: input is {}, xnnpack quantized kernels take int8 or uint8",
                       op_label(ctx), dtype_name(in.dtype));
  QDET_TRY(require_per_tensor(ctx, in, in.dtype, "input"));
  QDET_TRY(require_per_tensor(ctx, out, in.dtype, "output"));
  auto data = std::make_unique<QuantizedUnaryData>();
  data->is_signed = in.dtype == DType::kInt8;
  data->elements = static_cast<size_t>(in.num_elements());
  const xnn_status status =
      data->is_signed
          ? xnn_create_sigmoid_nc_qs8(1, 1, 1, static_cast<int8_t>(in.zero_point()), in.scale(),
                                      static_cast<int8_t>(out.zero_point()), out.scale(), INT8_MIN,
                                      INT8_MAX, /*flags=*/0, &data->op)
          : xnn_create_sigmoid_nc_qu8(1, 1, 1, static_cast<uint8_t>(in.zero_point()), in.scale(),
                                      static_cast<uint8_t>(out.zero_point()), out.scale(), 0,
                                      UINT8_MAX, /*flags=*/0, &data->op);
  return finish_prepare(ctx, std::move(data), in.shape, status, "xnn_create_sigmoid_nc_q{s,u}8");
}

Status quantized_unary_eval(EvalContext& ctx) {
  auto* d = op_data_as<QuantizedUnaryData>(ctx);
  return run_8bit(ctx, d->op, d->is_signed, xnn_setup_sigmoid_nc_qs8, xnn_setup_sigmoid_nc_qu8,
                  "xnn_setup_sigmoid_nc_q{s,u}8", d->elements);
}

}  // namespace

const Kernel kLogisticQuantized = {"xnnpack", logistic_prepare, quantized_unary_eval};

}  // namespace qdet::rt::xnn
