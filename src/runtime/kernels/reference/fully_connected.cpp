// FULLY_CONNECTED, float32 (TFLite reference_ops::FullyConnected): input [..., k] seen as
// [batch, k], weights [units, k], optional bias [units]; output [batch, units], or the input's
// shape with the last dim replaced by units when keep_num_dims.
#include "runtime/kernels/reference/common.h"

namespace qdet::rt::ref {
namespace {

struct FcData : OpData, FullyConnectedRows {
  ActivationRange act;
};

Status prepare(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(const WeightedOpTensors t, float_weighted_op(ctx, DType::kFloat32, "no float kernel for weights dtype "));
  const auto& [in, w, bias, out] = t;
  auto d = std::make_unique<FcData>();
  QDET_TRY(fill_fully_connected_rows(in, w, bias, d.get()));
  QDET_ASSIGN_OR_RETURN(d->act, activation_range(ctx.op.attrs.activation));
  QDET_ASSIGN_OR_RETURN(out.shape, fully_connected_output_shape(ctx.op.attrs.keep_num_dims,
                                                                in.shape, d->batch, d->depth,
                                                                d->units));
  ctx.op_data = std::move(d);
  return ok_status();
}

Status eval(EvalContext& ctx) {
  const auto& d = *op_data_as<FcData>(ctx);
  const float* in = ctx.inputs[0]->as<const float>();
  const float* w = ctx.inputs[1]->as<const float>();
  const float* bias = optional_float_bias(ctx);
  float* out = ctx.outputs[0]->as<float>();
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
