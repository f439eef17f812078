// DIV: elementwise with NumPy broadcasting (TFLite reference_ops::Broadcast*), float32 with
// fused activation.
#include "runtime/kernels/reference/binary.h"

namespace qdet::rt::ref {
namespace {

Status prepare(PrepareContext& ctx) { return prepare_binary(ctx, /*allow_int32=*/false); }

Status eval(EvalContext& ctx) {
  auto op = [](auto x, auto y) { return x / y; };
  return eval_binary<float>(ctx, op);
}

}  // namespace

const Kernel kDivFloat = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
