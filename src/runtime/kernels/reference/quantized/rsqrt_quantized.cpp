// RSQRT on int8 (TFLite elementwise.cc RsqrtEvalQuantizedInt8; TFLite ~2.12 has no uint8 or
// int16 RSQRT):
//   M = 1 / (sqrt(s_in) * s_out) in double (QuantizeMultiplier);
//   v = q - z_in; v < 0 is an error ("only defined for positive values"); v = 0 gives 127;
//   otherwise (m, e) = GetInvSqrtQuantizedMultiplierExp(v) and, in Q20,
//   data = MultiplyByQuantizedMultiplier(1, m, e + 20),
//   out = clamp(MultiplyByQuantizedMultiplier(data, M, M.shift - 20) + z_out).
// The 256 possible outputs are tabulated at prepare.
#include <algorithm>
#include <cmath>
#include <memory>

#include "runtime/kernels/reference/quantized/quantized_common.h"
#include "runtime/kernels/reference/quantized/quantized_kernels.h"

namespace qdet::rt::quantized {
namespace {

bool is_int8(DType t) { return t == DType::kInt8; }

struct RsqrtData : OpData {
  int8_t table[256] = {};  // indexed by the input's byte
  int32_t input_zero_point = 0;
};

}  // namespace

Status rsqrt_prepare(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(const ElementwiseTensors t, elementwise_tensors(ctx, "RSQRT", is_int8));
  const double real = 1.0 / (std::sqrt(t.in.scale()) * t.out.scale());
  const QuantizedMultiplier m = quantize_multiplier(real);
  auto d = std::make_unique<RsqrtData>();
  d->input_zero_point = t.in.zero_point();
  constexpr int kShift = 20;
  for (int32_t q = -128; q <= 127; ++q) {
    const int32_t value = q - d->input_zero_point;
    int32_t result = 127;
    if (value > 0) {
      const QuantizedMultiplier inv = inv_sqrt_quantized_multiplier(value);
      const int32_t data = multiply_by_quantized_multiplier(1, inv.multiplier, inv.shift + kShift);
      result = std::clamp(multiply_by_quantized_multiplier(data, m.multiplier, m.shift - kShift) +
                              t.out.zero_point(), -128, 127);
    }
    d->table[static_cast<uint8_t>(static_cast<int8_t>(q))] = static_cast<int8_t>(result);
  }
  t.out.shape = t.in.shape;
  return keep_op_data(ctx, std::move(d));
}

Status rsqrt_eval(EvalContext& ctx) {
  const auto& d = *op_data_as<RsqrtData>(ctx);
  const int8_t* in = ctx.inputs[0]->as<const int8_t>();
  int8_t* out = ctx.outputs[0]->as<int8_t>();
  const int64_t n = ctx.outputs[0]->num_elements();
  for (int64_t i = 0; i < n; ++i) {
    if (in[i] < d.input_zero_point)
      return invalid_argument("RSQRT: input {} is below the zero point {}: RSQRT is only defined "
                              "for values >= 0", in[i], d.input_zero_point);
    out[i] = d.table[static_cast<uint8_t>(in[i])];
  }
  return ok_status();
}

}  // namespace qdet::rt::quantized
