// Data-movement ops: Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Concat, Split, Slice,
// Gather. Axes are mapped through each value's layout (convert/layout.h); Transpose costs no op.
#include <algorithm>

#include "convert/onnx/lower.h"

namespace qdet::convert::onnx {
namespace {

using graph::OpAttrs;
using graph::OpKind;

Result<std::vector<int64_t>> int_values(const Context& ctx, const Node& node, size_t index, std::string_view role) {
  QDET_ASSIGN_OR_RETURN(const HostTensor* t, ctx.constant_input(node, index, role));
  auto v = t->as_int64s();
  if (!v.ok()) return ctx.node_error(StatusCode::kInvalidArgument, node, "{}: {}", role, v.status().message());
  return std::move(v).value();
}

}  // namespace

Result<Shape> reshape_target(const Context& ctx, const Node& node, const Shape& in) {
  const std::string& op = node.op_type;
  const int64_t count = num_elements(in);
  Shape out;
  if (op == "Reshape") {
    std::vector<int64_t> spec;
    if (ctx.model().opset < 5) {
      spec = node.get_ints("shape");
    } else {
      QDET_ASSIGN_OR_RETURN(spec, int_values(ctx, node, 1, "shape"));
    }
    const bool allow_zero = node.get_int("allowzero", 0) != 0;
    int infer = -1;
    int64_t known = 1;
    for (size_t i = 0; i < spec.size(); ++i) {
      int64_t d = spec[i];
      if (d == 0 && !allow_zero) {
        if (i >= in.size())
          return ctx.node_error(StatusCode::kInvalidArgument, node, "shape {} copies dim {} of a rank-{} input", i, i,
                                in.size());
        d = in[i];
      }
      if (d == -1) {
        if (infer >= 0) return ctx.node_error(StatusCode::kInvalidArgument, node, "shape has more than one -1");
        infer = static_cast<int>(i);
        out.push_back(1);
        continue;
      }
      if (d < 0 || d > INT32_MAX) return ctx.node_error(StatusCode::kInvalidArgument, node, "shape value {} is invalid", d);
      known *= d;
      out.push_back(static_cast<int32_t>(d));
    }
    if (infer >= 0) {
      if (known == 0 || count % known != 0)
        return ctx.node_error(StatusCode::kInvalidArgument, node, "cannot reshape {} ({} elements) to {}",
                              shape_to_string(in), count, shape_to_string(out));
      out[infer] = static_cast<int32_t>(count / known);
    }
  } else if (op == "Flatten") {
    QDET_ASSIGN_OR_RETURN(int32_t axis, normalize_axis(ctx, node, node.get_int("axis", 1), in.size() + 1));
    int64_t a = 1;
    for (int32_t i = 0; i < axis; ++i) a *= in[i];
    out = {static_cast<int32_t>(a), static_cast<int32_t>(a == 0 ? 0 : count / a)};
  } else if (op == "Squeeze" || op == "Unsqueeze") {
    std::vector<int64_t> axes;
    if (ctx.model().opset < 13) {
      axes = node.get_ints("axes");
    } else if (ctx.has_input(node, 1)) {
      QDET_ASSIGN_OR_RETURN(axes, int_values(ctx, node, 1, "axes"));
    }
    if (op == "Squeeze") {
      std::vector<char> drop(in.size(), 0);
      if (axes.empty()) {
        for (size_t i = 0; i < in.size(); ++i) drop[i] = in[i] == 1;
      }
      for (int64_t a : axes) {
        QDET_ASSIGN_OR_RETURN(int32_t ax, normalize_axis(ctx, node, a, in.size()));
        if (in[ax] != 1) return ctx.node_error(StatusCode::kInvalidArgument, node, "cannot squeeze dim {} of size {}", ax, in[ax]);
        drop[ax] = 1;
      }
      for (size_t i = 0; i < in.size(); ++i)
        if (!drop[i]) out.push_back(in[i]);
    } else {
      const size_t rank = in.size() + axes.size();
      std::vector<char> add(rank, 0);
      for (int64_t a : axes) {
        QDET_ASSIGN_OR_RETURN(int32_t ax, normalize_axis(ctx, node, a, rank));
        if (add[ax]) return ctx.node_error(StatusCode::kInvalidArgument, node, "axis {} given twice", ax);
        add[ax] = 1;
      }
      size_t j = 0;
      for (size_t i = 0; i < rank; ++i) out.push_back(add[i] ? 1 : in[j++]);
    }
  }
  if (num_elements(out) != count)
    return ctx.node_error(StatusCode::kInvalidArgument, node, "cannot reshape {} ({} elements) to {}",
                          shape_to_string(in), count, shape_to_string(out));
  return out;
}

Status lower_reshape(Context& ctx, const Node& node) {
  QDET_ASSIGN_OR_RETURN(const Value* x, activation_input(ctx, node, 0));
  const Shape in_shape = x->shape;
  const DType dtype = x->dtype;
  QDET_ASSIGN_OR_RETURN(Shape out_shape, reshape_target(ctx, node, in_shape));
  if (out_shape.empty() || out_shape.size() > 6)
    return ctx.node_error(StatusCode::kUnsupported, node, "output rank {} is not supported", out_shape.size());
  auto plan = plan_reshape(in_shape, x->perm, out_shape);
  if (!plan) return ctx.node_error(StatusCode::kInternal, node, "no reshape plan");
  QDET_ASSIGN_OR_RETURN(int32_t in, ctx.tensor_in(node.input(0), plan->input_perm));
  const Shape tshape = apply_perm(out_shape, plan->output_perm);
  if (ctx.graph().tensors[in].shape == tshape) {
    set_output(ctx, node, 0, in, plan->output_perm, out_shape, dtype);  // same bytes, same shape
    return ok_status();
  }
  const int32_t shape_id = ctx.add_int32_vector(tshape, node.outputs[0] + "/shape");
  const int32_t out_id = new_output_tensor(ctx, node, 0, dtype, tshape);
  OpAttrs a;
  a.new_shape = tshape;
  a.has_new_shape = true;
  ctx.add_op(OpKind::kReshape, {in, shape_id}, {out_id}, a);
  set_output(ctx, node, 0, out_id, plan->output_perm, out_shape, dtype);
  return ok_status();
}

Status lower_transpose(Context& ctx, const Node& node) {
  QDET_ASSIGN_OR_RETURN(const Value* x, activation_input(ctx, node, 0));
  const size_t rank = x->shape.size();
  std::vector<int64_t> p64 = node.get_ints("perm");
  Perm p;
  if (p64.empty()) {
    for (size_t i = rank; i-- > 0;) p.push_back(static_cast<int32_t>(i));
  } else {
    for (int64_t v : p64) p.push_back(v < 0 || v >= static_cast<int64_t>(rank) ? -1 : static_cast<int32_t>(v));
  }
  if (!is_permutation(p, rank))
    return ctx.node_error(StatusCode::kInvalidArgument, node, "perm {} is not a permutation of {} dims",
                          perm_to_string(p), rank);
  // The data stays where it is; only the relation to the ONNX tensor changes.
  set_output(ctx, node, 0, x->tensor, layout_after_transpose(x->perm, p), apply_perm(x->shape, p), x->dtype);
  return ok_status();
}

Status lower_concat(Context& ctx, const Node& node) {
  if (node.inputs.empty()) return ctx.node_error(StatusCode::kInvalidArgument, node, "no inputs");
  QDET_ASSIGN_OR_RETURN(const Value* first, ctx.input(node, 0));
  const size_t rank = first->shape.size();
  QDET_ASSIGN_OR_RETURN(int32_t axis, normalize_axis(ctx, node, node.get_int("axis", 1), rank));
  Shape out_shape = first->shape;
  out_shape[axis] = 0;
  DType dtype = DType::kUnknown;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    QDET_ASSIGN_OR_RETURN(const Value* v, ctx.input(node, i));
    bool ok = v->shape.size() == rank;
    for (size_t d = 0; ok && d < rank; ++d) ok = d == static_cast<size_t>(axis) || v->shape[d] == first->shape[d];
    if (!ok)
      return ctx.node_error(StatusCode::kInvalidArgument, node, "input '{}' {} does not match {} outside axis {}",
                            node.inputs[i], shape_to_string(v->shape), shape_to_string(first->shape), axis);
    out_shape[axis] += v->shape[axis];
    if (!v->is_constant() && dtype == DType::kUnknown) dtype = v->dtype;
  }
  if (dtype == DType::kUnknown) dtype = first->dtype;
  const Perm perm = [&] {
    for (const auto& n : node.inputs) {
      const Value* v = ctx.find(n);
      if (!v->is_constant()) return v->perm;
    }
    return identity_perm(rank);
  }();
  std::vector<int32_t> ins;
  for (const auto& n : node.inputs) {
    if (ctx.find(n)->shape[axis] == 0) continue;  // empty inputs add nothing
    QDET_ASSIGN_OR_RETURN(int32_t t, ctx.tensor_in(n, perm));
    ins.push_back(t);
  }
  const int32_t out_id = new_output_tensor(ctx, node, 0, dtype, apply_perm(out_shape, perm));
  OpAttrs a;
  a.axis = tflite_axis(perm, axis);
  ctx.add_op(OpKind::kConcatenation, ins, {out_id}, a);
  set_output(ctx, node, 0, out_id, perm, out_shape, dtype);
  return ok_status();
}

