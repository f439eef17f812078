// Element-wise ops: activations, arithmetic with numpy broadcasting, Clip, Softmax,
// BatchNormalization (when not folded into a Conv), PRelu, Identity.
#include <cmath>
#include <limits>

#include "convert/onnx/lower.h"

namespace qdet::convert::onnx {
namespace {

using graph::OpAttrs;
using graph::OpKind;

struct UnaryRow {
  const char* op_type;
  OpKind kind;
};
constexpr UnaryRow kUnary[] = {
    {"Relu", OpKind::kRelu},       {"Sigmoid", OpKind::kLogistic},    {"Tanh", OpKind::kTanh},
    {"Exp", OpKind::kExp},         {"Sqrt", OpKind::kSqrt},           {"Floor", OpKind::kFloor},
    {"LeakyRelu", OpKind::kLeakyRelu}, {"HardSwish", OpKind::kHardSwish}, {"Elu", OpKind::kElu},
};

struct BinaryRow {
  const char* op_type;
  OpKind kind;
};
constexpr BinaryRow kBinary[] = {
    {"Add", OpKind::kAdd},     {"Sub", OpKind::kSub},     {"Mul", OpKind::kMul},      {"Div", OpKind::kDiv},
    {"Pow", OpKind::kPow},     {"Max", OpKind::kMaximum}, {"Min", OpKind::kMinimum}, {"Sum", OpKind::kAdd},
};

// Numpy broadcasting of two shapes; nullopt when incompatible.
std::optional<Shape> broadcast_shapes(const Shape& a, const Shape& b) {
  const size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    const int32_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    const int32_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1) return std::nullopt;
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// The layout for an op over `names` producing rank `rank`: the first full-rank activation's.
Perm pick_layout(const Context& ctx, std::span<const std::string> names, size_t rank) {
  for (const auto& n : names) {
    const Value* v = ctx.find(n);
    if (v && !v->is_constant() && v->shape.size() == rank) return v->perm;
  }
  return identity_perm(rank);
}

// Emits `kind` on two broadcast inputs; output registered as node output 0.
Status emit_binary(Context& ctx, const Node& node, OpKind kind, const std::string& a, const std::string& b,
                   const std::string& out_name, std::optional<std::pair<Perm, Shape>>* result = nullptr) {
  const Value* va = ctx.find(a);
  const Value* vb = ctx.find(b);
  auto shape = broadcast_shapes(va->shape, vb->shape);
  if (!shape)
    return ctx.node_error(StatusCode::kInvalidArgument, node, "shapes {} and {} do not broadcast",
                          shape_to_string(va->shape), shape_to_string(vb->shape));
  const DType dtype = va->is_constant() ? vb->dtype : va->dtype;
  const std::string names[] = {a, b};
  const Perm perm = pick_layout(ctx, names, shape->size());
  QDET_ASSIGN_OR_RETURN(int32_t ta, ctx.tensor_broadcast_in(a, shape->size(), perm));
  QDET_ASSIGN_OR_RETURN(int32_t tb, ctx.tensor_broadcast_in(b, shape->size(), perm));
  // Constants in the activations' type (e.g. float32 weights against a float model).
  for (int32_t* t : {&ta, &tb}) {
    auto& gt = ctx.graph().tensors[*t];
    if (gt.is_constant() && gt.dtype != dtype) {
      HostTensor h{gt.dtype, gt.shape, gt.data};
      auto c = cast(h, dtype);
      if (!c.ok()) return ctx.node_error(StatusCode::kUnsupported, node, "{}", c.status().message());
      *t = ctx.add_constant(*c, gt.name + "/cast");
    }
  }
  const int32_t out_id = ctx.add_activation(out_name, dtype, apply_perm(*shape, perm));
  ctx.add_op(kind, {ta, tb}, {out_id});
  ctx.set_activation(out_name, out_id, perm, *shape, dtype);
  return ok_status();
}

HostTensor scalar(float v) {
  const float d[] = {v};
  return HostTensor::from_floats({}, d);
}

}  // namespace

Status lower_unary(Context& ctx, const Node& node) {
  const UnaryRow* row = nullptr;
  for (const auto& r : kUnary)
    if (node.op_type == r.op_type) row = &r;
  if (!row) return ctx.node_error(StatusCode::kInternal, node, "no unary lowering");
  QDET_ASSIGN_OR_RETURN(const ActivationIn x, float_activation_in(ctx, node, 0));
  const auto& [in, perm, shape, dtype] = x;
  OpAttrs a;
  if (row->kind == OpKind::kLeakyRelu) a.alpha = node.get_float("alpha", 0.01f);
  if (row->kind == OpKind::kElu && node.get_float("alpha", 1.f) != 1.f)
    return ctx.node_error(StatusCode::kUnsupported, node, "Elu with alpha {} is not supported (TFLite's ELU has alpha 1)",
                          node.get_float("alpha", 1.f));
  const int32_t out_id = new_output_tensor(ctx, node, 0, DType::kFloat32, apply_perm(shape, perm));
  ctx.add_op(row->kind, {in}, {out_id}, a);
  set_output(ctx, node, 0, out_id, perm, shape, DType::kFloat32);
  return ok_status();
}

// HardSigmoid: max(0, min(1, alpha * x + beta)) as RELU6(x * 6 alpha + 6 beta) * (1/6): MUL
// (left out when 6 alpha is 1, PyTorch's alpha 1/6), ADD, RELU6, MUL.
Status lower_hard_sigmoid(Context& ctx, const Node& node) {
  QDET_ASSIGN_OR_RETURN(const ActivationIn x, float_activation_in(ctx, node, 0));
  const auto& [in, perm, shape, dtype] = x;
  const float alpha = node.get_float("alpha", 0.2f), beta = node.get_float("beta", 0.5f);
  if (!std::isfinite(alpha) || !std::isfinite(beta))
    return ctx.node_error(StatusCode::kInvalidArgument, node, "alpha and beta must be finite");
  const Shape tshape = apply_perm(shape, perm);
  const std::string& out = node.outputs.at(0);
  int32_t cur = in;
  auto step = [&](OpKind kind, std::optional<float> constant, const std::string& suffix) {
    const int32_t o = ctx.add_activation(out + suffix, DType::kFloat32, tshape);
    if (constant)
      ctx.add_op(kind, {cur, ctx.add_constant(scalar(*constant), out + suffix + "/c")}, {o});
    else
      ctx.add_op(kind, {cur}, {o});
    cur = o;
  };
  if (6.f * alpha != 1.f) step(OpKind::kMul, 6.f * alpha, "/scaled");
  step(OpKind::kAdd, 6.f * beta, "/shifted");
  step(OpKind::kRelu6, std::nullopt, "/relu6");
  const int32_t out_id = new_output_tensor(ctx, node, 0, DType::kFloat32, tshape);
  ctx.add_op(OpKind::kMul, {cur, ctx.add_constant(scalar(1.f / 6.f), out + "/sixth")}, {out_id});
  set_output(ctx, node, 0, out_id, perm, shape, DType::kFloat32);
  return ok_status();
}

// Reciprocal: DIV(1, x).
Status lower_reciprocal(Context& ctx, const Node& node) {
  QDET_ASSIGN_OR_RETURN(const ActivationIn x, float_activation_in(ctx, node, 0));
  const auto& [in, perm, shape, dtype] = x;
  const int32_t one = ctx.add_constant(scalar(1.f), node.outputs.at(0) + "/one");
  const int32_t out_id = new_output_tensor(ctx, node, 0, DType::kFloat32, apply_perm(shape, perm));
  ctx.add_op(OpKind::kDiv, {one, in}, {out_id});
  set_output(ctx, node, 0, out_id, perm, shape, DType::kFloat32);
  return ok_status();
}

Status lower_binary(Context& ctx, const Node& node) {
  const BinaryRow* row = nullptr;
  for (const auto& r : kBinary)
    if (node.op_type == r.op_type) row = &r;
  if (!row) return ctx.node_error(StatusCode::kInternal, node, "no binary lowering");
  if (node.inputs.size() != 2)
    return ctx.node_error(StatusCode::kUnsupported, node, "{} inputs (only 2 are supported)", node.inputs.size());
  QDET_TRY(ctx.input(node, 0));
  QDET_TRY(ctx.input(node, 1));
  const Value* a = ctx.find(node.inputs[0]);
  const Value* b = ctx.find(node.inputs[1]);
  if (a->dtype != b->dtype && !(a->is_constant() || b->is_constant()))
    return ctx.node_error(StatusCode::kInvalidArgument, node, "input types {} and {} differ", dtype_name(a->dtype),
                          dtype_name(b->dtype));
  // x - c == x + (-c) would also do; TFLite has SUB, keep the op as written.
  return emit_binary(ctx, node, row->kind, node.inputs[0], node.inputs[1], node.outputs.at(0));
}

Status lower_clip(Context& ctx, const Node& node) {
  QDET_ASSIGN_OR_RETURN(const ActivationIn x, activation_in(ctx, node, 0));
  const auto& [in, perm, shape, dtype] = x;
  float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
  if (ctx.model().opset < 11) {
    lo = node.get_float("min", lo);
    hi = node.get_float("max", hi);
  } else {
    for (size_t i : {size_t{1}, size_t{2}}) {
      if (!ctx.has_input(node, i)) continue;
      QDET_ASSIGN_OR_RETURN(const HostTensor* t, ctx.constant_input(node, i, i == 1 ? "min" : "max"));
      auto v = t->as_floats();
      if (!v.ok() || v->size() != 1)
        return ctx.node_error(StatusCode::kInvalidArgument, node, "min and max must be single numbers");
      (i == 1 ? lo : hi) = (*v)[0];
    }
  }
  const Shape tshape = apply_perm(shape, perm);
  std::optional<OpKind> kind;
  if (lo == 0.f && hi == 6.f) kind = OpKind::kRelu6;
  else if (lo == 0.f && std::isinf(hi) && hi > 0) kind = OpKind::kRelu;
  else if (lo == -1.f && hi == 1.f) kind = OpKind::kReluN1To1;
  if (kind) {
    const int32_t out_id = new_output_tensor(ctx, node, 0, DType::kFloat32, tshape);
    ctx.add_op(*kind, {in}, {out_id});
    set_output(ctx, node, 0, out_id, perm, shape, DType::kFloat32);
    return ok_status();
  }
  // General bounds: MAXIMUM then MINIMUM with scalar constants.
  int32_t cur = in;
  const std::string& out = node.outputs.at(0);
  if (!std::isinf(lo)) {
    const int32_t c = ctx.add_constant(scalar(lo), out + "/min");
    const int32_t o = std::isinf(hi) ? new_output_tensor(ctx, node, 0, DType::kFloat32, tshape)
                                     : ctx.add_activation(out + "/lower_bounded", DType::kFloat32, tshape);
    ctx.add_op(OpKind::kMaximum, {cur, c}, {o});
    cur = o;
  }
  if (!std::isinf(hi)) {
    const int32_t c = ctx.add_constant(scalar(hi), out + "/max");
    const int32_t o = new_output_tensor(ctx, node, 0, DType::kFloat32, tshape);
    ctx.add_op(OpKind::kMinimum, {cur, c}, {o});
    cur = o;
  }
  if (cur == in) {  // no bounds at all: identity
    set_output(ctx, node, 0, in, perm, shape, DType::kFloat32);
    return ok_status();
  }
  set_output(ctx, node, 0, cur, perm, shape, DType::kFloat32);
  return ok_status();
}

Status lower_softmax(Context& ctx, const Node& node) {
  QDET_ASSIGN_OR_RETURN(const Value* x, activation_input(ctx, node, 0));
  const size_t rank = x->shape.size();
  const bool legacy = ctx.model().opset < 13;
  QDET_ASSIGN_OR_RETURN(int32_t axis, normalize_axis(ctx, node, node.get_int("axis", legacy ? 1 : -1), rank));
  // Before opset 13, Softmax flattens [axis..] into one dim: the same as a last-axis softmax
  // only when axis is the last dim.
  if (legacy && axis != static_cast<int32_t>(rank) - 1)
    return ctx.node_error(StatusCode::kUnsupported, node, "softmax over the flattened dims {}.. is not supported", axis);
  // TFLite SOFTMAX works on the last dim: keep the layout when `axis` is last in it, else move it.
  Perm perm = x->perm;
  if (tflite_axis(perm, axis) != static_cast<int32_t>(rank) - 1) {
    Perm p;
    for (int32_t d : perm)
      if (d != axis) p.push_back(d);
    p.push_back(axis);
    perm = p;
  }
  const Shape shape = x->shape;
  QDET_ASSIGN_OR_RETURN(int32_t in, ctx.tensor_in(node.input(0), perm));
  const int32_t out_id = new_output_tensor(ctx, node, 0, DType::kFloat32, apply_perm(shape, perm));
  OpAttrs a;
  a.beta = 1.f;
  ctx.add_op(OpKind::kSoftmax, {in}, {out_id}, a);
  set_output(ctx, node, 0, out_id, perm, shape, DType::kFloat32);
  return ok_status();
}

Status lower_batch_norm(Context& ctx, const Node& node) {
  QDET_ASSIGN_OR_RETURN(const Value* x, activation_input(ctx, node, 0));
  if (x->shape.size() < 2)
    return ctx.node_error(StatusCode::kInvalidArgument, node, "input {} has no channel dim", shape_to_string(x->shape));
  const int32_t c = x->shape[1];
  std::vector<float> p[4];
  const char* roles[] = {"scale", "bias", "mean", "var"};
  for (int i = 0; i < 4; ++i) {
    QDET_ASSIGN_OR_RETURN(const HostTensor* t, ctx.constant_input(node, i + 1, roles[i]));
    auto v = t->as_floats();
    if (!v.ok() || v->size() != static_cast<size_t>(c))
      return ctx.node_error(StatusCode::kInvalidArgument, node, "{} has {} values for {} channels", roles[i],
                            t->num_elements(), c);
    p[i] = *v;
  }
  const float eps = node.get_float("epsilon", 1e-5f);
  std::vector<float> mul(c), add(c);
  for (int32_t i = 0; i < c; ++i) {
    mul[i] = p[0][i] / std::sqrt(p[3][i] + eps);
    add[i] = p[1][i] - p[2][i] * mul[i];
  }
  Shape cshape(x->shape.size(), 1);
  cshape[1] = c;
  const std::string out = node.outputs.at(0);
  ctx.set_constant(out + "/bn_mul", HostTensor::from_floats(cshape, mul));
  ctx.set_constant(out + "/bn_add", HostTensor::from_floats(cshape, add));
  QDET_TRY(emit_binary(ctx, node, OpKind::kMul, node.input(0), out + "/bn_mul", out + "/bn_scaled"));
  return emit_binary(ctx, node, OpKind::kAdd, out + "/bn_scaled", out + "/bn_add", out);
}

Status lower_prelu(Context& ctx, const Node& node) {
  QDET_ASSIGN_OR_RETURN(const ActivationIn x, activation_in(ctx, node, 0));
  const auto& [in, perm, shape, dtype] = x;
  QDET_ASSIGN_OR_RETURN(const HostTensor* slope, ctx.constant_input(node, 1, "slope"));
  if (!broadcast_shapes(shape, slope->shape) || slope->shape.size() > shape.size())
    return ctx.node_error(StatusCode::kInvalidArgument, node, "slope {} does not broadcast to {}",
                          shape_to_string(slope->shape), shape_to_string(shape));
  QDET_ASSIGN_OR_RETURN(int32_t alpha, ctx.tensor_broadcast_in(node.input(1), shape.size(), perm));
  const int32_t out_id = new_output_tensor(ctx, node, 0, DType::kFloat32, apply_perm(shape, perm));
  ctx.add_op(OpKind::kPrelu, {in, alpha}, {out_id});
  set_output(ctx, node, 0, out_id, perm, shape, DType::kFloat32);
  return ok_status();
}

Status lower_identity(Context& ctx, const Node& node) {
  QDET_ASSIGN_OR_RETURN(const Value* x, ctx.input(node, 0));
  if (node.op_type == "Dropout" && node.outputs.size() > 1 && !node.outputs[1].empty())
    return ctx.node_error(StatusCode::kUnsupported, node, "the mask output is not supported");
  if (x->is_constant()) {
    ctx.set_constant(node.outputs.at(0), *x->constant);
    return ok_status();
  }
  set_output(ctx, node, 0, x->tensor, x->perm, x->shape, x->dtype);
  return ok_status();
}

}  // namespace qdet::convert::onnx
