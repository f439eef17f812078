// ELU, float32 (TFLite activations.cc): x < 0 ? expm1(x) : x. int8: quantized/elu_quantized.cpp.
#include <cmath>

#include "runtime/kernels/reference/unary.h"

namespace qdet::rt::ref {
namespace {

Status prepare(PrepareContext& ctx) { return prepare_unary_float(ctx); }

Status eval(EvalContext& ctx) {
  return eval_unary_float(ctx, [](float x) { return x < 0.0f ? std::expm1(x) : x; });
}

}  // namespace

const Kernel kEluFloat = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