Status lower_split(Context& ctx, const Node& node) {
  QDET_ASSIGN_OR_RETURN(const ActivationIn x, activation_in(ctx, node, 0));
  const auto& [in, perm, shape, dtype] = x;
  QDET_ASSIGN_OR_RETURN(int32_t axis, normalize_axis(ctx, node, node.get_int("axis", 0), shape.size()));
  const size_t n = node.outputs.size();
  std::vector<int64_t> sizes;
  if (ctx.model().opset < 13) {
    sizes = node.get_ints("split");
  } else if (ctx.has_input(node, 1)) {
    QDET_ASSIGN_OR_RETURN(sizes, int_values(ctx, node, 1, "split"));
  }
  if (sizes.empty()) {
    if (n == 0 || shape[axis] % n != 0)
      return ctx.node_error(StatusCode::kInvalidArgument, node, "dim {} of size {} does not split into {} equal parts",
                            axis, shape[axis], n);
    sizes.assign(n, shape[axis] / static_cast<int64_t>(n));
  }
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0) return ctx.node_error(StatusCode::kInvalidArgument, node, "negative split size {}", s);
    total += s;
  }
  if (sizes.size() != n || total != shape[axis])
    return ctx.node_error(StatusCode::kInvalidArgument, node, "split sizes sum to {} in {} parts, dim {} has {} in {} outputs",
                          total, sizes.size(), axis, shape[axis], n);
  const int32_t taxis = tflite_axis(perm, axis);
  std::vector<int32_t> outs;
  for (size_t i = 0; i < n; ++i) {
    Shape os = shape;
    os[axis] = static_cast<int32_t>(sizes[i]);
    outs.push_back(new_output_tensor(ctx, node, i, dtype, apply_perm(os, perm)));
  }
  const bool equal = std::all_of(sizes.begin(), sizes.end(), [&](int64_t s) { return s == sizes[0]; });
  const int32_t axis_value[] = {taxis};
  const int32_t axis_id = ctx.add_constant(HostTensor::from_int32s({}, axis_value), node.name + "/axis");
  OpAttrs a;
  a.num_splits = static_cast<int32_t>(n);
  if (equal) {
    ctx.add_op(OpKind::kSplit, {axis_id, in}, outs, a);
  } else {
    std::vector<int32_t> s32(sizes.begin(), sizes.end());
    const int32_t sizes_id = ctx.add_int32_vector(s32, node.name + "/size_splits");
    ctx.add_op(OpKind::kSplitV, {in, sizes_id, axis_id}, outs, a);
  }
  for (size_t i = 0; i < n; ++i) {
    Shape os = shape;
    os[axis] = static_cast<int32_t>(sizes[i]);
    set_output(ctx, node, i, outs[i], perm, os, dtype);
  }
  return ok_status();
}

