// RSQRT, float32 (TFLite elementwise.cc): 1 / std::sqrt(x). int8: quantized/rsqrt_quantized.cpp.
#include <cmath>

#include "runtime/kernels/reference/unary.h"

namespace qdet::rt::ref {
namespace {

Status prepare(PrepareContext& ctx) { return prepare_unary_float(ctx); }

Status eval(EvalContext& ctx) {
  return eval_unary_float(ctx, [](float x) { return 1.0f / std::sqrt(x); });
}

}  // namespace

const Kernel kRsqrtFloat = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
