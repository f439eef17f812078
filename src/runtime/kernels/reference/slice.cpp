// SLICE for every dtype: constant begin and size inputs (int32 or int64); size -1 takes the
// rest of the dim. Out-of-range begin/size is an error.
#include "runtime/kernels/reference/common.h"
#include "runtime/kernels/reference/strided_copy.h"

namespace qdet::rt::ref {
namespace {

Status prepare(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(const TensorRef& in, same_dtype_input(ctx, 3, 3));
  QDET_ASSIGN_OR_RETURN(auto begin, read_constant_ints(ctx.inputs[1], "the begin input"));
  QDET_ASSIGN_OR_RETURN(auto size, read_constant_ints(ctx.inputs[2], "the size input"));
  const int rank = static_cast<int>(in.shape.size());
  if (static_cast<int>(begin.size()) != rank || static_cast<int>(size.size()) != rank)
    return invalid_argument("begin and size must have {} values (the input's rank), got {} and {}",
                            rank, begin.size(), size.size());
  if (rank > StridedCopy::kMaxRank) return unsupported("SLICE of more than {} dims", StridedCopy::kMaxRank);
  StridedCopy c;
  c.rank = rank;
  c.element_bytes = dtype_size(in.dtype);
  Shape out_shape(rank);
  int64_t stride = static_cast<int64_t>(c.element_bytes);
  for (int i = rank - 1; i >= 0; --i) {
    const int64_t dim = in.shape[i];
    const int64_t n = size[i] == -1 ? dim - begin[i] : size[i];
    if (begin[i] < 0 || n < 0 || begin[i] + n > dim)
      return invalid_argument("slice [{}, +{}) is out of range for dim {} of size {}", begin[i],
                              size[i], i, dim);
    out_shape[i] = static_cast<int32_t>(n);
    c.count[i] = n;
    c.stride[i] = stride;
    c.start += begin[i] * stride;
    stride *= dim;
  }
  return set_strided_copy(ctx, c, out_shape);
}

}  // namespace

const Kernel kSlice = {"reference", prepare, strided_copy_eval};

}  // namespace qdet::rt::ref
