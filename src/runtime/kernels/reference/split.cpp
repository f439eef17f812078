// SPLIT for every dtype: inputs (axis: constant scalar, value); num_splits equal pieces.
#include <cstring>

#include "runtime/kernels/reference/split.h"

namespace qdet::rt::ref {

Result<std::unique_ptr<SplitData>> prepare_split(PrepareContext& ctx, const TensorRef& value,
                                                 int64_t axis_value,
                                                 const std::vector<int64_t>& sizes) {
  const int rank = static_cast<int>(value.shape.size());
  QDET_ASSIGN_OR_RETURN(int axis, normalize_axis(axis_value, rank));
  if (sizes.size() != ctx.outputs.size())
    return invalid_argument("{} pieces for {} outputs", sizes.size(), ctx.outputs.size());
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0) return invalid_argument("negative split size {}", s);
    total += s;
  }
  if (total != value.shape[axis])
    return invalid_argument("split sizes add up to {}, dim {} has {}", total, axis, value.shape[axis]);
  auto d = std::make_unique<SplitData>();
  int64_t inner = 1;
  for (int i = axis + 1; i < rank; ++i) inner *= value.shape[i];
  for (int i = 0; i < axis; ++i) d->outer *= value.shape[i];
  for (size_t k = 0; k < sizes.size(); ++k) {
    TensorRef& out = *ctx.outputs[k];
    QDET_TRY(expect_same_dtype(value, out, "an output"));
    out.shape = value.shape;
    out.shape[axis] = static_cast<int32_t>(sizes[k]);
    d->piece_bytes.push_back(static_cast<size_t>(sizes[k] * inner) * dtype_size(value.dtype));
  }
  return d;
}

Status eval_split(EvalContext& ctx) {
  const auto& d = *op_data_as<SplitData>(ctx);
  const uint8_t* in = ctx.inputs[d.value_input]->data;
  for (int64_t o = 0; o < d.outer; ++o)
    for (size_t k = 0; k < d.piece_bytes.size(); ++k) {
      std::memcpy(ctx.outputs[k]->data + o * d.piece_bytes[k], in, d.piece_bytes[k]);
      in += d.piece_bytes[k];
    }
  return ok_status();
}

namespace {

Status prepare(PrepareContext& ctx) {
  if (ctx.outputs.empty()) return invalid_argument("expects at least one output");
  QDET_TRY(check_arity(ctx, 2, 2, ctx.outputs.size()));
  QDET_ASSIGN_OR_RETURN(auto axis, read_constant_ints(ctx.inputs[0], "the axis input"));
  if (axis.size() != 1) return invalid_argument("the axis input must hold one value");
  const TensorRef& value = *ctx.inputs[1];
  const int64_t n = static_cast<int64_t>(ctx.outputs.size());
  if (ctx.op.attrs.num_splits != 0 && ctx.op.attrs.num_splits != n)
    return invalid_argument("num_splits {} but {} outputs", ctx.op.attrs.num_splits, n);
  QDET_ASSIGN_OR_RETURN(int a, normalize_axis(axis[0], static_cast<int>(value.shape.size())));
  if (value.shape[a] % n != 0)
    return invalid_argument("dim {} of size {} does not split into {}", a, value.shape[a], n);
  QDET_ASSIGN_OR_RETURN(auto d, prepare_split(ctx, value, a, std::vector<int64_t>(n, value.shape[a] / n)));
  d->value_input = 1;
  return keep_op_data(ctx, std::move(d));
}

}  // namespace

const Kernel kSplit = {"reference", prepare, eval_split};

}  // namespace qdet::rt::ref
