// QUANTIZE from an integer tensor to another (requantization; TFLite quantize.cc with
// reference_ops::Requantize): M = double(s_in) / double(s_out) as a fixed-point multiplier,
//   q_out = clamp(MultiplyByQuantizedMultiplier(q_in - z_in, M) + z_out).
// Only the pairs TFLite requantizes (graph::tflite_requantizes): int8 and uint8 to either, int16
// to int8 or int16.
// int8 <-> uint8 with equal scales and zero points 128 apart is a plain flip of the top bit
// (TFLite's fast path), which the formula above reproduces exactly. float -> int QUANTIZE is
// the float reference kernel's.
#include <memory>

#include "graph/op_traits.h"
#include "runtime/kernels/reference/quantized/quantized_common.h"
#include "runtime/kernels/reference/quantized/quantized_kernels.h"

namespace qdet::rt::quantized {
namespace {

struct RequantizeData : OpData {
  DType in_dtype = DType::kInt8, out_dtype = DType::kInt8;
  int32_t input_zero_point = 0, output_zero_point = 0;
  QuantizedMultiplier multiplier;
};

template <typename In, typename Out>
void requantize_kernel(const RequantizeData& d, const In* in, Out* out, int64_t n) {
  constexpr int32_t qmin = std::numeric_limits<Out>::min();
  constexpr int32_t qmax = std::numeric_limits<Out>::max();
  for (int64_t i = 0; i < n; ++i) {
    const int32_t v = multiply_by_quantized_multiplier(in[i] - d.input_zero_point,
                                                       d.multiplier.multiplier,
                                                       d.multiplier.shift) +
                      d.output_zero_point;
    out[i] = static_cast<Out>(std::clamp(v, qmin, qmax));
  }
}

template <typename In>
void dispatch_out(const RequantizeData& d, const In* in, const TensorRef& out, int64_t n) {
  switch (d.out_dtype) {
    case DType::kInt8: requantize_kernel(d, in, out.as<int8_t>(), n); break;
    case DType::kUInt8: requantize_kernel(d, in, out.as<uint8_t>(), n); break;
    default: requantize_kernel(d, in, out.as<int16_t>(), n); break;
  }
}

bool requantizable(DType t) {
  return t == DType::kInt8 || t == DType::kUInt8 || t == DType::kInt16;
}

}  // namespace

Status requantize_prepare(PrepareContext& ctx) {
  const std::string op = "QUANTIZE";
  QDET_ASSIGN_OR_RETURN(const TensorRef* in, required_input(ctx, 0, op));
  QDET_ASSIGN_OR_RETURN(TensorRef& out, single_output(ctx, op));
  if (!requantizable(in->dtype) || !requantizable(out.dtype))
    return unsupported("{}: requantization kernel does not handle {} -> {}", op,
                       dtype_name(in->dtype), dtype_name(out.dtype));
  if (!graph::tflite_requantizes(in->dtype, out.dtype))
    return unsupported("{}: no {} output (TFLite requantizes {} to {} only; DEQUANTIZE to float32 "
                       "and QUANTIZE from it instead)", op, dtype_name(out.dtype), dtype_name(in->dtype),
                       in->dtype == DType::kInt16 ? "int8 or int16" : "int8 or uint8");
  QDET_TRY(check_per_tensor_quant(*in, op + " input"));
  QDET_TRY(check_per_tensor_quant(out, op + " output"));
  auto d = std::make_unique<RequantizeData>();
  d->in_dtype = in->dtype;
  d->out_dtype = out.dtype;
  d->input_zero_point = in->zero_point();
  d->output_zero_point = out.zero_point();
  const double real = static_cast<double>(in->scale()) / static_cast<double>(out.scale());
  d->multiplier = quantize_multiplier(real);
  if (d->multiplier.shift > 30)
    return unsupported("{}: scale ratio {} is too large", op, real);
  out.shape = in->shape;
  return keep_op_data(ctx, std::move(d));
}

Status requantize_eval(EvalContext& ctx) {
  const auto& d = *op_data_as<RequantizeData>(ctx);
  const TensorRef& in = *ctx.inputs[0];
  const TensorRef& out = *ctx.outputs[0];
  const int64_t n = in.num_elements();
  switch (d.in_dtype) {
    case DType::kInt8: dispatch_out(d, in.as<const int8_t>(), out, n); break;
    case DType::kUInt8: dispatch_out(d, in.as<const uint8_t>(), out, n); break;
    default: dispatch_out(d, in.as<const int16_t>(), out, n); break;
  }
  return ok_status();
}

}  // namespace qdet::rt::quantized
