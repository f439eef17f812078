// GATHER for every dtype (TFLite reference_ops::Gather): output = params.shape[:axis] +
// indices.shape[batch_dims:] + params.shape[axis+1:]; int32/int64 indices, checked against the
// axis size when the op runs (an out-of-range index is an error, never a read out of bounds).
#include <cstring>

#include "runtime/kernels/reference/common.h"
#include "runtime/kernels/reference/strided_copy.h"

namespace qdet::rt::ref {
namespace {

struct GatherData : OpData {
  int64_t batch = 1, outer = 1, axis_size = 0, inner_bytes = 0, coords = 1;
  // Constant indices in one arithmetic progression (a channel split or shuffle: 0, 2, 4, ...):
  // each row is one strided copy of `coords` blocks, `step` blocks apart from `first`.
  bool progression = false;
  int64_t first = 0, step = 0;
};

// Constant in-range indices of one batch that step evenly: (first, step).
template <typename I>
bool arithmetic_progression(const I* idx, int64_t n, int64_t axis_size, int64_t* first, int64_t* step) {
  if (n < 1) return false;
  *first = idx[0];
  *step = n > 1 ? static_cast<int64_t>(idx[1]) - idx[0] : 1;
  for (int64_t c = 0; c < n; ++c) {
    const int64_t v = idx[c];
    if (v < 0 || v >= axis_size || v != *first + c * *step) return false;
  }
  return true;
}

Status prepare(PrepareContext& ctx) {
  QDET_TRY(check_arity(ctx, 2, 2, 1));
  const TensorRef& params = *ctx.inputs[0];
  const TensorRef& indices = *ctx.inputs[1];
  QDET_TRY(expect_same_dtype(params, *ctx.outputs[0], "the output"));
  if (indices.dtype != DType::kInt32 && indices.dtype != DType::kInt64)
    return invalid_argument("indices must be int32 or int64, got {}", dtype_name(indices.dtype));
  const int p_rank = static_cast<int>(params.shape.size());
  const int i_rank = static_cast<int>(indices.shape.size());
  QDET_ASSIGN_OR_RETURN(int axis, normalize_axis(ctx.op.attrs.axis, p_rank));
  int batch_dims = ctx.op.attrs.batch_dims;
  if (batch_dims < 0) batch_dims += i_rank;
  if (batch_dims < 0 || batch_dims > axis || batch_dims > i_rank)
    return invalid_argument("batch_dims {} is invalid for axis {} and indices of rank {}",
                            ctx.op.attrs.batch_dims, axis, i_rank);
  auto d = std::make_unique<GatherData>();
  for (int i = 0; i < batch_dims; ++i) {
    if (params.shape[i] != indices.shape[i])
      return invalid_argument("batch dim {} differs: params {} vs indices {}", i,
                              shape_to_string(params.shape), shape_to_string(indices.shape));
    d->batch *= params.shape[i];
  }
  for (int i = batch_dims; i < axis; ++i) d->outer *= params.shape[i];
  d->axis_size = params.shape[axis];
  int64_t inner = 1;
  for (int i = axis + 1; i < p_rank; ++i) inner *= params.shape[i];
  d->inner_bytes = inner * static_cast<int64_t>(dtype_size(params.dtype));
  for (int i = batch_dims; i < i_rank; ++i) d->coords *= indices.shape[i];
  Shape out(params.shape.begin(), params.shape.begin() + axis);
  out.insert(out.end(), indices.shape.begin() + batch_dims, indices.shape.end());
  out.insert(out.end(), params.shape.begin() + axis + 1, params.shape.end());
  ctx.outputs[0]->shape = out;
  if (indices.is_constant && indices.data && d->batch == 1)
    d->progression = indices.dtype == DType::kInt32
                         ? arithmetic_progression(indices.as<const int32_t>(), d->coords, d->axis_size, &d->first, &d->step)
                         : arithmetic_progression(indices.as<const int64_t>(), d->coords, d->axis_size, &d->first, &d->step);
  return keep_op_data(ctx, std::move(d));
}

template <typename I>
Status gather(const GatherData& d, const uint8_t* params, const I* indices, uint8_t* out) {
  for (int64_t b = 0; b < d.batch; ++b)
    for (int64_t o = 0; o < d.outer; ++o)
      for (int64_t c = 0; c < d.coords; ++c) {
        const int64_t idx = indices[b * d.coords + c];
        if (idx < 0 || idx >= d.axis_size)
          return out_of_range("index {} is out of range [0, {})", idx, d.axis_size);
        std::memcpy(out, params + ((b * d.outer + o) * d.axis_size + idx) * d.inner_bytes,
                    static_cast<size_t>(d.inner_bytes));
        out += d.inner_bytes;
      }
  return ok_status();
}

Status eval(EvalContext& ctx) {
  const auto& d = *op_data_as<GatherData>(ctx);
  if (d.progression) {
    const uint8_t* params = ctx.inputs[0]->data;
    uint8_t* out = ctx.outputs[0]->data;
    const int64_t row = d.coords * d.inner_bytes, in_row = d.axis_size * d.inner_bytes;
    const auto block = static_cast<size_t>(d.inner_bytes);
    if (d.coords < 8) {  // few indices (a scalar index: one half of a shuffle): one pass per index
      for (int64_t c = 0; c < d.coords; ++c)
        copy_rows(out + c * d.inner_bytes, row, params + (d.first + c * d.step) * d.inner_bytes, in_row, d.outer,
                  block);
    } else {
      for (int64_t o = 0; o < d.outer; ++o)
        copy_rows(out + o * row, d.inner_bytes, params + o * in_row + d.first * d.inner_bytes,
                  d.step * d.inner_bytes, d.coords, block);
    }
    return ok_status();
  }
  const TensorRef& indices = *ctx.inputs[1];
  if (indices.dtype == DType::kInt32)
    return gather(d, ctx.inputs[0]->data, indices.as<const int32_t>(), ctx.outputs[0]->data);
  return gather(d, ctx.inputs[0]->data, indices.as<const int64_t>(), ctx.outputs[0]->data);
}

}  // namespace

const Kernel kGather = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
