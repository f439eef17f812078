// RELU, float32: max(x, 0).
#include <cmath>

#include "runtime/kernels/reference/unary.h"

namespace qdet::rt::ref {
namespace {

Status prepare(PrepareContext& ctx) { return prepare_unary_float(ctx); }

Status eval(EvalContext& ctx) {
  return eval_unary_float(ctx, [](float x) { return std::max(x, 0.0f); });
}

}  // namespace

const Kernel kReluFloat = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
