#include "runtime/kernels/reference/reduce.h"

namespace qdet::rt::ref {

Result<ReduceGeometry> prepare_reduce(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(const TensorRef& in, same_dtype_input(ctx, 2, 2));
  QDET_TRY(expect_dtype(*ctx.inputs[1], DType::kInt32, "the axis input"));
  ReduceGeometry g;
  QDET_ASSIGN_OR_RETURN(g.axes, read_constant_ints(ctx.inputs[1], "the axis input"));
  const int rank = static_cast<int>(in.shape.size());
  if (rank > 16) return unsupported("reduction over more than 16 dims");
  g.in_shape = in.shape;
  g.reduced.assign(rank, false);
  for (int64_t a : g.axes) {
    QDET_ASSIGN_OR_RETURN(int axis, normalize_axis(a, rank));
    g.reduced[axis] = true;
  }
  Shape out_shape, kept;
  for (int i = 0; i < rank; ++i) {
    if (g.reduced[i]) {
      g.reduce_count *= in.shape[i];
      if (ctx.op.attrs.keep_dims) out_shape.push_back(1);
    } else {
      out_shape.push_back(in.shape[i]);
      kept.push_back(in.shape[i]);
    }
  }
  const auto kept_strides = strides_of(kept);
  for (int i = 0, k = 0; i < rank; ++i) g.out_stride.push_back(g.reduced[i] ? 0 : kept_strides[k++]);
  ctx.outputs[0]->shape = out_shape;
  return g;
}

bool is_mean_over_hw(const ReduceGeometry& g, bool keep_dims) {
  return keep_dims && g.in_shape.size() == 4 && g.axes.size() == 2 &&
         ((g.axes[0] == 1 && g.axes[1] == 2) || (g.axes[0] == 2 && g.axes[1] == 1));
}

}  // namespace qdet::rt::ref
