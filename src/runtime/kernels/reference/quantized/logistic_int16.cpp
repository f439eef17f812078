// LOGISTIC on int16 (the 16x8 scheme), as TFLite ~2.12 runs it (activations.cc SigmoidPrepare /
// SigmoidEval, reference_integer_ops::Logistic for int16):
//
//   prepare: input and output zero points 0, output scale exactly 2^-15. With the input scale a
//            power of two equal to 2^-12 (CheckedLog2: |log2 frac| < 1e-3) the "POT" case uses
//            multiplier 3 and shift 0; otherwise multiplier = in_scale * 4096 * 3 doubled until
//            it exceeds 32767 / 2 (at most 31 doublings), truncated to an integer, shift = the
//            number of doublings.
//   eval:    x = (q * multiplier + round) >> shift (round = 2^(shift-1)), in units of 1/(3*4096);
//            |x| >> 9 indexes a 256-entry table of sigmoid(i / 24) in 0.16 fixed point,
//            interpolated with the low 9 bits; negative inputs use 1 - sigmoid(|x|); the result
//            is rounded back to 15 fractional bits.
//
// TFLite's generic-optimized kernel takes the same reference path whenever the multiplier is
// non-zero (any non-power-of-two scale), which is what calibrated models have.
//
// TANH on int16 (TanhPrepare / reference_integer_ops::Tanh) uses the same table as
// tanh(x) = 2 sigmoid(2x) - 1: the same multiplier rule (power-of-two case: input left shift 0
// or 1, multiplier 3 << shift), |x| >> 8 indexes the table with 8 interpolation bits, and
// the result is recentred and shifted down by 8. A power-of-two input scale makes TFLite's
// optimized kernel run a different (gemmlowp) tanh: qdet declines those.
#include <array>
#include <cmath>
#include <cstdlib>
#include <memory>

#include "runtime/kernels/reference/quantized/quantized_common.h"
#include "runtime/kernels/reference/quantized/quantized_kernels.h"
#include "base/simd_clones.h"

namespace qdet::rt::quantized {
namespace {

// sigmoid(i / 24) in unsigned 0.16 fixed point: the values of TFLite's sigmoid_table_uint16
// (tensorflow/lite/kernels/internal/common.h, Apache-2.0). They are not plain roundings of the
// function (44 of 256 entries differ from round(65536 * sigmoid(i / 24)) by one), so bit
// exactness needs the values themselves.
constexpr std::array<uint16_t, 256> kSigmoidTable = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432, 42064, 42688,
    43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409,
    51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110,
    61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186,
    63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900,
    64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208,
    65221, 65234, 65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449,
    65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
    65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530,
    65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535,
};

const std::array<uint16_t, 256>& sigmoid_table() { return kSigmoidTable; }

// TFLite CheckedLog2.
bool checked_log2(float x, int* log2_result) {
  const float x_log2 = std::log(x) * (1.0f / std::log(2.0f));
  const float rounded = std::round(x_log2);
  *log2_result = static_cast<int>(rounded);
  return std::fabs(x_log2 - rounded) < 1e-3f;
}

struct LogisticInt16Data : OpData {
  int32_t multiplier = 0;
  int32_t left_shift = 0;
};

// The input multiplier and shift of LOGISTIC / TANH on int16 (SigmoidPrepare / TanhPrepare):
// the power-of-two case when the scale is 2^-12 (LOGISTIC: left shift 0; TANH: 0 or 1),
// else the scale times 4096 * 3 doubled past 32767 / 2.
Status int16_multiplier(const TensorRef& in, bool tanh, LogisticInt16Data& d, const std::string& op) {
  constexpr int kInputIntegerBits = 3;
  int in_log2 = 0;
  bool pot = checked_log2(in.scale(), &in_log2);
  d.left_shift = (15 - kInputIntegerBits) + in_log2;
  pot = pot && (d.left_shift == 0 || (tanh && d.left_shift == 1));
  if (pot) {
    if (tanh) return unsupported("{}: int16 input scale {} is a power of two (TFLite's gemmlowp path)", op, in.scale());
    d.multiplier = 3;  // the reference kernel's power-of-two case: 3 << 0
    d.left_shift = 0;
    return ok_status();
  }
  double multiplier = static_cast<double>(in.scale()) * 4096.0 * 3.0;
  d.left_shift = 0;
  while (multiplier <= 32767.0 / 2.0 && d.left_shift <= 30) {
    ++d.left_shift;
    multiplier *= 2.0;
  }
  d.multiplier = static_cast<int32_t>(multiplier);
  // TFLite computes x = q * multiplier in int32: |q| <= 32768 needs multiplier < 2^16.
  if (d.multiplier >= (1 << 16))
    return invalid_argument("{}: int16 input scale {} is too large (multiplier {})", op,
                            in.scale(), d.multiplier);
  return ok_status();
}

Result<std::unique_ptr<LogisticInt16Data>> prepare_int16(PrepareContext& ctx, const std::string& op, bool tanh) {
  QDET_ASSIGN_OR_RETURN(const TensorRef* in, required_input(ctx, 0, op));
  if (in->dtype != DType::kInt16)
    return unsupported("{}: int16 kernel does not handle {}", op, dtype_name(in->dtype));
  QDET_ASSIGN_OR_RETURN(TensorRef& out, single_output(ctx, op));
  if (out.dtype != DType::kInt16)
    return unsupported("{}: int16 input with {} output is not supported", op, dtype_name(out.dtype));
  QDET_TRY(check_per_tensor_quant(*in, op + " input"));
  QDET_TRY(check_per_tensor_quant(out, op + " output"));
  if (in->zero_point() != 0 || out.zero_point() != 0)
    return invalid_argument("{}: int16 zero points must be 0 (input {}, output {})", op,
                            in->zero_point(), out.zero_point());
  int out_log2 = 0;
  if (static_cast<double>(out.scale()) != 1.0 / 32768 || !checked_log2(out.scale(), &out_log2))
    return invalid_argument("{}: int16 output scale must be 1/32768, got {}", op, out.scale());
  auto d = std::make_unique<LogisticInt16Data>();
  QDET_TRY(int16_multiplier(*in, tanh, *d, op));
  out.shape = in->shape;
  return d;
}

}  // namespace

