// ADD, SUB and MUL on int8, uint8 and int16 tensors with broadcasting (TFLite
// reference_integer_ops::Add / Mul, reference_ops::Add for uint8, and the general-scale int16
// path of TFLite's add.cc / sub.cc / mul.cc).
//
// ADD / SUB (add.cc, sub.cc PrepareGeneralSubOp), with left_shift = 20 (8-bit) or 15 (int16):
//   twice_max = 2 * max(s1, s2); M1 = s1 / twice_max; M2 = s2 / twice_max (negated for SUB:
//   TFLite runs SUB through the ADD kernel with input 2's multiplier times -1);
//   Mout = twice_max / (2^left_shift * s_out)
//   out = clamp(Mout((M1((q1 - z1) << left_shift)) + M2((q2 - z2) << left_shift)) + z_out)
// MUL (mul.cc): M = float(s1 * s2 / s_out) (float arithmetic, as TFLite), then
//   out = clamp(z_out + MultiplyByQuantizedMultiplier((q1 - z1) * (q2 - z2), M))
#include <algorithm>
#include <memory>
#include <type_traits>

#include "runtime/kernels/reference/quantized/quantized_common.h"
#include "runtime/kernels/reference/quantized/quantized_kernels.h"
#include "base/simd_clones.h"

namespace qdet::rt::quantized {
namespace {

struct BinaryData : OpData, BinaryOperands {
  DType dtype = DType::kInt8;
  int left_shift = 0;
  QuantizedMultiplier input1, input2, output;
  QuantizedActivationRange activation;
};

// Checks the common contract of the three ops and fills offsets, broadcasting and the clamp.
Result<std::unique_ptr<BinaryData>> prepare_binary(PrepareContext& ctx, const std::string& op) {
  auto d = std::make_unique<BinaryData>();
  QDET_ASSIGN_OR_RETURN(const BinaryTensors t, binary_tensors(ctx, op, [](DType dtype) {
    return dtype == DType::kInt8 || dtype == DType::kUInt8 || dtype == DType::kInt16;
  }, d.get()));
  const auto& [in1, in2, out] = t;
  if (in1.dtype == DType::kInt16 && (in1.zero_point() != 0 || in2.zero_point() != 0 || out.zero_point() != 0))
    return invalid_argument("{}: int16 tensors must have zero point 0", op);
  d->dtype = in1.dtype;
  auto range = activation_range_quantized(ctx.op.attrs.activation, in1.dtype, out.scale(),
                                          out.zero_point());
  if (!range.ok()) return range.status().with_context(op);
  d->activation = *range;
  return d;
}

// True when TFLite would take its int16 power-of-two-scale path (LSTM style), which qdet does
// not implement: pot_scale_int16 set and every scale an exact power of two with zero point 0.
bool takes_int16_pot_path(const PrepareContext& ctx) {
  if (ctx.inputs[0]->dtype != DType::kInt16 || !ctx.op.attrs.pot_scale_int16) return false;
  auto is_pot = [](float s) {
    int e = 0;
    return std::frexp(s, &e) == 0.5f;
  };
  return is_pot(ctx.inputs[0]->scale()) && is_pot(ctx.inputs[1]->scale()) &&
         is_pot(ctx.outputs[0]->scale());
}

Status prepare_add_sub(PrepareContext& ctx, const std::string& op, int sign) {
  QDET_ASSIGN_OR_RETURN(std::unique_ptr<BinaryData> d, prepare_binary(ctx, op));
  if (takes_int16_pot_path(ctx))
    return unsupported("{}: int16 with power-of-two scales and pot_scale_int16 is not supported",
                       op);
  const float s1 = ctx.inputs[0]->scale(), s2 = ctx.inputs[1]->scale();
  const float so = ctx.outputs[0]->scale();
  d->left_shift = d->dtype == DType::kInt16 ? 15 : 20;
  // Same types as TFLite: the max of two floats doubled, divisions in double.
  const double twice_max = 2 * std::max(s1, s2);
  const double real1 = s1 / twice_max;
  const double real2 = s2 / twice_max;
  const double real_out = twice_max / ((1 << d->left_shift) * so);
  QDET_ASSIGN_OR_RETURN(d->input1,
                        quantize_multiplier_smaller_than_one(real1, (op + " input 1").c_str()));
  QDET_ASSIGN_OR_RETURN(d->input2,
                        quantize_multiplier_smaller_than_one(real2, (op + " input 2").c_str()));
  QDET_ASSIGN_OR_RETURN(d->output,
                        quantize_multiplier_smaller_than_one(real_out, (op + " output").c_str()));
  d->input2.multiplier *= sign;
  return keep_op_data(ctx, std::move(d));
}

// One output value of ADD / SUB (TFLite's add.cc: both inputs rescaled to a common scale,
// summed, requantized), before the activation clamp.
inline int32_t add_value(const BinaryData& d, int32_t a, int32_t b) {
  const int32_t x1 = (d.input1_offset + a) * (1 << d.left_shift);
  const int32_t x2 = (d.input2_offset + b) * (1 << d.left_shift);
  const int32_t s1 = multiply_by_quantized_multiplier_smaller_than_one(x1, d.input1.multiplier, d.input1.shift);
  const int32_t s2 = multiply_by_quantized_multiplier_smaller_than_one(x2, d.input2.multiplier, d.input2.shift);
  return multiply_by_quantized_multiplier_smaller_than_one(s1 + s2, d.output.multiplier, d.output.shift) +
         d.output_offset;
}

// One output value of MUL (TFLite's mul.cc), before the activation clamp.
inline int32_t mul_value(const BinaryData& d, int32_t a, int32_t b) {
  return d.output_offset +
         multiply_by_quantized_multiplier((d.input1_offset + a) * (d.input2_offset + b), d.output.multiplier,
                                          d.output.shift);
}

// int16 ADD / SUB of same-shape inputs (residual connections in 16x8 models) and int16 MUL
// (SiLU's x * sigmoid(x)) as flat loops, compiled also for AVX-512 and AVX2 so that the
// compiler vectorizes them: integer arithmetic only, so every clone gives the same bytes as
// the broadcast loop of binary_kernel.
QDET_SIMD_CLONES void add_flat_int16(
    const BinaryData& d, const int16_t* a, const int16_t* b, int16_t* out, int64_t total) {
  for (int64_t i = 0; i < total; ++i)
    out[i] = static_cast<int16_t>(std::clamp(add_value(d, a[i], b[i]), d.activation.min, d.activation.max));
}

QDET_SIMD_CLONES void mul_flat_int16(
    const BinaryData& d, const int16_t* a, const int16_t* b, int16_t* out, int64_t total) {
  for (int64_t i = 0; i < total; ++i)
    out[i] = static_cast<int16_t>(std::clamp(mul_value(d, a[i], b[i]), d.activation.min, d.activation.max));
}

using FlatInt16 = void (*)(const BinaryData&, const int16_t*, const int16_t*, int16_t*, int64_t);

// ADD / SUB or MUL over broadcast inputs, `value` per output; same-shape int16 inputs take
// the flat loop.
template <typename T, int32_t (*value)(const BinaryData&, int32_t, int32_t), FlatInt16 flat_int16>
void binary_kernel(const BinaryData& d, const T* a, const T* b, T* out, int64_t total) {
  if constexpr (std::is_same_v<T, int16_t>) {
    if (d.plan.same_shape) return flat_int16(d, a, b, out, total);
  }
  for_each_broadcast(d.plan, total, [&](int64_t o, int64_t i1, int64_t i2) {
    out[o] = static_cast<T>(std::clamp(value(d, a[i1], b[i2]), d.activation.min, d.activation.max));
  });
}

template <template <typename> class Fn>
void dispatch(const BinaryData& d, EvalContext& ctx) {
  const TensorRef& a = *ctx.inputs[0];
  const TensorRef& b = *ctx.inputs[1];
  const TensorRef& out = *ctx.outputs[0];
  const int64_t total = out.num_elements();
  switch (d.dtype) {
    case DType::kInt8:
      Fn<int8_t>::run(d, a.as<const int8_t>(), b.as<const int8_t>(), out.as<int8_t>(), total);
      break;
    case DType::kUInt8:
      Fn<uint8_t>::run(d, a.as<const uint8_t>(), b.as<const uint8_t>(), out.as<uint8_t>(),
                       total);
      break;
    default:
      Fn<int16_t>::run(d, a.as<const int16_t>(), b.as<const int16_t>(), out.as<int16_t>(),
                       total);
      break;
  }
}

template <typename T>
struct AddFn {
  static void run(const BinaryData& d, const T* a, const T* b, T* o, int64_t n) {
    binary_kernel<T, add_value, add_flat_int16>(d, a, b, o, n);
  }
};
template <typename T>
struct MulFn {
  static void run(const BinaryData& d, const T* a, const T* b, T* o, int64_t n) {
    binary_kernel<T, mul_value, mul_flat_int16>(d, a, b, o, n);
  }
};

}  // namespace

Status add_prepare(PrepareContext& ctx) { return prepare_add_sub(ctx, "ADD", 1); }
Status sub_prepare(PrepareContext& ctx) { return prepare_add_sub(ctx, "SUB", -1); }

Status add_sub_eval(EvalContext& ctx) {
  dispatch<AddFn>(*op_data_as<BinaryData>(ctx), ctx);
  return ok_status();
}

Status mul_prepare(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(std::unique_ptr<BinaryData> d, prepare_binary(ctx, "MUL"));
  // TFLite: double real_multiplier = input1_scale * input2_scale / output_scale; the right-hand
  // side is float arithmetic, rounded to float before widening.
  const float real = ctx.inputs[0]->scale() * ctx.inputs[1]->scale() / ctx.outputs[0]->scale();
  d->output = quantize_multiplier(static_cast<double>(real));
  return keep_op_data(ctx, std::move(d));
}

Status mul_eval(EvalContext& ctx) {
  dispatch<MulFn>(*op_data_as<BinaryData>(ctx), ctx);
  return ok_status();
}

}  // namespace qdet::rt::quantized
