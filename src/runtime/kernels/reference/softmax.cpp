// SOFTMAX, float32, over the last dim: exp((x - max) * beta) / sum (TFLite reference_ops::Softmax).
#include <cmath>

#include "runtime/kernels/reference/common.h"

namespace qdet::rt::ref {
namespace {

Status prepare(PrepareContext& ctx) {
  QDET_TRY(check_arity(ctx, 1, 1, 1));
  const TensorRef& in = *ctx.inputs[0];
  if (in.dtype != DType::kFloat32) return no_kernel_for_dtype(in.dtype);
  QDET_TRY(expect_same_dtype(in, *ctx.outputs[0], "the output"));
  if (in.shape.empty()) return invalid_argument("input must have at least one dim");
  ctx.outputs[0]->shape = in.shape;
  return ok_status();
}

Status eval(EvalContext& ctx) {
  const TensorRef& in = *ctx.inputs[0];
  const float* x = in.as<const float>();
  float* y = ctx.outputs[0]->as<float>();
  const int64_t depth = in.shape.back();
  if (depth == 0) return ok_status();
  const int64_t rows = in.num_elements() / depth;
  const float beta = ctx.op.attrs.beta;
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * depth;
    float* yr = y + r * depth;
    float max = xr[0];
    for (int64_t i = 1; i < depth; ++i) max = std::max(max, xr[i]);
    float sum = 0.0f;
    for (int64_t i = 0; i < depth; ++i) {
      yr[i] = std::exp((xr[i] - max) * beta);
      sum += yr[i];
    }
    for (int64_t i = 0; i < depth; ++i) yr[i] /= sum;
  }
  return ok_status();
}

}  // namespace

const Kernel kSoftmaxFloat = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
