// MEAN and SUM on int8, uint8 and int16, as TFLite ~2.12 runs them (reduce.cc EvalMean with
// its reference kernels, which is what builds without NEON register; EvalSum):
//
// MEAN, three paths chosen at prepare like TFLite's:
//   over H and W of a 4-D input with keep_dims and the axes exactly {1, 2} or {2, 1}:
//     int8 (reference_integer_ops::Mean): acc = sum(q - z_in),
//       acc = MultiplyByQuantizedMultiplier(acc, M = s_in / s_out), divided by the count
//       rounding half away from zero, + z_out, clamped;
//     uint8 (reference_ops::Mean): acc = sum(q) (raw), MultiplyByQuantizedMultiplier with
//       M = double(float(s_in / (float(count) * s_out))), + (z_out - int(z_in * s_in / s_out))
//       in float, clamped;
//   the same scale and zero point in and out: the integer sum of the raw values divided by the
//     count, truncated toward zero;
//     (int16 takes the rescaling path below there too: the TFLite the peer runs does, one
//     step apart from reference_integer_ops::Mean on some elements);
//   otherwise (QuantizedMeanOrSum): in float, round(float(sum) / count * (s_in / s_out)
//     - z_in * (s_in / s_out)) + z_out, clamped.
// SUM with different scales or zero points (int8, uint8; QuantizedMeanOrSum with compute_sum):
//   round(float(sum) * r - z_in * r * count) + z_out with r = s_in / s_out, converted to the
//   output type without saturation (TFLite's cast; it wraps).
// SUM with the same scale and zero point in and out (int8, uint8, int16; reduce.cc EvalGeneric):
//   the raw values summed in the input's type, wrapping on overflow. int16 SUM with differing
//   parameters is an error in TFLite: no qdet kernel.
// int16 needs zero points 0 (TFLite checks it).
#include <cmath>
#include <memory>

#include "runtime/kernels/reference/quantized/quantized_common.h"
#include "runtime/kernels/reference/quantized/quantized_kernels.h"
#include "runtime/kernels/reference/reduce.h"

