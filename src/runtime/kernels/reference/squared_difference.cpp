// SQUARED_DIFFERENCE, float32 and int32 (TFLite squared_difference.cc): (a - b)^2 with NumPy
// broadcasting. int8: quantized/squared_difference_quantized.cpp.
#include "runtime/kernels/reference/binary.h"

namespace qdet::rt::ref {
namespace {

Status prepare(PrepareContext& ctx) { return prepare_binary(ctx, /*allow_int32=*/true); }

Status eval(EvalContext& ctx) {
  auto op = [](auto x, auto y) { return (x - y) * (x - y); };
  if (ctx.inputs[0]->dtype == DType::kInt32) return eval_binary<int32_t>(ctx, op);
  return eval_binary<float>(ctx, op);
}

}  // namespace

const Kernel kSquaredDifference = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
