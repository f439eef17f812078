// LEAKY_RELU, float32: x > 0 ? x : alpha * x (alpha from the options).
#include <cmath>

#include "runtime/kernels/reference/unary.h"

namespace qdet::rt::ref {
namespace {

Status prepare(PrepareContext& ctx) { return prepare_unary_float(ctx); }

Status eval(EvalContext& ctx) {
  const float alpha = ctx.op.attrs.alpha;
  return eval_unary_float(ctx, [alpha](float x) { return x > 0.0f ? x : alpha * x; });
}

}  // namespace

const Kernel kLeakyReluFloat = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
