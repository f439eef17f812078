// SOFTMAX int16 -> int16 (the 16x8 scheme), TFLite's reference_ops::SoftmaxInt16 (its optimized
// build runs the same code). Along the last dimension, for each row with maximum m:
//   d = MultiplyByQuantizedMultiplier(q - m, M) with M = float(s_in) * beta / (10 / 65535) in
//       double, so that [-65535, 0] spans [-10, 0]; e = lut_exp(clamp(d + 32767)) (Q0.15);
//   sum = sum of e (Q16.15); h = clz(sum); x = ((sum << (h - 1)) + 2^13) >> 14, recentred by
//       -(2^15 + 2^16) and clamped: r = lut_1/(1+x)(x) (Q0.15);
//   q_out = clamp((e * r + 2^(30 - h)) >> (31 - h), 0, 32767).
// The two 513-entry tables interpolate linearly (index 256 + (v >> 7), slope to the next entry,
// (slope * (v & 127) + 64) >> 7) and are built in double with a half-sample bias correction
// (TFLite's gen_lut over [-10, 0] for exp and [0, 1] for 1/(1+x), values scaled by 32768).
// The output must be zero point 0 and scale 1/32768 (TFLite checks both): q_out is the
// probability in Q0.15 whatever the output scale says.
#include <bit>
#include <cmath>
#include <memory>

#include "runtime/kernels/reference/quantized/quantized_common.h"
#include "runtime/kernels/reference/quantized/quantized_kernels.h"

namespace qdet::rt::quantized {
namespace {

constexpr int kLutSize = 513;

struct SoftmaxInt16Data : OpData, LastDimRows {
  int16_t exp_lut[kLutSize] = {};
  int16_t reciprocal_lut[kLutSize] = {};
  QuantizedMultiplier input_multiplier;
};

void build_lut(double (*f)(double), double min, double max, int16_t* table) {
  const double step = (max - min) / (kLutSize - 1);
  const double half_step = step / 2.0;
  const auto clamp16 = [](double v) { return std::min(std::max(v, -32768.0), 32767.0); };
  for (int i = 0; i < kLutSize - 1; ++i) {
    const double sample = std::round(f(min + i * step) * 32768.0);
    const double midpoint_interpolated =
        std::round((f(min + (i + 1) * step) * 32768.0 + sample) / 2.0);
    const double midpoint = std::round(f(min + i * step + half_step) * 32768.0);
    const double bias = std::round((midpoint_interpolated - midpoint) / 2.0);
    table[i] = static_cast<int16_t>(clamp16(sample - bias));
  }
  table[kLutSize - 1] = static_cast<int16_t>(clamp16(std::round(f(max) * 32768.0)));
}

int16_t lut_lookup(int16_t value, const int16_t* lut) {
  const auto index = static_cast<uint16_t>(256 + (value >> 7));
  const int16_t offset = value & 0x7f;
  const int16_t base = lut[index];
  const int16_t slope = static_cast<int16_t>(lut[index + 1] - lut[index]);
  const int32_t delta = (static_cast<int32_t>(slope) * offset + 64) >> 7;
  return static_cast<int16_t>(base + delta);
}

int16_t clamp_int16(int32_t v) { return static_cast<int16_t>(std::clamp(v, -32768, 32767)); }

double exp_double(double x) { return std::exp(x); }
double reciprocal_one_plus(double x) { return 1.0 / (1.0 + x); }

}  // namespace

Status softmax_int16_prepare(PrepareContext& ctx) {
  const std::string op = "SOFTMAX";
  QDET_ASSIGN_OR_RETURN(const TensorRef* in, required_input(ctx, 0, op));
  QDET_ASSIGN_OR_RETURN(TensorRef& out, single_output(ctx, op));
  if (in->dtype != DType::kInt16 || out.dtype != DType::kInt16)
    return unsupported("{}: int16 kernel does not handle {} -> {}", op, dtype_name(in->dtype),
                       dtype_name(out.dtype));
  if (in->shape.empty()) return invalid_argument("{}: input must have at least one dimension", op);
  QDET_TRY(check_per_tensor_quant(*in, op + " input"));
  QDET_TRY(check_per_tensor_quant(out, op + " output"));
  if (in->zero_point() != 0 || out.zero_point() != 0)
    return invalid_argument("{}: int16 input and output need zero point 0, got {} and {}", op,
                            in->zero_point(), out.zero_point());
  if (std::fabs(out.scale() - 1.0f / 32768) > 0.001f / 32768)
    return invalid_argument("{}: int16 output scale must be 1/32768, got {}", op, out.scale());
  auto d = std::make_unique<SoftmaxInt16Data>();
  build_lut(exp_double, -10.0, 0.0, d->exp_lut);
  build_lut(reciprocal_one_plus, 0.0, 1.0, d->reciprocal_lut);
  const double rescale = static_cast<double>(in->scale() * ctx.op.attrs.beta) / (10.0 / 65535.0);
  if (!std::isfinite(rescale) || rescale < 0)
    return invalid_argument("{}: input scale x beta = {} is not usable", op, rescale);
  d->input_multiplier = quantize_multiplier(rescale);
  static_cast<LastDimRows&>(*d) = last_dim_rows(*in);
  out.shape = in->shape;
  return keep_op_data(ctx, std::move(d));
}

Status softmax_int16_eval(EvalContext& ctx) {
  const auto& d = *op_data_as<SoftmaxInt16Data>(ctx);
  const int16_t* in = ctx.inputs[0]->as<const int16_t>();
  int16_t* out = ctx.outputs[0]->as<int16_t>();
  const QuantizedMultiplier& m = d.input_multiplier;
  for (int64_t r = 0; r < d.rows; ++r, in += d.depth, out += d.depth) {
    int16_t max_in_row = std::numeric_limits<int16_t>::min();
    for (int32_t c = 0; c < d.depth; ++c) max_in_row = std::max(max_in_row, in[c]);
    int32_t sum_of_exps = 0;  // Q16.15; the exps are kept in the output row meanwhile
    for (int32_t c = 0; c < d.depth; ++c) {
      const int32_t scaled = multiply_by_quantized_multiplier(
          static_cast<int32_t>(in[c]) - max_in_row, m.multiplier, m.shift);
      out[c] = lut_lookup(clamp_int16(scaled + 32767), d.exp_lut);
      sum_of_exps += out[c];
    }
    const int headroom_plus_one = std::countl_zero(static_cast<uint32_t>(sum_of_exps));
    const auto shifted_sum = static_cast<int32_t>(
        ((static_cast<int64_t>(sum_of_exps) << (headroom_plus_one - 1)) + (1 << 13)) >> 14);
    const int16_t reciprocal =
        lut_lookup(clamp_int16(shifted_sum - ((1 << 15) + (1 << 16))), d.reciprocal_lut);
    const int right_shift = 31 - headroom_plus_one;
    const int64_t round = int64_t{1} << (right_shift - 1);
    for (int32_t c = 0; c < d.depth; ++c) {
      const auto result = static_cast<int32_t>(
          (static_cast<int64_t>(out[c]) * reciprocal + round) >> right_shift);
      out[c] = static_cast<int16_t>(std::clamp(result, 0, 32767));
    }
  }
  return ok_status();
}

}  // namespace qdet::rt::quantized
