#include "runtime/kernels/reference/binary.h"

namespace qdet::rt::ref {

Status prepare_binary(PrepareContext& ctx, bool allow_int32) {
  QDET_TRY(check_arity(ctx, 2, 2, 1));
  const TensorRef& a = *ctx.inputs[0];
  const TensorRef& b = *ctx.inputs[1];
  TensorRef& out = *ctx.outputs[0];
  const bool is_int32 = a.dtype == DType::kInt32 && allow_int32;
  if (a.dtype != DType::kFloat32 && !is_int32) return no_kernel_for_dtype(a.dtype);
  QDET_TRY(expect_same_dtype(a, b, "the second input"));
  QDET_TRY(expect_same_dtype(a, out, "the output"));
  auto d = std::make_unique<BinaryData>();
  QDET_ASSIGN_OR_RETURN(out.shape, broadcast_shapes(a.shape, b.shape));
  QDET_ASSIGN_OR_RETURN(d->indexer, BroadcastIndexer::create(out.shape, {a.shape, b.shape}));
  d->same_shape = a.shape == b.shape;
  if (is_int32 && ctx.op.attrs.activation != graph::Activation::kNone)
    return unsupported("fused activation {} on int32", graph::activation_name(ctx.op.attrs.activation));
  QDET_ASSIGN_OR_RETURN(d->act, activation_range(ctx.op.attrs.activation));
  return keep_op_data(ctx, std::move(d));
}

}  // namespace qdet::rt::ref
