// Constant folding: nodes whose inputs are all constants are computed at conversion time (the
// shape arithmetic PyTorch exports around Reshape, constant weights in odd layouts). Shape
// always folds: every shape is static after import.
#include "convert/onnx/const_eval.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/memory.h"
#include "convert/onnx/lower.h"

namespace qdet::convert::onnx {
namespace {

constexpr const char* kFoldable[] = {"Constant", "Identity", "Shape",  "Reshape", "Flatten", "Squeeze",
                                     "Unsqueeze", "Transpose", "Concat", "Gather",  "Slice",   "Cast",
                                     "Add",      "Sub",      "Mul",    "Div",     "Neg",     "Sqrt",
                                     "ConstantOfShape", "Dropout", "Floor"};

std::vector<int64_t> strides_of(const Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (size_t i = s.size(); i-- > 1;) st[i - 1] = st[i] * s[i];
  return st;
}

// Element `flat` of out (shape `out`) -> element of `in` under numpy broadcasting.
int64_t broadcast_source(int64_t flat, const Shape& out, const Shape& in) {
  const size_t lead = out.size() - in.size();
  int64_t src = 0, stride = 1;
  for (size_t i = out.size(); i-- > 0;) {
    const int64_t coord = flat % out[i];
    flat /= out[i];
    if (i >= lead) {
      const int32_t d = in[i - lead];
      src += (d == 1 ? 0 : coord) * stride;
      stride *= d;
    }
  }
  return src;
}

Result<HostTensor> arithmetic(const std::string& op, const HostTensor& a, const HostTensor& b) {
  const size_t r = std::max(a.shape.size(), b.shape.size());
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    const int32_t da = i < r - a.shape.size() ? 1 : a.shape[i - (r - a.shape.size())];
    const int32_t db = i < r - b.shape.size() ? 1 : b.shape[i - (r - b.shape.size())];
    if (da != db && da != 1 && db != 1)
      return invalid_argument("shapes {} and {} do not broadcast", shape_to_string(a.shape), shape_to_string(b.shape));
    out[i] = da == 1 ? db : da;
  }
  const int64_t n = num_elements(out);
  // Broadcasting two small constants can ask for a huge one ([N,1] + [1,M]).
  QDET_TRY(check_memory_budget(static_cast<uint64_t>(n) * 8, fmt::format("a constant of shape {}", shape_to_string(out))));
  const bool is_float = dtype_traits(a.dtype).is_float;
  if (is_float) {
    QDET_ASSIGN_OR_RETURN(auto va, a.as_floats());
    QDET_ASSIGN_OR_RETURN(auto vb, b.as_floats());
    std::vector<float> o(n);
    for (int64_t i = 0; i < n; ++i) {
      const float x = va[broadcast_source(i, out, a.shape)], y = vb[broadcast_source(i, out, b.shape)];
      o[i] = op == "Add" ? x + y : op == "Sub" ? x - y : op == "Mul" ? x * y : x / y;
    }
    return cast(HostTensor::from_floats(out, o), a.dtype == DType::kFloat16 ? DType::kFloat32 : a.dtype);
  }
  QDET_ASSIGN_OR_RETURN(auto va, a.as_int64s());
  QDET_ASSIGN_OR_RETURN(auto vb, b.as_int64s());
  std::vector<int64_t> o(n);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t x = va[broadcast_source(i, out, a.shape)], y = vb[broadcast_source(i, out, b.shape)];
    if (op == "Div" && y == 0) return invalid_argument("integer division by zero");
    // ONNX integer Div truncates toward zero, like C++.
    o[i] = op == "Add" ? x + y : op == "Sub" ? x - y : op == "Mul" ? x * y : x / y;
  }
  return cast(HostTensor::from_int64s(out, o), a.dtype);
}

HostTensor concat(std::span<const HostTensor* const> parts, int32_t axis) {
  HostTensor out;
  out.dtype = parts[0]->dtype;
  out.shape = parts[0]->shape;
  out.shape[axis] = 0;
  for (const auto* p : parts) out.shape[axis] += p->shape[axis];
  const size_t es = dtype_size(out.dtype);
  int64_t outer = 1;
  for (int32_t i = 0; i < axis; ++i) outer *= out.shape[i];
  out.data.reserve(static_cast<size_t>(out.num_elements()) * es);
  for (int64_t o = 0; o < outer; ++o)
    for (const auto* p : parts) {
      const size_t chunk = p->data.size() / static_cast<size_t>(std::max<int64_t>(outer, 1));
      out.data.insert(out.data.end(), p->data.begin() + o * chunk, p->data.begin() + (o + 1) * chunk);
    }
  return out;
}

