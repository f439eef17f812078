// PRELU (TFLite prelu.cc): x >= 0 ? x : x * alpha, with alpha broadcast to the input (NumPy
// rules; the output has the broadcast shape).
//   float32: exactly that;
//   int8, uint8 (reference_ops::BroadcastPrelu4DSlow): with x = q_in - z_in,
//     x >= 0: z_out + MultiplyByQuantizedMultiplier(x, M1 = s_in / s_out),
//     else:   z_out + MultiplyByQuantizedMultiplier(x * (q_alpha - z_alpha), M2 = s_in * s_alpha / s_out),
//     clamped; M1 and M2 are computed in float, then QuantizeMultiplier'd in double.
#include "runtime/kernels/reference/common.h"
#include "runtime/quantization_util.h"

namespace qdet::rt::ref {
namespace {

struct PreluData : OpData {
  BroadcastIndexer indexer;
  int32_t in_zp = 0, alpha_zp = 0, out_zp = 0;
  QuantizedMultiplier positive, negative;
};

Status prepare_quantized(const TensorRef& in, const TensorRef& alpha, const TensorRef& out, PreluData& d) {
  for (const TensorRef* t : {&in, &alpha, &out})
    if (!is_quantized(*t) || t->quant->scale.size() != 1 || !(t->scale() > 0))
      return unsupported("PRELU on {} needs per-tensor quantization of input, alpha and output",
                         dtype_name(in.dtype));
  d.in_zp = in.zero_point();
  d.alpha_zp = alpha.zero_point();
  d.out_zp = out.zero_point();
  d.positive = quantize_multiplier(static_cast<double>(in.scale() / out.scale()));
  d.negative = quantize_multiplier(static_cast<double>(in.scale() * alpha.scale() / out.scale()));
  return ok_status();
}

Status prepare(PrepareContext& ctx) {
  QDET_TRY(check_arity(ctx, 2, 2, 1));
  const TensorRef& in = *ctx.inputs[0];
  const TensorRef& alpha = *ctx.inputs[1];
  TensorRef& out = *ctx.outputs[0];
  QDET_TRY(expect_operand_dtypes(in, alpha, out, {DType::kFloat32, DType::kInt8, DType::kUInt8}, "alpha"));
  auto d = std::make_unique<PreluData>();
  if (in.dtype != DType::kFloat32) QDET_TRY(prepare_quantized(in, alpha, out, *d));
  QDET_ASSIGN_OR_RETURN(out.shape, broadcast_shapes(in.shape, alpha.shape));
  QDET_ASSIGN_OR_RETURN(d->indexer, BroadcastIndexer::create(out.shape, {in.shape, alpha.shape}));
  return keep_op_data(ctx, std::move(d));
}

void prelu(const PreluData& d, const float* in, const float* alpha, float* out) {
  d.indexer.for_each([&](int64_t i, const int64_t* off) {
    const float v = in[off[0]];
    out[i] = v >= 0.0f ? v : v * alpha[off[1]];
  });
}

// int8, uint8.
template <typename T>
void prelu(const PreluData& d, const T* in, const T* alpha, T* out) {
  d.indexer.for_each([&](int64_t i, const int64_t* off) {
    const int32_t x = static_cast<int32_t>(in[off[0]]) - d.in_zp;
    int32_t v;
    if (x >= 0) {
      v = multiply_by_quantized_multiplier(x, d.positive.multiplier, d.positive.shift);
    } else {
      const int32_t a = static_cast<int32_t>(alpha[off[1]]) - d.alpha_zp;
      v = multiply_by_quantized_multiplier(x * a, d.negative.multiplier, d.negative.shift);
    }
    out[i] = static_cast<T>(std::clamp<int32_t>(v + d.out_zp, std::numeric_limits<T>::min(),
                                                std::numeric_limits<T>::max()));
  });
}

Status eval(EvalContext& ctx) {
  const auto& d = *op_data_as<PreluData>(ctx);
  return with_typed_binary_io<float, int8_t, uint8_t>(
      ctx, "PRELU", [&](const auto* in, const auto* alpha, auto* out) { prelu(d, in, alpha, out); });
}

}  // namespace

const Kernel kPrelu = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