Status logistic_int16_prepare(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(auto d, prepare_int16(ctx, "LOGISTIC", /*tanh=*/false));
  return keep_op_data(ctx, std::move(d));
}

Status tanh_int16_prepare(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(auto d, prepare_int16(ctx, "TANH", /*tanh=*/true));
  return keep_op_data(ctx, std::move(d));
}

Status tanh_int16_eval(EvalContext& ctx) {
  const auto& d = *op_data_as<LogisticInt16Data>(ctx);
  const int16_t* in = ctx.inputs[0]->as<const int16_t>();
  int16_t* out = ctx.outputs[0]->as<int16_t>();
  const int32_t round = d.left_shift > 0 ? 1 << (d.left_shift - 1) : 0;
  const int64_t n = ctx.inputs[0]->num_elements();
  for (int64_t i = 0; i < n; ++i) {
    const int32_t x = (static_cast<int32_t>(in[i]) * d.multiplier + round) >> d.left_shift;
    const uint32_t ax = static_cast<uint32_t>(x < 0 ? -x : x);
    const uint32_t uh = ax >> 8;
    int32_t result = 0xFFFF << 8;  // saturated
    if (uh < 255) {
      const uint32_t ua = sigmoid_table()[uh], ub = sigmoid_table()[uh + 1];
      result = static_cast<int32_t>((ua << 8) + (ax & 0xFF) * (ub - ua));
    }
    result = x >= 0 ? result - (1 << (14 + 9)) + (1 << (9 - 2))
                    : -result + (1 << (14 + 9)) + (1 << (9 - 2)) - 1;
    out[i] = static_cast<int16_t>(result >> (9 - 1));
  }
  return ok_status();
}

namespace {

// The element loop, compiled also for AVX-512 and AVX2 so that the compiler vectorizes it (the
// table reads become gathers): integer arithmetic only, so every clone gives the same bytes.
QDET_SIMD_CLONES void logistic_int16_loop(
    const LogisticInt16Data& d, const int16_t* in, int16_t* out, int64_t n) {
  // The table widened to 32 bits (gathers), and both branches computed then selected: the same
  // values as TFLite's loop, in a form the vectorizer takes.
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (size_t i = 0; i < t.size(); ++i) t[i] = sigmoid_table()[i];
    return t;
  }();
  const int32_t round = d.left_shift > 0 ? 1 << (d.left_shift - 1) : 0;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t x = (static_cast<int32_t>(in[i]) * d.multiplier + round) >> d.left_shift;
    const uint32_t ax = static_cast<uint32_t>(x < 0 ? -x : x);  // |x| < 2^31: no overflow
    const uint32_t uh = ax >> 9;
    const uint32_t h = uh < 255 ? uh : 254;
    const uint32_t ua = table[h], ub = table[h + 1];
    const uint32_t ut = ax & 0x1FF;
    uint32_t result = uh >= 255 ? 0x7FFFu << 10 : (ua << 9) + ut * (ub - ua);
    result = x >= 0 ? result + (1u << 9) : (1u << (16 + 9)) - result + (1u << 9) - 1;
    out[i] = static_cast<int16_t>(result >> 10);
  }
}

}  // namespace

Status logistic_int16_eval(EvalContext& ctx) {
  const auto& d = *op_data_as<LogisticInt16Data>(ctx);
  logistic_int16_loop(d, ctx.inputs[0]->as<const int16_t>(), ctx.outputs[0]->as<int16_t>(),
                      ctx.inputs[0]->num_elements());
  return ok_status();
}

}  // namespace qdet::rt::quantized
