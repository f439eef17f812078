// LOGISTIC, float32: 1 / (1 + exp(-x)).
#include <cmath>

#include "runtime/kernels/reference/unary.h"

namespace qdet::rt::ref {
namespace {

Status prepare(PrepareContext& ctx) { return prepare_unary_float(ctx); }

Status eval(EvalContext& ctx) {
  return eval_unary_float(ctx, [](float x) { return 1.0f / (1.0f + std::exp(-x)); });
}

}  // namespace

const Kernel kLogisticFloat = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