Result<SliceBounds> slice_bounds(const Context& ctx, const Node& node, const Shape& shape) {
  const size_t rank = shape.size();
  std::vector<int64_t> starts, ends, axes, steps;
  if (ctx.model().opset < 10) {
    starts = node.get_ints("starts");
    ends = node.get_ints("ends");
    axes = node.get_ints("axes");
  } else {
    QDET_ASSIGN_OR_RETURN(starts, int_values(ctx, node, 1, "starts"));
    QDET_ASSIGN_OR_RETURN(ends, int_values(ctx, node, 2, "ends"));
    if (ctx.has_input(node, 3)) {
      QDET_ASSIGN_OR_RETURN(axes, int_values(ctx, node, 3, "axes"));
    }
    if (ctx.has_input(node, 4)) {
      QDET_ASSIGN_OR_RETURN(steps, int_values(ctx, node, 4, "steps"));
    }
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    return ctx.node_error(StatusCode::kInvalidArgument, node, "starts, ends, axes and steps differ in length");
  SliceBounds r{std::vector<int64_t>(rank, 0), std::vector<int64_t>(shape.begin(), shape.end()),
                std::vector<int64_t>(rank, 1), shape};
  std::vector<char> seen(rank, 0);
  for (size_t i = 0; i < starts.size(); ++i) {
    QDET_ASSIGN_OR_RETURN(int32_t ax, normalize_axis(ctx, node, axes[i], rank));
    if (seen[ax]) return ctx.node_error(StatusCode::kInvalidArgument, node, "axis {} given twice", ax);
    seen[ax] = 1;
    const int64_t dim = shape[ax], step = steps[i];
    if (step == 0) return ctx.node_error(StatusCode::kInvalidArgument, node, "step 0");
    int64_t st = starts[i] < 0 ? starts[i] + dim : starts[i];
    int64_t en = ends[i] < 0 ? ends[i] + dim : ends[i];
    if (step > 0) {
      st = std::clamp<int64_t>(st, 0, dim);
      en = std::clamp<int64_t>(en, 0, dim);
      r.out_shape[ax] = static_cast<int32_t>(en > st ? (en - st + step - 1) / step : 0);
    } else {
      st = std::clamp<int64_t>(st, 0, dim - 1);
      en = std::clamp<int64_t>(en, -1, dim - 1);
      r.out_shape[ax] = static_cast<int32_t>(st > en ? (st - en - step - 1) / -step : 0);
    }
    r.begin[ax] = st;
    r.end[ax] = en;
    r.step[ax] = step;
  }
  return r;
}

Status lower_slice(Context& ctx, const Node& node) {
  QDET_ASSIGN_OR_RETURN(const ActivationIn x, activation_in(ctx, node, 0));
  const auto& [in, perm, shape, dtype] = x;
  const size_t rank = shape.size();
  QDET_ASSIGN_OR_RETURN(SliceBounds bounds, slice_bounds(ctx, node, shape));
  const std::vector<int64_t>& b = bounds.begin;
  const std::vector<int64_t>& e = bounds.end;
  const std::vector<int64_t>& s = bounds.step;
  const Shape& out_shape = bounds.out_shape;
  for (int32_t d : out_shape)
    if (d == 0) return ctx.node_error(StatusCode::kUnsupported, node, "the slice is empty");
  // STRIDED_SLICE over the TFLite dims; an end of -1 with a negative step runs to the start,
  // which only end_mask can say.
  std::vector<int32_t> tb, te, ts;
  OpAttrs a;
  for (size_t i = 0; i < rank; ++i) {
    const int32_t d = perm[i];
    tb.push_back(static_cast<int32_t>(b[d]));
    ts.push_back(static_cast<int32_t>(s[d]));
    if (s[d] < 0 && e[d] < 0) {
      te.push_back(0);
      a.end_mask |= 1 << i;
    } else {
      te.push_back(static_cast<int32_t>(e[d]));
    }
  }
  const std::string& out = node.outputs.at(0);
  const int32_t b_id = ctx.add_int32_vector(tb, out + "/begin");
  const int32_t e_id = ctx.add_int32_vector(te, out + "/end");
  const int32_t s_id = ctx.add_int32_vector(ts, out + "/strides");
  const int32_t out_id = new_output_tensor(ctx, node, 0, dtype, apply_perm(out_shape, perm));
  ctx.add_op(OpKind::kStridedSlice, {in, b_id, e_id, s_id}, {out_id}, a);
  set_output(ctx, node, 0, out_id, perm, out_shape, dtype);
  return ok_status();
}

Status lower_gather(Context& ctx, const Node& node) {
  QDET_ASSIGN_OR_RETURN(const ActivationIn x, activation_in(ctx, node, 0));
  const auto& [in, perm, shape, dtype] = x;
  QDET_ASSIGN_OR_RETURN(const HostTensor* idx, ctx.constant_input(node, 1, "indices"));
  QDET_ASSIGN_OR_RETURN(int32_t axis, normalize_axis(ctx, node, node.get_int("axis", 0), shape.size()));
  auto iv = idx->as_int64s();
  if (!iv.ok()) return ctx.node_error(StatusCode::kInvalidArgument, node, "indices: {}", iv.status().message());
  std::vector<int32_t> i32;
  for (int64_t v : *iv) {
    const int64_t w = v < 0 ? v + shape[axis] : v;
    if (w < 0 || w >= shape[axis])
      return ctx.node_error(StatusCode::kOutOfRange, node, "index {} is out of range for dim {} of size {}", v, axis,
                            shape[axis]);
    i32.push_back(static_cast<int32_t>(w));
  }
  const Shape& ishape = idx->shape;
  const int32_t k = static_cast<int32_t>(ishape.size());
  if (shape.size() - 1 + k > 6 || shape.size() - 1 + k == 0)
    return ctx.node_error(StatusCode::kUnsupported, node, "output rank {} is not supported", shape.size() - 1 + k);
  // ONNX: out = x.shape[:axis] + indices.shape + x.shape[axis+1:]; the same in TFLite order at
  // the axis's TFLite position.
  Shape out_shape(shape.begin(), shape.begin() + axis);
  out_shape.insert(out_shape.end(), ishape.begin(), ishape.end());
  out_shape.insert(out_shape.end(), shape.begin() + axis + 1, shape.end());
  Perm out_perm;
  for (int32_t d : perm) {
    if (d < axis) out_perm.push_back(d);
    else if (d > axis) out_perm.push_back(d + k - 1);
    else
      for (int32_t j = 0; j < k; ++j) out_perm.push_back(axis + j);
  }
  const int32_t idx_id = ctx.add_constant(HostTensor::from_int32s(ishape, i32), node.outputs[0] + "/indices");
  const int32_t out_id = new_output_tensor(ctx, node, 0, dtype, apply_perm(out_shape, out_perm));
  OpAttrs a;
  a.axis = tflite_axis(perm, axis);
  ctx.add_op(OpKind::kGather, {in, idx_id}, {out_id}, a);
  set_output(ctx, node, 0, out_id, out_perm, out_shape, dtype);
  return ok_status();
}

}  // namespace qdet::convert::onnx
