// FULLY_CONNECTED hybrid kernel: float32 input/output, int8 constant weights [units, depth]
// (per tensor, or one scale per unit). Each input row is quantized on its own, symmetric or
// asymmetric as the op's asymmetric_quantize_inputs says (hybrid.h). Rows split over threads.
#include <algorithm>

#include "runtime/kernels/reference/common.h"
#include "runtime/kernels/reference/hybrid.h"

namespace qdet::rt::ref {
namespace {

struct HybridFcData : OpData, FullyConnectedRows {
  bool asymmetric = false;
  std::vector<float> weight_scale;  // one per unit
  std::vector<int16_t> weights;     // [units][depth]
  size_t x16_offset = 0, x8_offset = 0;
};

size_t align64(size_t n) { return (n + 63) / 64 * 64; }

Status prepare(PrepareContext& ctx) {
  auto d = std::make_unique<HybridFcData>();
  QDET_ASSIGN_OR_RETURN(const WeightedOpTensors t,
                        prepare_fully_connected(ctx, DType::kInt8, "hybrid kernel needs int8 weights, got ", d.get()));
  const TensorRef& w = t.filter;
  if (!w.is_constant) return invalid_argument("hybrid: the int8 weights must be constant");
  const QuantParams& q = *w.quant;
  if (q.scale.empty()) return invalid_argument("hybrid: int8 weights have no quantization parameters");
  for (int64_t zp : q.zero_point)
    if (zp != 0) return invalid_argument("hybrid: weights zero point {} is not 0", zp);
  if (q.scale.size() == 1) {
    d->weight_scale.assign(static_cast<size_t>(d->units), q.scale[0]);
  } else if (static_cast<int64_t>(q.scale.size()) == d->units && q.quantized_dimension == 0) {
    d->weight_scale = q.scale;
  } else {
    return invalid_argument("hybrid: {} weight scales on axis {}, expected 1 or {} on axis 0",
                            q.scale.size(), q.quantized_dimension, d->units);
  }
  d->asymmetric = ctx.op.attrs.asymmetric_quantize_inputs;
  const int8_t* wd = w.as<const int8_t>();
  d->weights.assign(wd, wd + w.num_elements());
  const size_t total = static_cast<size_t>(d->batch * d->depth);
  d->x16_offset = 0;
  d->x8_offset = align64(total * sizeof(int16_t));
  ctx.scratch_bytes = d->x8_offset + align64(total);
  return keep_op_data(ctx, std::move(d));
}

Status eval(EvalContext& ctx) {
  const auto& d = *op_data_as<HybridFcData>(ctx);
  const auto [in, bias, out] = float_weighted_io(ctx);
  auto* x16 = reinterpret_cast<int16_t*>(ctx.scratch + d.x16_offset);
  auto* x8 = reinterpret_cast<int8_t*>(ctx.scratch + d.x8_offset);
  parallel_for(ctx.threadpool, static_cast<size_t>(d.batch), [&](size_t b) {
    const size_t off = b * static_cast<size_t>(d.depth);
    const InputQuantization q =
        d.asymmetric ? quantize_input_asymmetric(in + off, static_cast<size_t>(d.depth), x8 + off)
                     : quantize_input_symmetric(in + off, static_cast<size_t>(d.depth), x8 + off);
    int16_t* x = x16 + off;
    for (int64_t k = 0; k < d.depth; ++k) x[k] = static_cast<int16_t>(x8[off + k] - q.offset);
    for (int64_t u = 0; u < d.units; ++u) {
      const int16_t* wr = d.weights.data() + u * d.depth;
      int32_t acc = 0;
      for (int64_t k = 0; k < d.depth; ++k) acc += static_cast<int32_t>(x[k]) * wr[k];
      // TFLite: output starts as the bias, then += acc * (row scale * weight scale).
      float v = static_cast<float>(acc) * (q.scale * d.weight_scale[u]);
      if (bias) v = bias[u] + v;
      out[b * d.units + u] = clamp_activation(v, d.act);
    }
  });
  return ok_status();
}

}  // namespace

const Kernel kFullyConnectedHybrid = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
