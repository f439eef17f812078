// HARD_SWISH, float32: x * relu6(x + 3) / 6 (TFLite reference_ops::HardSwish).
#include <cmath>

#include "runtime/kernels/reference/unary.h"

namespace qdet::rt::ref {
namespace {

Status prepare(PrepareContext& ctx) { return prepare_unary_float(ctx); }

Status eval(EvalContext& ctx) {
  return eval_unary_float(ctx, [](float x) { return x * std::min(6.0f, std::max(0.0f, x + 3.0f)) / 6.0f; });
}

}  // namespace

const Kernel kHardSwishFloat = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
