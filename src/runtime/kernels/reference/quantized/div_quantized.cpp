// DIV on uint8 with broadcasting and a fused activation (TFLite div.cc EvalQuantized,
// reference_ops::DivElementwise; TFLite has no int8 or int16 DIV):
//   M = s1 / (s2 * s_out) in float (QuantizeMultiplier: may exceed one);
//   a = q1 - z1, b = q2 - z2, both negated when b < 0;
//   r = GetReciprocal(b) (Q0.31 significand, exponent e), h = CountLeadingSignBits(a);
//   quotient = SaturatingRoundingDoublingHighMul(a << h, r);
//   out = clamp(z_out + RoundingDivideByPOT(SRDHM(quotient, M.multiplier),
//                                           -(M.shift - e - h)), activation range).
// The exponent of the last rounding leaves [0, 31] for small numerators over large divisors
// (TFLite's int32 shifts then take it modulo 32, and e.g. 0.1 / -7.6 comes out as the bottom of
// the range rather than the zero point): qdet computes it as the WebAssembly TFLite does
// (rounding_divide_by_pot_any; every pair of values is a conformance row). A
// divisor equal to its zero point divides by zero, which TFLite does not reject for uint8 (it
// logs an error and runs on): qdet gives the same bytes, from the same arithmetic.
#include <algorithm>
#include <array>
#include <memory>

#include "runtime/kernels/reference/quantized/quantized_common.h"
#include "runtime/kernels/reference/quantized/quantized_kernels.h"

namespace qdet::rt::quantized {
namespace {

struct Reciprocal {
  int32_t significand = 0;
  int shift = 0;
};

struct DivData : OpData, BinaryOperands {
  QuantizedMultiplier output;
  QuantizedActivationRange activation;
  std::array<Reciprocal, 256> reciprocal;  // of |q2 - z2| in [0, 255]
};

}  // namespace

Status div_prepare(PrepareContext& ctx) {
  const std::string op = "DIV";
  auto d = std::make_unique<DivData>();
  QDET_ASSIGN_OR_RETURN(const BinaryTensors t,
                        binary_tensors(ctx, op, [](DType dtype) { return dtype == DType::kUInt8; }, d.get()));
  const auto& [in1, in2, out] = t;
  const float real = in1.scale() / (in2.scale() * out.scale());  // float, as TFLite
  d->output = quantize_multiplier(static_cast<double>(real));
  auto range = activation_range_quantized(ctx.op.attrs.activation, out.dtype, out.scale(), out.zero_point());
  if (!range.ok()) return range.status().with_context(op);
  d->activation = *range;
  for (int32_t b = 0; b < 256; ++b) {
    Reciprocal& r = d->reciprocal[static_cast<size_t>(b)];
    r.significand = reciprocal_fixed_point(b, 31, &r.shift);
  }
  return keep_op_data(ctx, std::move(d));
}

Status div_eval(EvalContext& ctx) {
  const auto& d = *op_data_as<DivData>(ctx);
  const uint8_t* x = ctx.inputs[0]->as<const uint8_t>();
  const uint8_t* y = ctx.inputs[1]->as<const uint8_t>();
  uint8_t* out = ctx.outputs[0]->as<uint8_t>();
  for_each_broadcast(d.plan, ctx.outputs[0]->num_elements(), [&](int64_t o, int64_t i1, int64_t i2) {
    int32_t a = d.input1_offset + x[i1];
    int32_t b = d.input2_offset + y[i2];
    if (b < 0) {
      a = -a;
      b = -b;
    }
    const Reciprocal& r = d.reciprocal[static_cast<size_t>(b)];
    const int headroom = count_leading_sign_bits(a);
    const int32_t quotient = multiply_by_quantized_multiplier_greater_than_one(a, r.significand, headroom);
    const int total_shift = d.output.shift - r.shift - headroom;
    const int32_t v = d.output_offset +
                      rounding_divide_by_pot_any(
                          saturating_rounding_doubling_high_mul(quotient, d.output.multiplier), -total_shift);
    out[o] = static_cast<uint8_t>(std::clamp(v, d.activation.min, d.activation.max));
  });
  return ok_status();
}

}  // namespace qdet::rt::quantized
