// SQUEEZE for every dtype: removes the size-1 dims listed in squeeze_dims (all size-1 dims
// when the list is empty); a byte copy.
#include "runtime/kernels/reference/common.h"

namespace qdet::rt::ref {
namespace {

Status prepare(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(const TensorRef& in, same_dtype_input(ctx, 1, 1));
  const int rank = static_cast<int>(in.shape.size());
  std::vector<bool> drop(rank, false);
  if (ctx.op.attrs.squeeze_dims.empty()) {
    for (int i = 0; i < rank; ++i) drop[i] = in.shape[i] == 1;
  } else {
    for (int32_t a : ctx.op.attrs.squeeze_dims) {
      QDET_ASSIGN_OR_RETURN(int axis, normalize_axis(a, rank, "squeeze dim"));
      if (in.shape[axis] != 1)
        return invalid_argument("cannot squeeze dim {} of size {}", axis, in.shape[axis]);
      drop[axis] = true;
    }
  }
  Shape out;
  for (int i = 0; i < rank; ++i)
    if (!drop[i]) out.push_back(in.shape[i]);
  ctx.outputs[0]->shape = out;
  return ok_status();
}

}  // namespace

const Kernel kSqueeze = {"reference", prepare, copy_input_eval};

}  // namespace qdet::rt::ref
