// SPLIT_V for every dtype: inputs (value, size_splits: constant, one entry may be -1, axis:
// constant scalar).
#include "runtime/kernels/reference/split.h"

namespace qdet::rt::ref {
namespace {

Status prepare(PrepareContext& ctx) {
  if (ctx.outputs.empty()) return invalid_argument("expects at least one output");
  QDET_TRY(check_arity(ctx, 3, 3, ctx.outputs.size()));
  const TensorRef& value = *ctx.inputs[0];
  QDET_ASSIGN_OR_RETURN(auto sizes, read_constant_ints(ctx.inputs[1], "the size_splits input"));
  QDET_ASSIGN_OR_RETURN(auto axis, read_constant_ints(ctx.inputs[2], "the axis input"));
  if (axis.size() != 1) return invalid_argument("the axis input must hold one value");
  QDET_ASSIGN_OR_RETURN(int a, normalize_axis(axis[0], static_cast<int>(value.shape.size())));
  int unknown = -1;
  int64_t known = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] == -1) {
      if (unknown >= 0) return invalid_argument("size_splits has more than one -1");
      unknown = static_cast<int>(i);
    } else {
      known += sizes[i];
    }
  }
  if (unknown >= 0) sizes[unknown] = value.shape[a] - known;
  QDET_ASSIGN_OR_RETURN(auto d, prepare_split(ctx, value, a, sizes));
  d->value_input = 0;
  return keep_op_data(ctx, std::move(d));
}

}  // namespace

const Kernel kSplitV = {"reference", prepare, eval_split};

}  // namespace qdet::rt::ref
