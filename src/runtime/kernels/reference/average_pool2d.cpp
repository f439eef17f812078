// AVERAGE_POOL_2D, float32 (TFLite reference_ops::AveragePool): the mean over the window
// clipped to the input (padding does not count), then the fused activation.
#include "runtime/kernels/reference/pool.h"

namespace qdet::rt::ref {
namespace {

struct AvgPoolData : OpData {
  PoolGeometry g;
  ActivationRange act;
};

Status prepare(PrepareContext& ctx) {
  QDET_TRY(check_arity(ctx, 1, 1, 1));
  if (ctx.inputs[0]->dtype != DType::kFloat32) return no_kernel_for_dtype(ctx.inputs[0]->dtype);
  auto d = std::make_unique<AvgPoolData>();
  QDET_ASSIGN_OR_RETURN(d->act, activation_range(ctx.op.attrs.activation));
  QDET_ASSIGN_OR_RETURN(d->g, prepare_pool(ctx));
  ctx.op_data = std::move(d);
  return ok_status();
}

Status eval(EvalContext& ctx) {
  const auto& d = *op_data_as<AvgPoolData>(ctx);
  const PoolGeometry& g = d.g;
  const float* in = ctx.inputs[0]->as<const float>();
  float* out = ctx.outputs[0]->as<float>();
  for_each_window(g, [&](int32_t b, int32_t oy, int32_t ox, int32_t y0, int32_t y1, int32_t x0,
                         int32_t x1) {
    float* o = out + ((static_cast<size_t>(b) * g.out_h + oy) * g.out_w + ox) * g.channels;
    const int32_t count = std::max(0, y1 - y0) * std::max(0, x1 - x0);
    for (int32_t c = 0; c < g.channels; ++c) {
      float sum = 0.0f;
      for (int32_t y = y0; y < y1; ++y)
        for (int32_t x = x0; x < x1; ++x)
          sum += in[((static_cast<size_t>(b) * g.in_h + y) * g.in_w + x) * g.channels + c];
      o[c] = clamp_activation(count > 0 ? sum / static_cast<float>(count) : 0.0f, d.act);
    }
  });
  return ok_status();
}

}  // namespace

const Kernel kAveragePool2dFloat = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
