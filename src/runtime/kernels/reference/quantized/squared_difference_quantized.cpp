// SQUARED_DIFFERENCE on int8 with broadcasting (TFLite squared_difference.cc, its quantized
// path): like ADD's rescaling with left_shift = 7,
//   twice_max = 2 * max(s1, s2); M1 = s1 / twice_max; M2 = s2 / twice_max;
//   Mout = twice_max^2 / (2^14 * s_out) (QuantizeMultiplier: may exceed one);
//   d = M1((q1 - z1) << 7) - M2((q2 - z2) << 7);
//   out = clamp(MultiplyByQuantizedMultiplier(d * d, Mout) + z_out).
#include <algorithm>
#include <memory>

#include "runtime/kernels/reference/quantized/quantized_common.h"
#include "runtime/kernels/reference/quantized/quantized_kernels.h"

namespace qdet::rt::quantized {
namespace {

struct SquaredDifferenceData : OpData, BinaryOperands {
  QuantizedMultiplier input1, input2, output;
};

constexpr int kLeftShift = 7;

}  // namespace

Status squared_difference_prepare(PrepareContext& ctx) {
  const std::string op = "SQUARED_DIFFERENCE";
  auto d = std::make_unique<SquaredDifferenceData>();
  QDET_ASSIGN_OR_RETURN(const BinaryTensors t,
                        binary_tensors(ctx, op, [](DType dtype) { return dtype == DType::kInt8; }, d.get()));
  const auto& [in1, in2, out] = t;
  const double twice_max = 2.0 * std::max(in1.scale(), in2.scale());
  QDET_ASSIGN_OR_RETURN(d->input1, quantize_multiplier_smaller_than_one(in1.scale() / twice_max, "SQUARED_DIFFERENCE input 1"));
  QDET_ASSIGN_OR_RETURN(d->input2, quantize_multiplier_smaller_than_one(in2.scale() / twice_max, "SQUARED_DIFFERENCE input 2"));
  d->output = quantize_multiplier(twice_max * twice_max / ((1 << (2 * kLeftShift)) * static_cast<double>(out.scale())));
  return keep_op_data(ctx, std::move(d));
}

Status squared_difference_eval(EvalContext& ctx) {
  const auto& d = *op_data_as<SquaredDifferenceData>(ctx);
  const int8_t* a = ctx.inputs[0]->as<const int8_t>();
  const int8_t* b = ctx.inputs[1]->as<const int8_t>();
  int8_t* out = ctx.outputs[0]->as<int8_t>();
  for_each_broadcast(d.plan, ctx.outputs[0]->num_elements(), [&](int64_t o, int64_t i1, int64_t i2) {
    const int32_t x1 = multiply_by_quantized_multiplier_smaller_than_one(
        (d.input1_offset + a[i1]) * (1 << kLeftShift), d.input1.multiplier, d.input1.shift);
    const int32_t x2 = multiply_by_quantized_multiplier_smaller_than_one(
        (d.input2_offset + b[i2]) * (1 << kLeftShift), d.input2.multiplier, d.input2.shift);
    const int32_t diff = x1 - x2;
    const int32_t v = multiply_by_quantized_multiplier(diff * diff, d.output.multiplier, d.output.shift) +
                      d.output_offset;
    out[o] = static_cast<int8_t>(std::clamp(v, -128, 127));
  });
  return ok_status();
}

}  // namespace qdet::rt::quantized