namespace qdet::rt::quantized {
namespace {

enum class Path : uint8_t { kMeanHw, kMeanHwUint8, kMeanSameParams, kMeanRescale, kSumRescale, kSumRaw };

struct ReduceData : OpData {
  ref::ReduceGeometry g;
  Path path = Path::kMeanRescale;
  DType dtype = DType::kInt8;
  int32_t in_zp = 0, out_zp = 0;
  QuantizedMultiplier m;
  int32_t bias = 0;            // kMeanHwUint8
  float scale = 1, fbias = 0;  // the float paths
};

Result<std::unique_ptr<ReduceData>> prepare_common(PrepareContext& ctx, const std::string& op) {
  QDET_ASSIGN_OR_RETURN(const TensorRef* in, required_input(ctx, 0, op));
  if (!is_int8_or_uint8(in->dtype) && in->dtype != DType::kInt16)
    return unsupported("{}: quantized kernel does not handle {}", op, dtype_name(in->dtype));
  auto d = std::make_unique<ReduceData>();
  QDET_ASSIGN_OR_RETURN(d->g, ref::prepare_reduce(ctx));
  const TensorRef& out = *ctx.outputs[0];
  QDET_TRY(check_per_tensor_quant(*in, op + " input"));
  QDET_TRY(check_per_tensor_quant(out, op + " output"));
  if (in->dtype == DType::kInt16 && (in->zero_point() != 0 || out.zero_point() != 0))
    return invalid_argument("{}: int16 input and output need zero point 0, got {} and {}", op,
                            in->zero_point(), out.zero_point());
  d->dtype = in->dtype;
  d->in_zp = in->zero_point();
  d->out_zp = out.zero_point();
  d->scale = in->scale() / out.scale();
  return d;
}

// What TFLite precomputes for its MEAN path.
void choose_mean_path(const TensorRef& in, const TensorRef& out, bool keep_dims, ReduceData& d) {
  if (ref::is_mean_over_hw(d.g, keep_dims) && in.dtype != DType::kInt16) {
    if (in.dtype == DType::kUInt8) {
      const float count = static_cast<float>(in.shape[1] * in.shape[2]);
      d.path = Path::kMeanHwUint8;
      d.bias = d.out_zp - static_cast<int32_t>(static_cast<float>(d.in_zp) * in.scale() / out.scale());
      d.m = quantize_multiplier(static_cast<double>(in.scale() / (count * out.scale())));
    } else {
      d.path = Path::kMeanHw;
      d.m = quantize_multiplier(static_cast<double>(in.scale()) / static_cast<double>(out.scale()));
    }
  } else if (ref::same_quantization(in, out)) {
    d.path = Path::kMeanSameParams;
  } else {
    d.path = Path::kMeanRescale;
    d.fbias = static_cast<float>(-d.in_zp) * d.scale;
  }
}

template <typename T>
T saturate(int32_t v) {
  return static_cast<T>(std::clamp<int32_t>(v, std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
}

template <typename T>
T reduce_one(const ReduceData& d, int32_t sum) {
  const auto count = static_cast<int32_t>(d.g.reduce_count);
  switch (d.path) {
    case Path::kMeanHw: {
      int32_t acc = multiply_by_quantized_multiplier(sum - d.in_zp * count, d.m.multiplier, d.m.shift);
      acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
      return saturate<T>(acc + d.out_zp);
    }
    case Path::kMeanHwUint8:
      return saturate<T>(multiply_by_quantized_multiplier(sum, d.m.multiplier, d.m.shift) + d.bias);
    case Path::kMeanSameParams: return static_cast<T>(sum / count);
    case Path::kMeanRescale: {
      const float mean = static_cast<float>(sum) / static_cast<float>(count);
      float r = std::round(mean * d.scale + d.fbias) + static_cast<float>(d.out_zp);
      r = std::min(r, static_cast<float>(std::numeric_limits<T>::max()));
      return static_cast<T>(std::max(r, static_cast<float>(std::numeric_limits<T>::min())));
    }
    case Path::kSumRescale: {
      const auto v = static_cast<int32_t>(std::round(static_cast<float>(sum) * d.scale + d.fbias));
      return static_cast<T>(v + d.out_zp);
    }
    case Path::kSumRaw: return static_cast<T>(sum);  // modulo 2^bits, as TFLite's narrow adds
  }
  return T{};
}

template <typename T>
void reduce_all(const ReduceData& d, const T* in, T* out, int32_t* sums, int64_t out_n) {
  for (int64_t i = 0; i < out_n; ++i) sums[i] = 0;
  // Wrapping adds: a huge reduction may leave int32 (only kSumRaw keeps the wrapped bits).
  ref::for_each_reduced(d.g, [&](int64_t i, int64_t o) {
    sums[o] = static_cast<int32_t>(static_cast<uint32_t>(sums[o]) + static_cast<uint32_t>(int32_t{in[i]}));
  });
  if (d.g.reduce_count == 0) return;  // TFLite leaves an empty reduction's output alone
  for (int64_t i = 0; i < out_n; ++i) out[i] = reduce_one<T>(d, sums[i]);
}

}  // namespace

Status mean_prepare(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(auto d, prepare_common(ctx, "MEAN"));
  choose_mean_path(*ctx.inputs[0], *ctx.outputs[0], ctx.op.attrs.keep_dims, *d);
  ctx.scratch_bytes = static_cast<size_t>(ctx.outputs[0]->num_elements()) * sizeof(int32_t);
  return keep_op_data(ctx, std::move(d));
}

Status sum_prepare(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(auto d, prepare_common(ctx, "SUM"));
  if (ref::same_quantization(*ctx.inputs[0], *ctx.outputs[0])) {
    d->path = Path::kSumRaw;
  } else if (d->dtype == DType::kInt16) {
    return unsupported("SUM on int16 needs the same scale in and out (TFLite has no rescaling "
                       "int16 SUM)");
  } else {
    d->path = Path::kSumRescale;
  }
  d->fbias = static_cast<float>(-d->in_zp) * d->scale * static_cast<float>(d->g.reduce_count);
  ctx.scratch_bytes = static_cast<size_t>(ctx.outputs[0]->num_elements()) * sizeof(int32_t);
  return keep_op_data(ctx, std::move(d));
}

Status reduce_eval(EvalContext& ctx) {
  const auto& d = *op_data_as<ReduceData>(ctx);
  auto* sums = reinterpret_cast<int32_t*>(ctx.scratch);
  const int64_t out_n = ctx.outputs[0]->num_elements();
  switch (d.dtype) {
    case DType::kInt8: reduce_all(d, ctx.inputs[0]->as<const int8_t>(), ctx.outputs[0]->as<int8_t>(), sums, out_n); break;
    case DType::kUInt8: reduce_all(d, ctx.inputs[0]->as<const uint8_t>(), ctx.outputs[0]->as<uint8_t>(), sums, out_n); break;
    case DType::kInt16: reduce_all(d, ctx.inputs[0]->as<const int16_t>(), ctx.outputs[0]->as<int16_t>(), sums, out_n); break;
    default: return internal_error("reduction: dtype changed after prepare");
  }
  return ok_status();
}

}  // namespace qdet::rt::quantized
