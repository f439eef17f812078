// SCATTER_ND (TFLite reference_ops::ScatterNd): a zero tensor of the constant `shape` input,
// with each slice of `updates` added at the position given by the last dim of `indices`
// (duplicates add up; bool ORs). Indices are checked when the op runs: an out-of-range index
// is an error, never a write out of bounds. Inputs: indices (int32/int64), updates, shape.
#include <cstring>

#include "runtime/kernels/reference/common.h"

namespace qdet::rt::ref {
namespace {

struct ScatterData : OpData {
  int64_t index_depth = 0, num_slices = 0, slice_size = 0;
  std::vector<int64_t> dim_sizes, dim_strides;  // the first index_depth dims of the output
};

Status prepare(PrepareContext& ctx) {
  QDET_TRY(check_arity(ctx, 3, 3, 1));
  const TensorRef& indices = *ctx.inputs[0];
  const TensorRef& updates = *ctx.inputs[1];
  TensorRef& out = *ctx.outputs[0];
  if (indices.dtype != DType::kInt32 && indices.dtype != DType::kInt64)
    return invalid_argument("indices must be int32 or int64, got {}", dtype_name(indices.dtype));
  QDET_TRY(expect_same_dtype(updates, out, "the output"));
  switch (updates.dtype) {
    case DType::kFloat32: case DType::kInt32: case DType::kInt64: case DType::kInt8:
    case DType::kUInt8: case DType::kInt16: case DType::kBool: break;
    default: return no_kernel_for_dtype(updates.dtype);
  }
  QDET_ASSIGN_OR_RETURN(auto dims, read_constant_ints(ctx.inputs[2], "the shape input"));
  QDET_ASSIGN_OR_RETURN(Shape out_shape, to_shape(dims, "the shape input"));
  if (indices.shape.empty()) return invalid_argument("indices must have at least one dim");
  auto d = std::make_unique<ScatterData>();
  d->index_depth = indices.shape.back();
  if (d->index_depth < 1 || d->index_depth > static_cast<int64_t>(out_shape.size()))
    return invalid_argument("indices' last dim {} must be in [1, {}]", d->index_depth, out_shape.size());
  // updates.shape must be indices.shape[:-1] + shape[index_depth:]
  Shape expected(indices.shape.begin(), indices.shape.end() - 1);
  expected.insert(expected.end(), out_shape.begin() + d->index_depth, out_shape.end());
  if (updates.shape != expected)
    return invalid_argument("updates has shape {}, expected {}", shape_to_string(updates.shape),
                            shape_to_string(expected));
  d->num_slices = indices.num_elements() / d->index_depth;
  d->slice_size = 1;
  for (size_t i = d->index_depth; i < out_shape.size(); ++i) d->slice_size *= out_shape[i];
  const auto strides = strides_of(out_shape);
  for (int64_t i = 0; i < d->index_depth; ++i) {
    d->dim_sizes.push_back(out_shape[i]);
    d->dim_strides.push_back(strides[i]);
  }
  out.shape = out_shape;
  return keep_op_data(ctx, std::move(d));
}

template <typename T, typename I>
Status scatter(const ScatterData& d, const I* indices, const T* updates, T* out, int64_t out_n) {
  std::memset(out, 0, static_cast<size_t>(out_n) * sizeof(T));
  for (int64_t s = 0; s < d.num_slices; ++s) {
    int64_t pos = 0;
    for (int64_t k = 0; k < d.index_depth; ++k) {
      const int64_t idx = indices[s * d.index_depth + k];
      if (idx < 0 || idx >= d.dim_sizes[k])
        return out_of_range("index {} of dim {} is out of range [0, {})", idx, k, d.dim_sizes[k]);
      pos += idx * d.dim_strides[k];
    }
    const T* u = updates + s * d.slice_size;
    T* o = out + pos;
    for (int64_t j = 0; j < d.slice_size; ++j) {
      if constexpr (std::is_same_v<T, bool>)
        o[j] = o[j] || u[j];
      else
        o[j] = static_cast<T>(o[j] + u[j]);
    }
  }
  return ok_status();
}

Status eval(EvalContext& ctx) {
  const auto& d = *op_data_as<ScatterData>(ctx);
  const TensorRef& indices = *ctx.inputs[0];
  const TensorRef& u = *ctx.inputs[1];
  TensorRef& o = *ctx.outputs[0];
  // The indices' and the values' types, then the scatter's own status (an index out of range).
  Status result = ok_status();
  const Status indexed = with_element_type<int32_t, int64_t>(indices.dtype, "SCATTER_ND", [&](auto i) {
    using I = decltype(i);
    const Status dispatched =
        with_element_type<float, int32_t, int64_t, int8_t, uint8_t, int16_t, bool>(u.dtype, "SCATTER_ND", [&](auto t) {
          using T = decltype(t);
          result = scatter(d, indices.as<const I>(), u.as<const T>(), o.as<T>(), o.num_elements());
        });
    if (!dispatched.ok()) result = dispatched;
  });
  return indexed.ok() ? result : indexed;
}

}  // namespace

const Kernel kScatterNd = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
