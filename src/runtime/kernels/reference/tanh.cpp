// TANH, float32: tanh(x).
#include <cmath>

#include "runtime/kernels/reference/unary.h"

namespace qdet::rt::ref {
namespace {

Status prepare(PrepareContext& ctx) { return prepare_unary_float(ctx); }

Status eval(EvalContext& ctx) {
  return eval_unary_float(ctx, [](float x) { return std::tanh(x); });
}

}  // namespace

const Kernel kTanhFloat = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
