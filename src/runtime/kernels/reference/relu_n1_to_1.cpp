// RELU_N1_TO_1, float32: min(max(x, -1), 1).
#include <cmath>

#include "runtime/kernels/reference/unary.h"

namespace qdet::rt::ref {
namespace {

Status prepare(PrepareContext& ctx) { return prepare_unary_float(ctx); }

Status eval(EvalContext& ctx) {
  return eval_unary_float(ctx, [](float x) { return std::min(std::max(x, -1.0f), 1.0f); });
}

}  // namespace

const Kernel kReluN1To1Float = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
