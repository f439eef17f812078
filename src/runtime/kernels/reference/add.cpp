// ADD: elementwise with NumPy broadcasting (TFLite reference_ops::Broadcast*), float32 with
// fused activation, int32 without.
#include "runtime/kernels/reference/binary.h"

namespace qdet::rt::ref {
namespace {

Status prepare(PrepareContext& ctx) { return prepare_binary(ctx, /*allow_int32=*/true); }

Status eval(EvalContext& ctx) {
  auto op = [](auto x, auto y) { return x + y; };
  if (ctx.inputs[0]->dtype == DType::kInt32) return eval_binary<int32_t>(ctx, op);
  return eval_binary<float>(ctx, op);
}

}  // namespace

const Kernel kAddFloat = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