// Copies the elements of `in` at the given per-dim index lists (a general gather/slice).
HostTensor take(const HostTensor& in, const std::vector<std::vector<int64_t>>& index, const Shape& out_shape) {
  HostTensor out;
  out.dtype = in.dtype;
  out.shape = out_shape;
  const size_t es = dtype_size(in.dtype);
  const auto st = strides_of(in.shape);
  Shape grid;
  for (const auto& v : index) grid.push_back(static_cast<int32_t>(v.size()));
  const int64_t n = num_elements(grid);
  out.data.resize(static_cast<size_t>(n) * es);
  std::vector<int64_t> c(grid.size(), 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t src = 0;
    for (size_t d = 0; d < grid.size(); ++d) src += index[d][c[d]] * st[d];
    std::memcpy(out.data.data() + i * es, in.data.data() + src * es, es);
    for (size_t d = grid.size(); d-- > 0;) {
      if (++c[d] < grid[d]) break;
      c[d] = 0;
    }
  }
  return out;
}

using FoldResult = Result<std::vector<HostTensor>>;

// Input i of a node being folded (every input is a constant).
const HostTensor& folded_input(const Context& ctx, const Node& node, size_t i) {
  return *ctx.find(node.inputs[i])->constant;
}

// Constant: its tensor, or the value_* attribute as one.
FoldResult fold_constant(Context& ctx, const Node& node) {
  const Attribute* v = node.find("value");
  if (v && v->t) return std::vector<HostTensor>{*v->t};
  if (const Attribute* f = node.find("value_float")) return std::vector<HostTensor>{HostTensor::from_floats({}, std::vector<float>{f->f})};
  if (const Attribute* f = node.find("value_floats")) return std::vector<HostTensor>{HostTensor::from_floats({static_cast<int32_t>(f->floats.size())}, f->floats)};
  if (const Attribute* i = node.find("value_int")) return std::vector<HostTensor>{HostTensor::from_int64s({}, std::vector<int64_t>{i->i})};
  if (const Attribute* i = node.find("value_ints")) return std::vector<HostTensor>{HostTensor::from_int64s({static_cast<int32_t>(i->ints.size())}, i->ints)};
  return ctx.node_error(StatusCode::kUnsupported, node, "constant without a supported value attribute");
}

// Shape (opset 15 start/end included): every shape is static after import.
FoldResult fold_shape(Context& ctx, const Node& node) {
  QDET_ASSIGN_OR_RETURN(const Value* x, ctx.input(node, 0));
  std::vector<int64_t> dims(x->shape.begin(), x->shape.end());
  const int64_t r = static_cast<int64_t>(dims.size());
  int64_t start = node.get_int("start", 0), end = node.get_int("end", r);
  start = std::clamp<int64_t>(start < 0 ? start + r : start, 0, r);
  end = std::clamp<int64_t>(end < 0 ? end + r : end, 0, r);
  std::vector<int64_t> part(dims.begin() + start, dims.begin() + std::max(start, end));
  return std::vector<HostTensor>{HostTensor::from_int64s({static_cast<int32_t>(part.size())}, part)};
}

// Reshape, Flatten, Squeeze, Unsqueeze: the same bytes under the target shape.
FoldResult fold_reshape(Context& ctx, const Node& node) {
  HostTensor t = folded_input(ctx, node, 0);
  QDET_ASSIGN_OR_RETURN(Shape s, reshape_target(ctx, node, t.shape));
  t.shape = s;
  return std::vector<HostTensor>{t};
}

FoldResult fold_transpose(Context& ctx, const Node& node) {
  const HostTensor& x = folded_input(ctx, node, 0);
  const size_t rank = x.shape.size();
  Perm p;
  auto p64 = node.get_ints("perm");
  if (p64.empty())
    for (size_t i = rank; i-- > 0;) p.push_back(static_cast<int32_t>(i));
  for (int64_t v : p64) p.push_back(v < 0 || v >= static_cast<int64_t>(rank) ? -1 : static_cast<int32_t>(v));
  if (!is_permutation(p, rank)) return ctx.node_error(StatusCode::kInvalidArgument, node, "bad perm");
  return std::vector<HostTensor>{transpose(x, p)};
}

