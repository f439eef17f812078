// MAX_POOL_2D (TFLite reference_ops::MaxPool): float32 with fused activation; int8/uint8/int16
// when input and output share scale and zero point (the max commutes with the affine map), the
// activation clamped in the quantized domain as TFLite's CalculateActivationRangeQuantized.
#include <algorithm>
#include <cmath>

#include "runtime/kernels/reference/pool.h"

namespace qdet::rt::ref {
namespace {

struct MaxPoolData : OpData {
  PoolGeometry g;
  ActivationRange act;       // float
  int32_t qmin = 0, qmax = 0;  // quantized
};

template <typename T>
std::pair<int32_t, int32_t> quantized_activation(graph::Activation a, float scale, int32_t zp) {
  int32_t lo = std::numeric_limits<T>::min(), hi = std::numeric_limits<T>::max();
  auto q = [&](float v) { return zp + static_cast<int32_t>(std::round(v / scale)); };
  if (a == graph::Activation::kRelu) lo = std::max(lo, q(0.0f));
  if (a == graph::Activation::kRelu6) {
    lo = std::max(lo, q(0.0f));
    hi = std::min(hi, q(6.0f));
  }
  if (a == graph::Activation::kReluN1To1) {
    lo = std::max(lo, q(-1.0f));
    hi = std::min(hi, q(1.0f));
  }
  return {lo, hi};
}

Status prepare(PrepareContext& ctx) {
  QDET_TRY(check_arity(ctx, 1, 1, 1));
  const TensorRef& in = *ctx.inputs[0];
  const TensorRef& out = *ctx.outputs[0];
  auto d = std::make_unique<MaxPoolData>();
  const auto act = ctx.op.attrs.activation;
  switch (in.dtype) {
    case DType::kFloat32: {
      QDET_ASSIGN_OR_RETURN(d->act, activation_range(act));
      break;
    }
    case DType::kInt8:
    case DType::kUInt8:
    case DType::kInt16: {
      if (!same_quantization(in, out))
        return unsupported("input and output quantization differ (needs requantization)");
      if (act != graph::Activation::kNone && act != graph::Activation::kRelu &&
          act != graph::Activation::kRelu6 && act != graph::Activation::kReluN1To1)
        return unsupported("fused activation {}", graph::activation_name(act));
      std::pair<int32_t, int32_t> r;
      if (in.dtype == DType::kInt8) r = quantized_activation<int8_t>(act, out.scale(), out.zero_point());
      if (in.dtype == DType::kUInt8) r = quantized_activation<uint8_t>(act, out.scale(), out.zero_point());
      if (in.dtype == DType::kInt16) r = quantized_activation<int16_t>(act, out.scale(), out.zero_point());
      d->qmin = r.first;
      d->qmax = r.second;
      break;
    }
    default:
      return no_kernel_for_dtype(in.dtype);
  }
  QDET_ASSIGN_OR_RETURN(d->g, prepare_pool(ctx));
  return keep_op_data(ctx, std::move(d));
}

// Channels innermost: each window pixel's row of channels updates the running maxima, a loop
// the compiler vectorizes (the same maxima, taken in the same window order per channel).
template <typename T>
void max_pool(const MaxPoolData& d, const T* in, T* out) {
  const PoolGeometry& g = d.g;
  for_each_window(g, [&](int32_t b, int32_t oy, int32_t ox, int32_t y0, int32_t y1, int32_t x0,
                         int32_t x1) {
    T* o = out + ((static_cast<size_t>(b) * g.out_h + oy) * g.out_w + ox) * g.channels;
    std::fill(o, o + g.channels, std::numeric_limits<T>::lowest());
    for (int32_t y = y0; y < y1; ++y)
      for (int32_t x = x0; x < x1; ++x) {
        const T* p = in + ((static_cast<size_t>(b) * g.in_h + y) * g.in_w + x) * g.channels;
        for (int32_t c = 0; c < g.channels; ++c) o[c] = std::max(o[c], p[c]);
      }
    for (int32_t c = 0; c < g.channels; ++c) {
      if constexpr (std::is_same_v<T, float>)
        o[c] = clamp_activation(o[c], d.act);
      else
        o[c] = static_cast<T>(std::min<int32_t>(std::max<int32_t>(o[c], d.qmin), d.qmax));
    }
  });
}

Status eval(EvalContext& ctx) {
  const auto& d = *op_data_as<MaxPoolData>(ctx);
  return with_typed_io<float, int8_t, uint8_t, int16_t>(ctx, "MAX_POOL_2D",
                                                        [&](const auto* in, auto* out) { max_pool(d, in, out); });
}

}  // namespace

const Kernel kMaxPool2d = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
