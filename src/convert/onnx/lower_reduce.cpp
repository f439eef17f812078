// Lowering of ONNX reductions and index/layout ops: ReduceMean, ReduceMax, ReduceSum (MEAN,
// REDUCE_MAX, SUM), ArgMax, ArgMin (ARG_MAX, ARG_MIN with int64 indices), Tile (TILE), Cast (CAST),
// DepthToSpace in DCR mode and SpaceToDepth (DEPTH_TO_SPACE, SPACE_TO_DEPTH on NHWC). Axes are
// ONNX axes of the source tensor, mapped through the value's layout.
#include <algorithm>

#include "convert/onnx/lower.h"

namespace qdet::convert::onnx {
namespace {

using graph::OpAttrs;
using graph::OpKind;

// The ONNX axes of a reduction: the `axes` attribute (opset < 18 for ReduceMean/Max, < 13 for
// ReduceSum) or the constant second input; none means every axis.
Result<std::vector<int32_t>> reduce_axes(Context& ctx, const Node& node, size_t rank) {
  std::vector<int64_t> axes = node.get_ints("axes");
  if (ctx.has_input(node, 1)) {
    QDET_ASSIGN_OR_RETURN(const HostTensor* t, ctx.constant_input(node, 1, "axes"));
    QDET_ASSIGN_OR_RETURN(axes, t->as_int64s());
  }
  std::vector<int32_t> out;
  if (axes.empty()) {
    if (node.get_int("noop_with_empty_axes", 0) != 0)
      return ctx.node_error(StatusCode::kUnsupported, node, "noop_with_empty_axes is not supported");
    for (size_t d = 0; d < rank; ++d) out.push_back(static_cast<int32_t>(d));
    return out;
  }
  for (int64_t a : axes) {
    QDET_ASSIGN_OR_RETURN(int32_t axis, normalize_axis(ctx, node, a, rank));
    if (std::find(out.begin(), out.end(), axis) == out.end()) out.push_back(axis);
  }
  return out;
}

// The layout of a value after dropping source axes `dropped` (keepdims = 0): the remaining
// axes in the order the TFLite tensor holds them, renumbered.
Perm perm_without(const Perm& perm, const std::vector<int32_t>& dropped) {
  Perm out;
  for (int32_t d : perm) {
    if (std::find(dropped.begin(), dropped.end(), d) != dropped.end()) continue;
    int32_t below = 0;
    for (int32_t x : dropped) below += x < d;
    out.push_back(d - below);
  }
  return out;
}

Shape shape_after(const Shape& shape, const std::vector<int32_t>& axes, bool keep) {
  Shape out;
  for (size_t d = 0; d < shape.size(); ++d) {
    const bool reduced = std::find(axes.begin(), axes.end(), static_cast<int32_t>(d)) != axes.end();
    if (!reduced) out.push_back(shape[d]);
    else if (keep) out.push_back(1);
  }
  return out;
}

OpKind reduce_kind(const std::string& op_type) {
  if (op_type == "ReduceMax") return OpKind::kReduceMax;
  if (op_type == "ReduceSum") return OpKind::kSum;
  return OpKind::kMean;
}

}  // namespace

Status lower_reduce(Context& ctx, const Node& node) {
  QDET_ASSIGN_OR_RETURN(const ActivationIn x, activation_in(ctx, node, 0));
  const auto& [in, perm, shape, dtype] = x;
  QDET_ASSIGN_OR_RETURN(auto axes, reduce_axes(ctx, node, shape.size()));
  const bool keep = node.get_int("keepdims", 1) != 0;
  std::vector<int32_t> tfl_axes;
  for (int32_t a : axes) tfl_axes.push_back(tflite_axis(perm, a));
  const int32_t axes_id = ctx.add_int32_vector(tfl_axes, node.name + "/axes");
  const Shape out_shape = shape_after(shape, axes, keep);
  const Perm out_perm = keep ? perm : perm_without(perm, axes);
  const int32_t out_id = new_output_tensor(ctx, node, 0, DType::kFloat32, apply_perm(out_shape, out_perm));
  OpAttrs a;
  a.keep_dims = keep;
  ctx.add_op(reduce_kind(node.op_type), {in, axes_id}, {out_id}, a);
  set_output(ctx, node, 0, out_id, out_perm, out_shape, DType::kFloat32);
  return ok_status();
}

Status lower_arg(Context& ctx, const Node& node) {
  QDET_ASSIGN_OR_RETURN(const ActivationIn x, activation_in(ctx, node, 0));
  const auto& [in, perm, shape, dtype] = x;
  if (node.get_int("select_last_index", 0) != 0)
    return ctx.node_error(StatusCode::kUnsupported, node, "select_last_index=1 is not supported");
  QDET_ASSIGN_OR_RETURN(int32_t axis, normalize_axis(ctx, node, node.get_int("axis", 0), shape.size()));
  const int32_t axis_id = ctx.add_int32_vector(std::vector<int32_t>{tflite_axis(perm, axis)}, node.name + "/axis");
  const Shape dropped = shape_after(shape, {axis}, false);
  const Perm dropped_perm = perm_without(perm, {axis});
  const bool keep = node.get_int("keepdims", 1) != 0;
  const int32_t arg_id = keep ? ctx.add_activation(node.name + "/indices", DType::kInt64, apply_perm(dropped, dropped_perm))
                              : new_output_tensor(ctx, node, 0, DType::kInt64, apply_perm(dropped, dropped_perm));
  OpAttrs a;
  a.output_type = 4;  // TFLite TensorType INT64, ONNX's index type
  ctx.add_op(node.op_type == "ArgMin" ? OpKind::kArgMin : OpKind::kArgMax, {in, axis_id}, {arg_id}, a);
  if (!keep) {
    set_output(ctx, node, 0, arg_id, dropped_perm, dropped, DType::kInt64);
    return ok_status();
  }
  // keepdims: the same bytes with a size-1 dim back in the value's layout.
  const Shape kept = shape_after(shape, {axis}, true);
  const Shape tfl_shape = apply_perm(kept, perm);
  const int32_t out_id = new_output_tensor(ctx, node, 0, DType::kInt64, tfl_shape);
  const int32_t shape_id = ctx.add_int32_vector(std::vector<int32_t>(tfl_shape.begin(), tfl_shape.end()),
                                                node.name + "/shape");
  ctx.add_op(OpKind::kReshape, {arg_id, shape_id}, {out_id});
  set_output(ctx, node, 0, out_id, perm, kept, DType::kInt64);
  return ok_status();
}

Status lower_tile(Context& ctx, const Node& node) {
  QDET_ASSIGN_OR_RETURN(const ActivationIn x, activation_in(ctx, node, 0));
  const auto& [in, perm, shape, dtype] = x;
  QDET_ASSIGN_OR_RETURN(const HostTensor* r, ctx.constant_input(node, 1, "repeats"));
  QDET_ASSIGN_OR_RETURN(auto repeats, r->as_int64s());
  if (repeats.size() != shape.size())
    return ctx.node_error(StatusCode::kInvalidArgument, node, "{} repeats for rank {}", repeats.size(), shape.size());
  Shape out_shape;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (repeats[d] < 0 || repeats[d] > (1 << 20))
      return ctx.node_error(StatusCode::kInvalidArgument, node, "repeat {} of axis {} is out of range", repeats[d], d);
    out_shape.push_back(static_cast<int32_t>(shape[d] * repeats[d]));
  }
  std::vector<int32_t> multiples;
  for (int32_t d : perm) multiples.push_back(static_cast<int32_t>(repeats[d]));
  const int32_t m_id = ctx.add_int32_vector(multiples, node.name + "/multiples");
  const int32_t out_id = new_output_tensor(ctx, node, 0, dtype, apply_perm(out_shape, perm));
  ctx.add_op(OpKind::kTile, {in, m_id}, {out_id});
  set_output(ctx, node, 0, out_id, perm, out_shape, dtype);
  return ok_status();
}