FoldResult fold_concat(Context& ctx, const Node& node) {
  const HostTensor& first = folded_input(ctx, node, 0);
  const size_t rank = first.shape.size();
  QDET_ASSIGN_OR_RETURN(int32_t axis, normalize_axis(ctx, node, node.get_int("axis", 0), rank));
  std::vector<const HostTensor*> parts;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    const HostTensor& t = folded_input(ctx, node, i);
    bool ok = t.shape.size() == rank && t.dtype == first.dtype;
    for (size_t d = 0; ok && d < rank; ++d) ok = static_cast<int32_t>(d) == axis || t.shape[d] == first.shape[d];
    if (!ok) return ctx.node_error(StatusCode::kInvalidArgument, node, "inputs do not concatenate");
    parts.push_back(&t);
  }
  return std::vector<HostTensor>{concat(parts, axis)};
}

FoldResult fold_gather(Context& ctx, const Node& node) {
  const HostTensor& x = folded_input(ctx, node, 0);
  QDET_ASSIGN_OR_RETURN(int32_t axis, normalize_axis(ctx, node, node.get_int("axis", 0), x.shape.size()));
  const HostTensor& indices = folded_input(ctx, node, 1);
  QDET_ASSIGN_OR_RETURN(auto idx, indices.as_int64s());
  for (int64_t& v : idx) {
    if (v < 0) v += x.shape[axis];
    if (v < 0 || v >= x.shape[axis]) return ctx.node_error(StatusCode::kOutOfRange, node, "index out of range");
  }
  std::vector<std::vector<int64_t>> index;
  for (size_t d = 0; d < x.shape.size(); ++d) {
    std::vector<int64_t> all(x.shape[d]);
    for (int32_t j = 0; j < x.shape[d]; ++j) all[j] = j;
    index.push_back(static_cast<int32_t>(d) == axis ? idx : all);
  }
  Shape out(x.shape.begin(), x.shape.begin() + axis);
  out.insert(out.end(), indices.shape.begin(), indices.shape.end());
  out.insert(out.end(), x.shape.begin() + axis + 1, x.shape.end());
  return std::vector<HostTensor>{take(x, index, out)};
}

// Slice: starts/ends/axes as attributes before opset 10, as constant inputs since.
FoldResult fold_slice(Context& ctx, const Node& node) {
  const HostTensor& x = folded_input(ctx, node, 0);
  QDET_ASSIGN_OR_RETURN(SliceBounds s, slice_bounds(ctx, node, x.shape));
  std::vector<std::vector<int64_t>> index(x.shape.size());
  for (size_t d = 0; d < index.size(); ++d)
    for (int64_t j = s.begin[d]; s.step[d] > 0 ? j < s.end[d] : j > s.end[d]; j += s.step[d]) index[d].push_back(j);
  return std::vector<HostTensor>{take(x, index, s.out_shape)};
}

FoldResult fold_cast(Context& ctx, const Node& node) {
  auto to = dtype_from_onnx(static_cast<int32_t>(node.get_int("to", 1)));
  if (!to) return ctx.node_error(StatusCode::kUnsupported, node, "cast to ONNX type {}", node.get_int("to", 1));
  auto c = cast(folded_input(ctx, node, 0), *to);
  if (!c.ok()) return ctx.node_error(StatusCode::kUnsupported, node, "{}", c.status().message());
  return std::vector<HostTensor>{*c};
}

// Add, Sub, Mul, Div with numpy broadcasting.
FoldResult fold_arithmetic(Context& ctx, const Node& node) {
  const std::string& op = node.op_type;
  if (node.inputs.size() != 2) return ctx.node_error(StatusCode::kInvalidArgument, node, "needs 2 inputs");
  auto r = arithmetic(op, folded_input(ctx, node, 0), folded_input(ctx, node, 1));
  if (!r.ok()) return ctx.node_error(StatusCode::kInvalidArgument, node, "{}", r.status().message());
  return std::vector<HostTensor>{*r};
}

// Neg, Sqrt, Floor (Neg also on integers).
FoldResult fold_unary(Context& ctx, const Node& node) {
  const std::string& op = node.op_type;
  const HostTensor& x = folded_input(ctx, node, 0);
  if (dtype_traits(x.dtype).is_float) {
    QDET_ASSIGN_OR_RETURN(auto v, x.as_floats());
    for (float& f : v) f = op == "Neg" ? -f : op == "Sqrt" ? std::sqrt(f) : std::floor(f);
    return std::vector<HostTensor>{HostTensor::from_floats(x.shape, v)};
  }
  if (op != "Neg") return ctx.node_error(StatusCode::kUnsupported, node, "integer input");
  QDET_ASSIGN_OR_RETURN(auto v, x.as_int64s());
  for (int64_t& i : v) i = -i;
  return std::vector<HostTensor>{*cast(HostTensor::from_int64s(x.shape, v), x.dtype)};
}

