// BROADCAST_TO for every dtype: NumPy broadcasting of the input to the constant shape input
// (the shape must be at least the input's rank; dims of 1 repeat).
#include "runtime/kernels/reference/common.h"
#include "runtime/kernels/reference/strided_copy.h"

namespace qdet::rt::ref {
namespace {

Status prepare(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(const TensorRef& in, same_dtype_input(ctx, 2, 2));
  QDET_ASSIGN_OR_RETURN(auto dims, read_constant_ints(ctx.inputs[1], "the shape input"));
  QDET_ASSIGN_OR_RETURN(Shape out_shape, to_shape(dims, "the shape input"));
  const int rank = static_cast<int>(out_shape.size());
  const int in_rank = static_cast<int>(in.shape.size());
  if (in_rank > rank)
    return invalid_argument("cannot broadcast {} to the smaller rank of {}",
                            shape_to_string(in.shape), shape_to_string(out_shape));
  if (rank > StridedCopy::kMaxRank) return unsupported("BROADCAST_TO of more than {} dims", StridedCopy::kMaxRank);
  StridedCopy c;
  c.rank = rank;
  c.element_bytes = dtype_size(in.dtype);
  const auto in_strides = strides_of(in.shape);
  for (int i = 0; i < rank; ++i) {
    const int k = i - (rank - in_rank);
    const int32_t in_dim = k < 0 ? 1 : in.shape[k];
    if (in_dim != out_shape[i] && in_dim != 1)
      return invalid_argument("cannot broadcast {} to {}", shape_to_string(in.shape),
                              shape_to_string(out_shape));
    c.count[i] = out_shape[i];
    c.stride[i] = in_dim == 1 ? 0 : in_strides[k] * static_cast<int64_t>(c.element_bytes);
  }
  return set_strided_copy(ctx, c, out_shape);
}

}  // namespace

const Kernel kBroadcastTo = {"reference", prepare, strided_copy_eval};

}  // namespace qdet::rt::ref
