// FULLY_CONNECTED, float32 (TFLite reference_ops::FullyConnected): input [..., k] seen as
// [batch, k], weights [units, k], optional bias [units]; output [batch, units], or the input's
// shape with the last dim replaced by units when keep_num_dims.
#include "runtime/kernels/reference/common.h"

namespace qdet::rt::ref {
namespace {

struct FcData : OpData, FullyConnectedRows {};

Status prepare(PrepareContext& ctx) {
  auto d = std::make_unique<FcData>();
  QDET_TRY(prepare_fully_connected(ctx, DType::kFloat32, "no float kernel for weights dtype ", d.get()));
  return keep_op_data(ctx, std::move(d));
}

Status eval(EvalContext& ctx) {
  const auto& d = *op_data_as<FcData>(ctx);
  const auto [in, bias, out] = float_weighted_io(ctx);
  const float* w = ctx.inputs[1]->as<const float>();
  parallel_for(ctx.threadpool, static_cast<size_t>(d.batch), [&](size_t b) {
    const float* x = in + b * d.depth;
    for (int64_t u = 0; u < d.units; ++u) {
      const float* wr = w + u * d.depth;
      float sum = 0.0f;
      for (int64_t k = 0; k < d.depth; ++k) sum += x[k] * wr[k];
      if (bias) sum += bias[u];
      out[b * d.units + u] = clamp_activation(sum, d.act);
    }
  });
  return ok_status();
}

}  // namespace

const Kernel kFullyConnectedFloat = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
