// EXPAND_DIMS for every dtype: inserts a size-1 dim at the constant axis input
// (in [-rank-1, rank]); a byte copy.
#include "runtime/kernels/reference/common.h"

namespace qdet::rt::ref {
namespace {

Status prepare(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(const TensorRef& in, same_dtype_input(ctx, 2, 2));
  QDET_ASSIGN_OR_RETURN(auto axis_v, read_constant_ints(ctx.inputs[1], "the axis input"));
  if (axis_v.size() != 1) return invalid_argument("the axis input must hold one value");
  const int rank = static_cast<int>(in.shape.size());
  QDET_ASSIGN_OR_RETURN(int axis, normalize_axis(axis_v[0], rank + 1));
  Shape out = in.shape;
  out.insert(out.begin() + axis, 1);
  ctx.outputs[0]->shape = out;
  return ok_status();
}

}  // namespace

const Kernel kExpandDims = {"reference", prepare, copy_input_eval};

}  // namespace qdet::rt::ref