// DepthToSpace and SpaceToDepth on a 4-D NCHW value held as NHWC. DCR (channel
// (dy * bs + dx) * C' + c) is TFLite's order; CRD (channel c * bs * bs + dy * bs + dx) first
// gathers the channels into DCR order (one GATHER along the channel axis).
Status lower_depth_space(Context& ctx, const Node& node) {
  QDET_ASSIGN_OR_RETURN(const Value* x, activation_input(ctx, node, 0));
  const bool to_space = node.op_type == "DepthToSpace";
  if (x->shape.size() != 4)
    return ctx.node_error(StatusCode::kInvalidArgument, node, "input {} must be 4-D", shape_to_string(x->shape));
  const std::string mode = to_space ? node.get_string("mode", "DCR") : "DCR";
  if (mode != "DCR" && mode != "CRD")
    return ctx.node_error(StatusCode::kInvalidArgument, node, "mode '{}' is neither DCR nor CRD", mode);
  const int64_t bs = node.get_int("blocksize", 0);
  const Shape s = x->shape;  // N, C, H, W
  if (bs < 1 || (to_space && s[1] % (bs * bs) != 0) || (!to_space && (s[2] % bs != 0 || s[3] % bs != 0)))
    return ctx.node_error(StatusCode::kInvalidArgument, node, "blocksize {} does not fit {}", bs, shape_to_string(s));
  const Perm nhwc = channels_last_perm(4);
  QDET_ASSIGN_OR_RETURN(int32_t in, ctx.tensor_in(node.input(0), nhwc));
  const auto b = static_cast<int32_t>(bs);
  const Shape out = to_space ? Shape{s[0], s[1] / (b * b), s[2] * b, s[3] * b}
                             : Shape{s[0], s[1] * b * b, s[2] / b, s[3] / b};
  if (mode == "CRD") {
    const int32_t depth = s[1] / (b * b);
    std::vector<int32_t> order;  // DCR channel -> CRD channel
    for (int32_t dy = 0; dy < b; ++dy)
      for (int32_t dx = 0; dx < b; ++dx)
        for (int32_t c = 0; c < depth; ++c) order.push_back(c * b * b + dy * b + dx);
    const int32_t order_id = ctx.add_int32_vector(order, node.outputs[0] + "/dcr_order");
    const int32_t dcr = ctx.add_activation(node.outputs[0] + "/dcr", x->dtype, apply_perm(s, nhwc));
    OpAttrs ga;
    ga.axis = 3;
    ctx.add_op(OpKind::kGather, {in, order_id}, {dcr}, ga);
    in = dcr;
  }
  const int32_t out_id = new_output_tensor(ctx, node, 0, x->dtype, apply_perm(out, nhwc));
  OpAttrs a;
  a.block_size = b;
  ctx.add_op(to_space ? OpKind::kDepthToSpace : OpKind::kSpaceToDepth, {in}, {out_id}, a);
  set_output(ctx, node, 0, out_id, nhwc, out, x->dtype);
  return ok_status();
}

// Cast of an activation (constants fold): CAST to float32, int32, int64, int16, int8, uint8 or
// bool, values converted like static_cast.
Status lower_cast(Context& ctx, const Node& node) {
  QDET_ASSIGN_OR_RETURN(const Value* x, activation_input(ctx, node, 0));
  const auto to = dtype_from_onnx(static_cast<int32_t>(node.get_int("to", 1)));
  const bool castable = to && (*to == DType::kFloat32 || *to == DType::kInt32 || *to == DType::kInt64 ||
                               *to == DType::kInt16 || *to == DType::kInt8 || *to == DType::kUInt8 ||
                               *to == DType::kBool);
  if (!castable)
    return ctx.node_error(StatusCode::kUnsupported, node, "cast to ONNX type {} is not supported", node.get_int("to", 1));
  const int32_t out_id = new_output_tensor(ctx, node, 0, *to, apply_perm(x->shape, x->perm));
  ctx.add_op(OpKind::kCast, {x->tensor}, {out_id});
  set_output(ctx, node, 0, out_id, x->perm, x->shape, *to);
  return ok_status();
}

}  // namespace qdet::convert::onnx
