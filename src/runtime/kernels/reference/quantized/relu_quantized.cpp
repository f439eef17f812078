// RELU, RELU6, RELU_N1_TO_1 and LEAKY_RELU on int8, uint8 and int16, with TFLite's integer
// arithmetic (activations.cc, reference_ops::ReluX / QuantizeLeakyRelu):
//
// RELU family: requantize, then clamp.
//   M = double(float(s_in) / float(s_out)) as QuantizeMultiplier {m, shift};
//   q_out = z_out + MultiplyByQuantizedMultiplier(q_in - z_in, m, shift), clamped to
//   [max(qmin, z_out + int(roundf(lo / s_out))), min(qmax, z_out + int(roundf(hi / s_out)))]
//   with (lo, hi) = (0, +inf) RELU, (0, 6) RELU6, (-1, 1) RELU_N1_TO_1 (+inf: no upper clamp).
// LEAKY_RELU: two multipliers, identity = float(s_in) / float(s_out) and
//   alpha = float(s_in) * alpha / float(s_out) (float arithmetic, then double);
//   q_in - z_in >= 0 takes the identity one, negative inputs the alpha one; clamp to the dtype.
// int16 requires zero points 0 on both sides (TFLite checks it). Every output of an 8-bit op
// depends on one input byte only, so prepare tabulates all 256 results with the formula above
// and eval is a table lookup (the same bytes, several times faster); int16 evaluates the
// formula per element.
#include <cmath>
#include <limits>
#include <memory>

#include "runtime/kernels/reference/quantized/quantized_common.h"
#include "runtime/kernels/reference/quantized/quantized_kernels.h"

namespace qdet::rt::quantized {
namespace {

// The per-element map q_in -> q_out of one op, as integers.
struct Requantize {
  int32_t in_zero_point = 0, out_zero_point = 0;
  QuantizedMultiplier positive, negative;  // negative == positive except LEAKY_RELU
  int32_t lo = 0, hi = 0;                  // output clamp

  int32_t operator()(int32_t q) const {
    const int32_t x = q - in_zero_point;
    const QuantizedMultiplier& m = x >= 0 ? positive : negative;
    const int32_t v = out_zero_point + multiply_by_quantized_multiplier(x, m.multiplier, m.shift);
    return std::clamp(v, lo, hi);
  }
};

struct ActivationData : OpData {
  DType dtype = DType::kInt8;
  Requantize map;
  uint8_t table[256] = {};  // 8-bit dtypes: the output byte for each input byte
};

template <typename T>
void fill_table(ActivationData& d) {
  for (int32_t v = std::numeric_limits<T>::min(); v <= std::numeric_limits<T>::max(); ++v)
    d.table[static_cast<uint8_t>(static_cast<T>(v))] =
        static_cast<uint8_t>(static_cast<T>(d.map(v)));
}

// Checks dtypes and parameters common to the four ops; the output takes the input's shape.
Result<std::unique_ptr<ActivationData>> prepare_common(PrepareContext& ctx, const std::string& op) {
  auto int8_uint8_or_int16 = [](DType t) { return is_int8_or_uint8(t) || t == DType::kInt16; };
  QDET_ASSIGN_OR_RETURN(const ElementwiseTensors t, elementwise_tensors(ctx, op, int8_uint8_or_int16));
  const TensorRef* in = &t.in;
  TensorRef& out = t.out;
  if (in->dtype == DType::kInt16 && (in->zero_point() != 0 || out.zero_point() != 0))
    return invalid_argument("{}: int16 input and output need zero point 0, got {} and {}", op,
                            in->zero_point(), out.zero_point());
  auto d = std::make_unique<ActivationData>();
  d->dtype = in->dtype;
  d->map.in_zero_point = in->zero_point();
  d->map.out_zero_point = out.zero_point();
  d->map.lo = dtype_qmin(in->dtype);
  d->map.hi = dtype_qmax(in->dtype);
  out.shape = in->shape;
  return d;
}

// A ratio of scales as a multiplier; an error when the ratio overflows a float.
Result<QuantizedMultiplier> scale_ratio(const std::string& op, float ratio) {
  if (!std::isfinite(ratio))
    return invalid_argument("{}: input/output scale ratio {} is not finite", op, ratio);
  QuantizedMultiplier m = quantize_multiplier(std::fabs(static_cast<double>(ratio)));
  if (ratio < 0) m.multiplier = -m.multiplier;  // LEAKY_RELU with a negative alpha
  return m;
}

void finish(PrepareContext& ctx, std::unique_ptr<ActivationData> d) {
  if (d->dtype == DType::kInt8) fill_table<int8_t>(*d);
  if (d->dtype == DType::kUInt8) fill_table<uint8_t>(*d);
  ctx.op_data = std::move(d);
}

Status prepare_relu_x(PrepareContext& ctx, const std::string& op, float lo, float hi) {
  QDET_ASSIGN_OR_RETURN(auto d, prepare_common(ctx, op));
  const float in_scale = ctx.inputs[0]->scale(), out_scale = ctx.outputs[0]->scale();
  QDET_ASSIGN_OR_RETURN(d->map.positive, scale_ratio(op, in_scale / out_scale));
  d->map.negative = d->map.positive;
  const int32_t zp = d->map.out_zero_point;
  d->map.lo = std::max(d->map.lo, zp + static_cast<int32_t>(std::roundf(lo / out_scale)));
  if (hi != std::numeric_limits<float>::infinity())
    d->map.hi = std::min(d->map.hi, zp + static_cast<int32_t>(std::roundf(hi / out_scale)));
  finish(ctx, std::move(d));
  return ok_status();
}

template <typename T>
void apply(const Requantize& map, const T* in, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(map(in[i]));
}

}  // namespace

Status relu_prepare(PrepareContext& ctx) {
  return prepare_relu_x(ctx, "RELU", 0.0f, std::numeric_limits<float>::infinity());
}
Status relu6_prepare(PrepareContext& ctx) { return prepare_relu_x(ctx, "RELU6", 0.0f, 6.0f); }
Status relu_n1_to_1_prepare(PrepareContext& ctx) {
  return prepare_relu_x(ctx, "RELU_N1_TO_1", -1.0f, 1.0f);
}

Status leaky_relu_prepare(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(auto d, prepare_common(ctx, "LEAKY_RELU"));
  const float in_scale = ctx.inputs[0]->scale(), out_scale = ctx.outputs[0]->scale();
  const float alpha = ctx.op.attrs.alpha;
  if (!std::isfinite(alpha))
    return invalid_argument("LEAKY_RELU: alpha {} is not finite", alpha);
  QDET_ASSIGN_OR_RETURN(d->map.positive, scale_ratio("LEAKY_RELU", in_scale / out_scale));
  QDET_ASSIGN_OR_RETURN(d->map.negative, scale_ratio("LEAKY_RELU", in_scale * alpha / out_scale));
  finish(ctx, std::move(d));
  return ok_status();
}

Status activation_eval(EvalContext& ctx) {
  const auto& d = *op_data_as<ActivationData>(ctx);
  const TensorRef& in = *ctx.inputs[0];
  const int64_t n = in.num_elements();
  if (d.dtype == DType::kInt16) {
    apply(d.map, in.as<const int16_t>(), ctx.outputs[0]->as<int16_t>(), n);
    return ok_status();
  }
  const uint8_t* src = in.as<const uint8_t>();
  uint8_t* dst = ctx.outputs[0]->as<uint8_t>();
  for (int64_t i = 0; i < n; ++i) dst[i] = d.table[src[i]];
  return ok_status();
}

}  // namespace qdet::rt::quantized
