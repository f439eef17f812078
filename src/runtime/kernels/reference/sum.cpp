// SUM, float32 and int32 (TFLite reduce.cc EvalGeneric kSum): the sum over the axes of a
// constant int32 input, in input order. Quantized SUM: quantized/reduce_quantized.cpp.
#include "runtime/kernels/reference/reduce.h"

namespace qdet::rt::ref {
namespace {

struct SumData : OpData {
  ReduceGeometry g;
};

Status prepare(PrepareContext& ctx) {
  if (!ctx.inputs.empty() && ctx.inputs[0] && ctx.inputs[0]->dtype != DType::kFloat32 &&
      ctx.inputs[0]->dtype != DType::kInt32)
    return no_kernel_for_dtype(ctx.inputs[0]->dtype);
  auto d = std::make_unique<SumData>();
  QDET_ASSIGN_OR_RETURN(d->g, prepare_reduce(ctx));
  ctx.op_data = std::move(d);
  return ok_status();
}

template <typename T>
void sum(const ReduceGeometry& g, const T* in, T* out, int64_t out_n) {
  for (int64_t i = 0; i < out_n; ++i) out[i] = T{};
  for_each_reduced(g, [&](int64_t i, int64_t o) { out[o] += in[i]; });
}

Status eval(EvalContext& ctx) {
  const auto& g = op_data_as<SumData>(ctx)->g;
  const TensorRef& in = *ctx.inputs[0];
  TensorRef& out = *ctx.outputs[0];
  if (in.dtype == DType::kFloat32) sum(g, in.as<const float>(), out.as<float>(), out.num_elements());
  else sum(g, in.as<const int32_t>(), out.as<int32_t>(), out.num_elements());
  return ok_status();
}

}  // namespace

const Kernel kSumFloat = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
