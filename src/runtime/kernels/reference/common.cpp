#include "runtime/kernels/reference/common.h"

#include <cstring>

namespace qdet::rt::ref {

Status check_arity(const PrepareContext& ctx, size_t min_inputs, size_t max_inputs,
                   size_t num_outputs) {
  const size_t n_in = ctx.inputs.size();
  if (n_in < min_inputs || n_in > max_inputs) {
    if (min_inputs == max_inputs)
      return invalid_argument("expects {} inputs, got {}", min_inputs, n_in);
    return invalid_argument("expects {} to {} inputs, got {}", min_inputs, max_inputs, n_in);
  }
  for (size_t i = 0; i < min_inputs; ++i)
    if (!ctx.inputs[i]) return invalid_argument("input {} is required but absent", i);
  if (ctx.outputs.size() != num_outputs)
    return invalid_argument("expects {} outputs, got {}", num_outputs, ctx.outputs.size());
  return ok_status();
}

Status no_kernel_for_dtype(DType dtype) {
  return unsupported("no kernel for input dtype {}", dtype_name(dtype));
}

bool is_quantized(const TensorRef& t) {
  return (t.dtype == DType::kInt8 || t.dtype == DType::kUInt8 || t.dtype == DType::kInt16) &&
         !t.quant->empty();
}

bool same_quantization(const TensorRef& a, const TensorRef& b) {
  return a.quant->scale == b.quant->scale && a.quant->zero_point == b.quant->zero_point;
}

Status expect_dtype(const TensorRef& t, DType dtype, const char* role) {
  if (t.dtype != dtype)
    return invalid_argument("{} must be {}, got {}", role, dtype_name(dtype), dtype_name(t.dtype));
  return ok_status();
}

Result<std::reference_wrapper<const TensorRef>> same_dtype_input(const PrepareContext& ctx, size_t min_inputs,
                                                                 size_t max_inputs) {
  QDET_TRY(check_arity(ctx, min_inputs, max_inputs, 1));
  const TensorRef& in = *ctx.inputs[0];
  QDET_TRY(expect_same_dtype(in, *ctx.outputs[0], "the output"));
  return std::cref(in);
}

Result<ChannelQuantization> channel_quantization(const Shape& shape, const QuantParams& q) {
  ChannelQuantization c;
  if (q.per_axis()) {
    const int rank = static_cast<int>(shape.size());
    const int axis = q.quantized_dimension;
    if (axis < 0 || axis >= rank || shape[axis] != static_cast<int32_t>(q.scale.size()))
      return invalid_argument("{} scales for dim {} of {}", q.scale.size(), axis, shape_to_string(shape));
    for (int i = 0; i < axis; ++i) c.outer *= shape[i];
    c.channels = shape[axis];
    for (int i = axis + 1; i < rank; ++i) c.inner *= shape[i];
  } else {
    c.inner = num_elements(shape);
  }
  c.scale = q.scale;
  for (int64_t zp : q.zero_point) c.zero_point.push_back(static_cast<int32_t>(zp));
  return c;
}

Status copy_input_eval(EvalContext& ctx) {
  if (ctx.outputs[0]->data != ctx.inputs[0]->data)
    std::memcpy(ctx.outputs[0]->data, ctx.inputs[0]->data, ctx.inputs[0]->byte_size());
  return ok_status();
}

Result<WeightedOpTensors> float_weighted_op(const PrepareContext& ctx, DType filter_dtype,
                                            std::string_view filter_refusal) {
  QDET_TRY(check_arity(ctx, 2, 3, 1));
  const TensorRef& in = *ctx.inputs[0];
  const TensorRef& filter = *ctx.inputs[1];
  const TensorRef* bias = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
  TensorRef& out = *ctx.outputs[0];
  if (in.dtype != DType::kFloat32) return no_kernel_for_dtype(in.dtype);
  if (filter.dtype != filter_dtype) return unsupported("{}{}", filter_refusal, dtype_name(filter.dtype));
  QDET_TRY(expect_dtype(out, DType::kFloat32, "output"));
  return WeightedOpTensors{in, filter, bias, out};
}

Result<WeightedOpTensors> prepare_fully_connected(const PrepareContext& ctx, DType weight_dtype,
                                                  std::string_view weight_refusal, FullyConnectedRows* rows) {
  QDET_ASSIGN_OR_RETURN(const WeightedOpTensors t, float_weighted_op(ctx, weight_dtype, weight_refusal));
  const auto& [in, w, bias, out] = t;
  if (w.shape.size() != 2 || in.shape.empty())
    return invalid_argument("weights {} must be 2-D and input {} at least 1-D", shape_to_string(w.shape),
                            shape_to_string(in.shape));
  rows->units = w.shape[0];
  rows->depth = w.shape[1];
  if (rows->depth == 0 || in.num_elements() % rows->depth != 0)
    return invalid_argument("input {} does not split into rows of {}", shape_to_string(in.shape), rows->depth);
  rows->batch = in.num_elements() / rows->depth;
  if (bias) {
    QDET_TRY(expect_dtype(*bias, DType::kFloat32, "bias"));
    if (bias->num_elements() != rows->units)
      return invalid_argument("bias has {} elements, expected {}", bias->num_elements(), rows->units);
  }
  QDET_ASSIGN_OR_RETURN(rows->act, activation_range(ctx.op.attrs.activation));
  QDET_ASSIGN_OR_RETURN(out.shape, fully_connected_output_shape(ctx.op.attrs.keep_num_dims, in.shape, rows->batch,
                                                                rows->depth, rows->units));
  return t;
}

Status expect_same_dtype(const TensorRef& a, const TensorRef& b, const char* role_b) {
  if (a.dtype != b.dtype)
    return invalid_argument("{} is {} but the input is {}", role_b, dtype_name(b.dtype),
                            dtype_name(a.dtype));
  return ok_status();
}

Status expect_operand_dtypes(const TensorRef& a, const TensorRef& b, const TensorRef& out,
                             std::initializer_list<DType> accepted, const char* role_b) {
  if (std::find(accepted.begin(), accepted.end(), a.dtype) == accepted.end()) return no_kernel_for_dtype(a.dtype);
  QDET_TRY(expect_same_dtype(a, b, role_b));
  return expect_same_dtype(a, out, "the output");
}

Result<std::vector<int64_t>> read_constant_ints(const TensorRef* t, const char* role) {
  if (!t) return invalid_argument("{} is absent", role);
  if (!t->is_constant || !t->data)
    return unsupported("{} must be a constant tensor (tensor {} is computed at run time)", role,
                       t->id);
  std::vector<int64_t> v(static_cast<size_t>(t->num_elements()));
  if (t->dtype == DType::kInt32) {
    const auto* p = t->as<const int32_t>();
    for (size_t i = 0; i < v.size(); ++i) v[i] = p[i];
  } else if (t->dtype == DType::kInt64) {
    const auto* p = t->as<const int64_t>();
    for (size_t i = 0; i < v.size(); ++i) v[i] = p[i];
  } else {
    return invalid_argument("{} must be int32 or int64, got {}", role, dtype_name(t->dtype));
  }
  return v;
}

Result<int> normalize_axis(int64_t axis, int rank, const char* role) {
  if (axis < -rank || axis >= rank)
    return invalid_argument("{} {} is out of range for rank {}", role, axis, rank);
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

std::vector<int64_t> strides_of(const Shape& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (int i = static_cast<int>(shape.size()) - 2; i >= 0; --i) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

Result<Shape> to_shape(const std::vector<int64_t>& dims, const char* role) {
  Shape s;
  for (int64_t d : dims) {
    if (d < 0 || d > std::numeric_limits<int32_t>::max())
      return invalid_argument("{} has an invalid dimension {}", role, d);
    s.push_back(static_cast<int32_t>(d));
  }
  if (!checked_num_elements(s)) return invalid_argument("{} {} is too large", role, shape_to_string(s));
  return s;
}



Result<BroadcastIndexer> BroadcastIndexer::create(const Shape& out_shape,
                                                  const std::vector<Shape>& in_shapes) {
  BroadcastIndexer b;
  if (in_shapes.size() > 4) return internal_error("BroadcastIndexer: more than 4 inputs");
  // Merge adjacent dims that broadcast the same way in every input, which keeps the
  // innermost loop long (e.g. [1,80,80,64] + [64] -> [6400,64]).
  const int rank = static_cast<int>(out_shape.size());
  std::vector<std::vector<int64_t>> in_dims(in_shapes.size(), std::vector<int64_t>(rank, 1));
  for (size_t k = 0; k < in_shapes.size(); ++k) {
    const Shape& s = in_shapes[k];
    if (s.size() > out_shape.size())
      return invalid_argument("shape {} does not broadcast to {}", shape_to_string(s),
                              shape_to_string(out_shape));
    for (size_t i = 0; i < s.size(); ++i) {
      const size_t o = out_shape.size() - s.size() + i;
      if (s[i] != out_shape[o] && s[i] != 1)
        return invalid_argument("shape {} does not broadcast to {}", shape_to_string(s),
                                shape_to_string(out_shape));
      in_dims[k][o] = s[i];
    }
  }
  std::vector<int64_t> dims;
  std::vector<std::vector<int64_t>> merged(in_shapes.size());
  for (int d = 0; d < rank; ++d) {
    if (out_shape[d] == 1) continue;  // size-1 dims contribute nothing
    bool can_merge = !dims.empty();
    for (size_t k = 0; k < in_shapes.size() && can_merge; ++k) {
      const bool prev_bcast = merged[k].back() == 1 && dims.back() != 1;
      const bool cur_bcast = in_dims[k][d] == 1;
      can_merge = prev_bcast == cur_bcast;
    }
    if (can_merge) {
      dims.back() *= out_shape[d];
      for (size_t k = 0; k < in_shapes.size(); ++k) merged[k].back() *= in_dims[k][d];
    } else {
      dims.push_back(out_shape[d]);
      for (size_t k = 0; k < in_shapes.size(); ++k) merged[k].push_back(in_dims[k][d]);
    }
  }
  if (dims.size() > kMaxRank)
    return unsupported("broadcasting over more than {} dims", kMaxRank);
  b.rank_ = static_cast<int>(dims.size());
  b.num_inputs_ = static_cast<int>(in_shapes.size());
  b.count_ = 1;
  for (int d = 0; d < b.rank_; ++d) {
    b.dims_[d] = dims[d];
    b.count_ *= dims[d];
  }
  if (::qdet::num_elements(out_shape) == 0) b.count_ = 0;
  for (size_t k = 0; k < in_shapes.size(); ++k) {
    int64_t stride = 1;
    for (int d = b.rank_ - 1; d >= 0; --d) {
      b.strides_[k][d] = merged[k][d] == 1 ? 0 : stride;
      stride *= merged[k][d];
    }
  }
  return b;
}



}  // namespace qdet::rt::ref
