#include "runtime/kernels/reference/pool.h"

namespace qdet::rt::ref {

Result<PoolGeometry> prepare_pool(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(const TensorRef& in, same_dtype_input(ctx, 1, 1));
  if (in.shape.size() != 4)
    return invalid_argument("input {} must be 4-D", shape_to_string(in.shape));
  const auto& a = ctx.op.attrs;
  PoolGeometry g{};
  g.batches = in.shape[0];
  g.in_h = in.shape[1];
  g.in_w = in.shape[2];
  g.channels = in.shape[3];
  g.filter_h = a.filter_h;
  g.filter_w = a.filter_w;
  g.stride_h = a.stride_h;
  g.stride_w = a.stride_w;
  QDET_ASSIGN_OR_RETURN(auto ph, compute_padding(a.padding, g.in_h, g.filter_h, g.stride_h, 1, "height"));
  QDET_ASSIGN_OR_RETURN(auto pw, compute_padding(a.padding, g.in_w, g.filter_w, g.stride_w, 1, "width"));
  g.out_h = ph.out;
  g.out_w = pw.out;
  g.pad_top = ph.before;
  g.pad_left = pw.before;
  ctx.outputs[0]->shape = {g.batches, g.out_h, g.out_w, g.channels};
  return g;
}

}  // namespace qdet::rt::ref
