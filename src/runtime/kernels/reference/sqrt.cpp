// SQRT, float32 (TFLite elementwise.cc): std::sqrt(x).
#include <cmath>

#include "runtime/kernels/reference/unary.h"

namespace qdet::rt::ref {
namespace {

Status prepare(PrepareContext& ctx) { return prepare_unary_float(ctx); }

Status eval(EvalContext& ctx) {
  return eval_unary_float(ctx, [](float x) { return std::sqrt(x); });
}

}  // namespace

const Kernel kSqrtFloat = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
