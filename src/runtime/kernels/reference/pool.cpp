// MAX_POOL_2D and AVERAGE_POOL_2D (TFLite reference_ops::MaxPool and AveragePool,
// reference_integer_ops::AveragePool), NHWC with TFLite's padding rules:
//   MAX_POOL_2D: float32 with the fused activation; int8/uint8/int16 when input and output
//     share scale and zero point (the max commutes with the affine map);
//   AVERAGE_POOL_2D: the mean over the window clipped to the input (padding does not count);
//     int8, uint8 and int16 with the same scale and zero point in and out (TFLite requires them):
//     the integer sum of the window's raw values divided by the count, rounded half away from
//     zero.
// The integer kernels clamp to the activation range in the output's quantized domain (TFLite's
// CalculateActivationRangeQuantized).
#include <algorithm>
#include <cmath>

#include "runtime/kernels/reference/pool.h"
#include "runtime/quantization_util.h"

namespace qdet::rt::ref {

Result<PoolGeometry> prepare_pool(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(const TensorRef& in, same_dtype_input(ctx, 1, 1));
  if (in.shape.size() != 4)
    return invalid_argument("input {} must be 4-D", shape_to_string(in.shape));
  const auto& a = ctx.op.attrs;
  PoolGeometry g{};
  g.batches = in.shape[0];
  g.in_h = in.shape[1];
  g.in_w = in.shape[2];
  g.channels = in.shape[3];
  g.filter_h = a.filter_h;
  g.filter_w = a.filter_w;
  g.stride_h = a.stride_h;
  g.stride_w = a.stride_w;
  QDET_ASSIGN_OR_RETURN(auto ph, compute_padding(a.padding, g.in_h, g.filter_h, g.stride_h, 1, "height"));
  QDET_ASSIGN_OR_RETURN(auto pw, compute_padding(a.padding, g.in_w, g.filter_w, g.stride_w, 1, "width"));
  g.out_h = ph.out;
  g.out_w = pw.out;
  g.pad_top = ph.before;
  g.pad_left = pw.before;
  ctx.outputs[0]->shape = {g.batches, g.out_h, g.out_w, g.channels};
  return g;
}

namespace {

struct PoolData : OpData {
  PoolGeometry g;
  ActivationRange act;               // float32
  QuantizedActivationRange q_range;  // integer dtypes
};

Status check_max_pool_quantized(const TensorRef& in, const TensorRef& out) {
  if (!same_quantization(in, out))
    return unsupported("input and output quantization differ (needs requantization)");
  return ok_status();
}

Status check_average_pool_quantized(const TensorRef& in, const TensorRef& out) {
  if (!is_quantized(in) || in.quant->scale.size() != 1)
    return unsupported("AVERAGE_POOL_2D on {} needs per-tensor quantization", dtype_name(in.dtype));
  if (!same_quantization(in, out))
    return invalid_argument("AVERAGE_POOL_2D on {} needs the same scale and zero point in and out",
                            dtype_name(in.dtype));
  if (in.dtype == DType::kInt16 && in.zero_point() != 0)
    return invalid_argument("AVERAGE_POOL_2D on int16 needs zero point 0, got {}", in.zero_point());
  return ok_status();
}

// Both prepares: the float activation range, or the op's own checks of the integer tensors and
// the quantized activation range; then the geometry.
template <Status (*check_quantized)(const TensorRef&, const TensorRef&)>
Status prepare(PrepareContext& ctx) {
  QDET_TRY(check_arity(ctx, 1, 1, 1));
  const TensorRef& in = *ctx.inputs[0];
  const TensorRef& out = *ctx.outputs[0];
  auto d = std::make_unique<PoolData>();
  if (in.dtype == DType::kFloat32) {
    QDET_ASSIGN_OR_RETURN(d->act, activation_range(ctx.op.attrs.activation));
  } else if (in.dtype == DType::kInt8 || in.dtype == DType::kUInt8 || in.dtype == DType::kInt16) {
    QDET_TRY(check_quantized(in, out));
    QDET_ASSIGN_OR_RETURN(d->q_range, activation_range_quantized(ctx.op.attrs.activation, out.dtype,
                                                                 out.scale(), out.zero_point()));
  } else {
    return no_kernel_for_dtype(in.dtype);
  }
  QDET_ASSIGN_OR_RETURN(d->g, prepare_pool(ctx));
  return keep_op_data(ctx, std::move(d));
}

// Channels innermost: each window pixel's row of channels updates the running maxima, a loop
// the compiler vectorizes (the same maxima, taken in the same window order per channel).
template <typename T>
void max_pool(const PoolData& d, const T* in, T* out) {
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
        o[c] = static_cast<T>(std::min<int32_t>(std::max<int32_t>(o[c], d.q_range.min), d.q_range.max));
    }
  });
}

template <typename T>
void average_pool(const PoolData& d, const T* in, T* out) {
  const PoolGeometry& g = d.g;
  for_each_window(g, [&](int32_t b, int32_t oy, int32_t ox, int32_t y0, int32_t y1, int32_t x0,
                         int32_t x1) {
    T* o = out + ((static_cast<size_t>(b) * g.out_h + oy) * g.out_w + ox) * g.channels;
    const int32_t count = std::max(0, y1 - y0) * std::max(0, x1 - x0);
    for (int32_t c = 0; c < g.channels; ++c) {
      std::conditional_t<std::is_same_v<T, float>, float, int32_t> sum = 0;
      for (int32_t y = y0; y < y1; ++y)
        for (int32_t x = x0; x < x1; ++x)
          sum += in[((static_cast<size_t>(b) * g.in_h + y) * g.in_w + x) * g.channels + c];
      if constexpr (std::is_same_v<T, float>) {
        o[c] = clamp_activation(count > 0 ? sum / static_cast<float>(count) : 0.0f, d.act);
      } else {
        int32_t avg = 0;
        if (count > 0) avg = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
        o[c] = static_cast<T>(std::clamp(avg, d.q_range.min, d.q_range.max));
      }
    }
  });
}

struct MaxPool {
  static constexpr const char* kName = "MAX_POOL_2D";
  template <typename T>
  static void run(const PoolData& d, const T* in, T* out) { max_pool(d, in, out); }
};
struct AveragePool {
  static constexpr const char* kName = "AVERAGE_POOL_2D";
  template <typename T>
  static void run(const PoolData& d, const T* in, T* out) { average_pool(d, in, out); }
};

template <typename Pool>
Status eval(EvalContext& ctx) {
  const auto& d = *op_data_as<PoolData>(ctx);
  return with_typed_io<float, int8_t, uint8_t, int16_t>(ctx, Pool::kName,
                                                        [&](const auto* in, auto* out) { Pool::run(d, in, out); });
}

}  // namespace

const Kernel kMaxPool2d = {"reference", prepare<check_max_pool_quantized>, eval<MaxPool>};
const Kernel kAveragePool2d = {"reference", prepare<check_average_pool_quantized>, eval<AveragePool>};

}  // namespace qdet::rt::ref
