#include "runtime/kernels/reference/unary.h"

namespace qdet::rt::ref {

Status prepare_unary_float(PrepareContext& ctx) {
  QDET_TRY(check_arity(ctx, 1, 1, 1));
  const TensorRef& in = *ctx.inputs[0];
  if (in.dtype != DType::kFloat32) return no_kernel_for_dtype(in.dtype);
  QDET_TRY(expect_same_dtype(in, *ctx.outputs[0], "the output"));
  ctx.outputs[0]->shape = in.shape;
  return ok_status();
}

}  // namespace qdet::rt::ref
