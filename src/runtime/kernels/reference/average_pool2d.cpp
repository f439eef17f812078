// AVERAGE_POOL_2D (TFLite reference_ops::AveragePool, reference_integer_ops::AveragePool): the
// mean over the window clipped to the input (padding does not count), then the fused
// activation. float32; int8, uint8 and int16 with the same scale and zero point in and out
// (TFLite requires them): the integer sum of the window's raw values divided by the count,
// rounded half away from zero, clamped to the activation range of the output.
#include "runtime/kernels/reference/pool.h"
#include "runtime/quantization_util.h"

namespace qdet::rt::ref {
namespace {

struct AvgPoolData : OpData {
  PoolGeometry g;
  ActivationRange act;               // float32
  QuantizedActivationRange q_range;  // integer dtypes
};

Status prepare_quantized(PrepareContext& ctx, AvgPoolData& d) {
  const TensorRef& in = *ctx.inputs[0];
  const TensorRef& out = *ctx.outputs[0];
  if (!is_quantized(in) || in.quant->scale.size() != 1)
    return unsupported("AVERAGE_POOL_2D on {} needs per-tensor quantization", dtype_name(in.dtype));
  if (!same_quantization(in, out))
    return invalid_argument("AVERAGE_POOL_2D on {} needs the same scale and zero point in and out",
                            dtype_name(in.dtype));
  if (in.dtype == DType::kInt16 && in.zero_point() != 0)
    return invalid_argument("AVERAGE_POOL_2D on int16 needs zero point 0, got {}", in.zero_point());
  QDET_ASSIGN_OR_RETURN(d.q_range, activation_range_quantized(ctx.op.attrs.activation, out.dtype,
                                                               out.scale(), out.zero_point()));
  return ok_status();
}

Status prepare(PrepareContext& ctx) {
  QDET_TRY(check_arity(ctx, 1, 1, 1));
  const DType dtype = ctx.inputs[0]->dtype;
  auto d = std::make_unique<AvgPoolData>();
  if (dtype == DType::kFloat32) {
    QDET_ASSIGN_OR_RETURN(d->act, activation_range(ctx.op.attrs.activation));
  } else if (dtype == DType::kInt8 || dtype == DType::kUInt8 || dtype == DType::kInt16) {
    QDET_TRY(prepare_quantized(ctx, *d));
  } else {
    return no_kernel_for_dtype(dtype);
  }
  QDET_ASSIGN_OR_RETURN(d->g, prepare_pool(ctx));
  return keep_op_data(ctx, std::move(d));
}

template <typename T>
void average_pool(const AvgPoolData& d, const T* in, T* out) {
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

Status eval(EvalContext& ctx) {
  const auto& d = *op_data_as<AvgPoolData>(ctx);
  return with_typed_io<float, int8_t, uint8_t, int16_t>(ctx, "AVERAGE_POOL_2D",
                                                        [&](const auto* in, auto* out) { average_pool(d, in, out); });
}

}  // namespace

const Kernel kAveragePool2d = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
