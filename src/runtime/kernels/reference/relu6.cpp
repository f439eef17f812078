// RELU6, float32: min(max(x, 0), 6).
#include <cmath>

#include "runtime/kernels/reference/unary.h"

namespace qdet::rt::ref {
namespace {

Status prepare(PrepareContext& ctx) { return prepare_unary_float(ctx); }

Status eval(EvalContext& ctx) {
  return eval_unary_float(ctx, [](float x) { return std::min(std::max(x, 0.0f), 6.0f); });
}

}  // namespace

const Kernel kRelu6Float = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
