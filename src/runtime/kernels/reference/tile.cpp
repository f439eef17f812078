// TILE for every dtype (TFLite tile.cc): the output repeats the input multiples[i] times along
// each dim i; a strided copy over [m0, d0, m1, d1, ...] with stride 0 on the repeats. The
// multiples are a constant int32 or int64 input of one value per input dim, each >= 0.
#include "runtime/kernels/reference/common.h"
#include "runtime/kernels/reference/strided_copy.h"

namespace qdet::rt::ref {
namespace {

Status prepare(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(const TensorRef& in, same_dtype_input(ctx, 2, 2));
  QDET_ASSIGN_OR_RETURN(auto multiples, read_constant_ints(ctx.inputs[1], "the multiples input"));
  const int rank = static_cast<int>(in.shape.size());
  if (static_cast<int>(multiples.size()) != rank)
    return invalid_argument("{} multiples for an input of rank {}", multiples.size(), rank);
  if (2 * rank > StridedCopy::kMaxRank) return unsupported("TILE of more than {} dims", StridedCopy::kMaxRank / 2);
  std::vector<int64_t> out_dims;
  for (int i = 0; i < rank; ++i) {
    if (multiples[i] < 0) return invalid_argument("multiple {} of dim {} is negative", multiples[i], i);
    out_dims.push_back(in.shape[i] * multiples[i]);
  }
  QDET_ASSIGN_OR_RETURN(Shape out_shape, to_shape(out_dims, "the tiled output"));
  StridedCopy c;
  c.rank = 2 * rank;
  c.element_bytes = dtype_size(in.dtype);
  const auto strides = strides_of(in.shape);
  for (int i = 0; i < rank; ++i) {
    c.count[2 * i] = multiples[i];
    c.stride[2 * i] = 0;
    c.count[2 * i + 1] = in.shape[i];
    c.stride[2 * i + 1] = strides[i] * static_cast<int64_t>(c.element_bytes);
  }
  return set_strided_copy(ctx, c, out_shape);
}

}  // namespace

const Kernel kTile = {"reference", prepare, strided_copy_eval};

}  // namespace qdet::rt::ref
