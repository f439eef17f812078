// MEAN, float32 (TFLite reference_ops::Mean): the sum over the axes given by a constant int32
// input (negative and repeated axes allowed) divided by the number of reduced elements;
// keep_dims keeps reduced dims as 1.
#include "runtime/kernels/reference/common.h"

namespace qdet::rt::ref {
namespace {

struct MeanData : OpData {
  Shape in_shape;
  std::vector<bool> reduced;
  int64_t reduce_count = 1;
  std::vector<int64_t> out_stride_for_in_dim;  // output stride of each input dim (0 if reduced)
};

Status prepare(PrepareContext& ctx) {
  QDET_TRY(check_arity(ctx, 2, 2, 1));
  const TensorRef& in = *ctx.inputs[0];
  if (in.dtype != DType::kFloat32) return no_kernel_for_dtype(in.dtype);
  QDET_TRY(expect_same_dtype(in, *ctx.outputs[0], "the output"));
  QDET_ASSIGN_OR_RETURN(auto axes, read_constant_ints(ctx.inputs[1], "the axis input"));
  const int rank = static_cast<int>(in.shape.size());
  if (rank > 16) return unsupported("MEAN over more than 16 dims");
  auto d = std::make_unique<MeanData>();
  d->in_shape = in.shape;
  d->reduced.assign(rank, false);
  for (int64_t a : axes) {
    QDET_ASSIGN_OR_RETURN(int axis, normalize_axis(a, rank));
    d->reduced[axis] = true;
  }
  Shape out_shape, kept;
  for (int i = 0; i < rank; ++i) {
    if (d->reduced[i]) {
      d->reduce_count *= in.shape[i];
      if (ctx.op.attrs.keep_dims) out_shape.push_back(1);
    } else {
      out_shape.push_back(in.shape[i]);
      kept.push_back(in.shape[i]);
    }
  }
  const auto kept_strides = strides_of(kept);
  for (int i = 0, k = 0; i < rank; ++i)
    d->out_stride_for_in_dim.push_back(d->reduced[i] ? 0 : kept_strides[k++]);
  ctx.outputs[0]->shape = out_shape;
  ctx.op_data = std::move(d);
  return ok_status();
}

Status eval(EvalContext& ctx) {
  const auto& d = *op_data_as<MeanData>(ctx);
  const float* in = ctx.inputs[0]->as<const float>();
  float* out = ctx.outputs[0]->as<float>();
  const int64_t out_n = ctx.outputs[0]->num_elements();
  for (int64_t i = 0; i < out_n; ++i) out[i] = 0.0f;
  // Walk the input in order, adding each element to its output (fixed summation order).
  const int rank = static_cast<int>(d.in_shape.size());
  const int64_t n = ctx.inputs[0]->num_elements();
  int64_t idx[16] = {};
  int64_t o = 0;
  for (int64_t i = 0; i < n; ++i) {
    out[o] += in[i];
    for (int dim = rank - 1; dim >= 0; --dim) {
      ++idx[dim];
      o += d.out_stride_for_in_dim[dim];
      if (idx[dim] < d.in_shape[dim]) break;
      o -= d.out_stride_for_in_dim[dim] * d.in_shape[dim];
      idx[dim] = 0;
    }
  }
  if (d.reduce_count > 0)
    for (int64_t i = 0; i < out_n; ++i) out[i] /= static_cast<float>(d.reduce_count);
  return ok_status();
}

}  // namespace

const Kernel kMeanFloat = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
