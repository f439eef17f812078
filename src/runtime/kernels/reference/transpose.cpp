// TRANSPOSE for every dtype: output dim i is input dim perm[i] (constant perm input, a
// permutation of [0, rank)).
#include "runtime/kernels/reference/common.h"
#include "runtime/kernels/reference/strided_copy.h"

namespace qdet::rt::ref {
namespace {

Status prepare(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(const TensorRef& in, same_dtype_input(ctx, 2, 2));
  QDET_ASSIGN_OR_RETURN(auto perm, read_constant_ints(ctx.inputs[1], "the perm input"));
  const int rank = static_cast<int>(in.shape.size());
  if (static_cast<int>(perm.size()) != rank)
    return invalid_argument("perm has {} values for an input of rank {}", perm.size(), rank);
  if (rank > StridedCopy::kMaxRank) return unsupported("TRANSPOSE of more than {} dims", StridedCopy::kMaxRank);
  std::vector<bool> seen(rank, false);
  for (int64_t p : perm) {
    if (p < 0 || p >= rank || seen[p]) return invalid_argument("perm is not a permutation of 0..{}", rank - 1);
    seen[p] = true;
  }
  StridedCopy c;
  c.rank = rank;
  c.element_bytes = dtype_size(in.dtype);
  const auto in_strides = strides_of(in.shape);
  Shape out_shape(rank);
  for (int i = 0; i < rank; ++i) {
    out_shape[i] = in.shape[perm[i]];
    c.count[i] = in.shape[perm[i]];
    c.stride[i] = in_strides[perm[i]] * static_cast<int64_t>(c.element_bytes);
  }
  return set_strided_copy(ctx, c, out_shape);
}

}  // namespace

const Kernel kTranspose = {"reference", prepare, strided_copy_eval};

}  // namespace qdet::rt::ref