// ConstantOfShape: the value attribute (default float 0) repeated, within the memory budget.
FoldResult fold_constant_of_shape(Context& ctx, const Node& node) {
  QDET_ASSIGN_OR_RETURN(auto dims, folded_input(ctx, node, 0).as_int64s());
  Shape s;
  for (int64_t d : dims) {
    if (d < 0 || d > INT32_MAX) return ctx.node_error(StatusCode::kInvalidArgument, node, "bad dim {}", d);
    s.push_back(static_cast<int32_t>(d));
  }
  if (!checked_num_elements(s)) return ctx.node_error(StatusCode::kInvalidArgument, node, "shape too large");
  HostTensor fill = HostTensor::from_floats({1}, std::vector<float>{0.f});
  if (const Attribute* v = node.find("value"); v && v->t && v->t->num_elements() == 1) fill = *v->t;
  HostTensor out;
  out.dtype = fill.dtype;
  out.shape = s;
  const size_t es = dtype_size(fill.dtype);
  if (Status b = check_memory_budget(static_cast<uint64_t>(num_elements(s)) * es,
                                     fmt::format("its output of shape {}", shape_to_string(s)));
      !b.ok())
    return ctx.node_error(StatusCode::kOutOfRange, node, "{}", b.message());
  out.data.resize(static_cast<size_t>(num_elements(s)) * es);
  for (size_t i = 0; i < out.data.size(); i += es) std::memcpy(out.data.data() + i, fill.data.data(), es);
  return std::vector<HostTensor>{out};
}

FoldResult fold(Context& ctx, const Node& node) {
  const std::string& op = node.op_type;
  if (op == "Constant") return fold_constant(ctx, node);
  if (op == "Shape") return fold_shape(ctx, node);
  if (op == "Identity" || op == "Dropout") return std::vector<HostTensor>{folded_input(ctx, node, 0)};
  if (op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze") return fold_reshape(ctx, node);
  if (op == "Transpose") return fold_transpose(ctx, node);
  if (op == "Concat") return fold_concat(ctx, node);
  if (op == "Gather") return fold_gather(ctx, node);
  if (op == "Slice") return fold_slice(ctx, node);
  if (op == "Cast") return fold_cast(ctx, node);
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") return fold_arithmetic(ctx, node);
  if (op == "Neg" || op == "Sqrt" || op == "Floor") return fold_unary(ctx, node);
  if (op == "ConstantOfShape") return fold_constant_of_shape(ctx, node);
  return ctx.node_error(StatusCode::kInternal, node, "no constant folding");
}

}  // namespace

bool is_foldable_op(std::string_view op_type) {
  for (const char* f : kFoldable)
    if (op_type == f) return true;
  return false;
}

Result<bool> try_fold(Context& ctx, const Node& node) {
  if (!is_foldable_op(node.op_type)) return false;
  if (node.op_type != "Shape" && node.op_type != "Constant") {
    for (const auto& name : node.inputs) {
      if (name.empty()) continue;
      const Value* v = ctx.find(name);
      if (!v || !v->is_constant()) return false;
    }
  } else if (node.op_type == "Shape") {
    QDET_TRY(ctx.input(node, 0));
  }
  // fold() reads its operands as in(0), in(1): a node without them (a file can say so) is an
  // error here, not a read past node.inputs.
  const size_t operands = node.op_type == "Constant" ? 0
                          : node.op_type == "Gather" || node.op_type == "Add" || node.op_type == "Sub" ||
                                  node.op_type == "Mul" || node.op_type == "Div"
                              ? 2
                              : 1;
  for (size_t i = 0; i < operands; ++i)
    if (i >= node.inputs.size() || node.inputs[i].empty() || !ctx.find(node.inputs[i]))
      return ctx.node_error(StatusCode::kInvalidArgument, node, "needs {} input{}, input {} is missing",
                            operands, operands == 1 ? "" : "s", i);
  QDET_ASSIGN_OR_RETURN(auto results, fold(ctx, node));
  for (size_t i = 0; i < results.size() && i < node.outputs.size(); ++i)
    if (!node.outputs[i].empty()) ctx.set_constant(node.outputs[i], std::move(results[i]));
  return true;
}

}  // namespace qdet::convert::onnx
