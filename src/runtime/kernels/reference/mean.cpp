// MEAN, float32 (TFLite reference_ops::Mean): the sum over the axes given by a constant int32
// input (negative and repeated axes allowed) divided by the number of reduced elements;
// keep_dims keeps reduced dims as 1. Quantized MEAN: quantized/reduce_quantized.cpp.
#include "runtime/kernels/reference/reduce.h"

namespace qdet::rt::ref {
namespace {

struct MeanData : OpData {
  ReduceGeometry g;
};

Status prepare(PrepareContext& ctx) {
  if (!ctx.inputs.empty() && ctx.inputs[0] && ctx.inputs[0]->dtype != DType::kFloat32)
    return no_kernel_for_dtype(ctx.inputs[0]->dtype);
  auto d = std::make_unique<MeanData>();
  QDET_ASSIGN_OR_RETURN(d->g, prepare_reduce(ctx));
  ctx.op_data = std::move(d);
  return ok_status();
}

Status eval(EvalContext& ctx) {
  const auto& d = *op_data_as<MeanData>(ctx);
  const float* in = ctx.inputs[0]->as<const float>();
  float* out = ctx.outputs[0]->as<float>();
  const int64_t out_n = ctx.outputs[0]->num_elements();
  for (int64_t i = 0; i < out_n; ++i) out[i] = 0.0f;
  for_each_reduced(d.g, [&](int64_t i, int64_t o) { out[o] += in[i]; });
  if (d.g.reduce_count > 0)
    for (int64_t i = 0; i < out_n; ++i) out[i] /= static_cast<float>(d.g.reduce_count);
  return ok_status();
}

}  // namespace

const Kernel kMeanFloat = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
