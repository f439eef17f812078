#include "convert/onnx/importer.h"

#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "base/json_text.h"
#include "convert/onnx/const_eval.h"
#include "convert/onnx/lower.h"
#include "convert/onnx/rewrite.h"
#include "convert/passes.h"

namespace qdet::convert::onnx {
namespace {

constexpr LowerEntry kLowerings[] = {
    {"Conv", lower_conv},
    {"MaxPool", lower_pool},
    {"AveragePool", lower_pool},
    {"GlobalAveragePool", lower_global_pool},
    {"GlobalMaxPool", lower_global_pool},
    {"Pad", lower_pad},
    {"Resize", lower_resize},
    {"Upsample", lower_resize},
    {"Relu", lower_unary},
    {"Sigmoid", lower_unary},
    {"Tanh", lower_unary},
    {"Exp", lower_unary},
    {"Sqrt", lower_unary},
    {"Floor", lower_unary},
    {"LeakyRelu", lower_unary},
    {"HardSwish", lower_unary},
    {"Elu", lower_unary},
    {"HardSigmoid", lower_hard_sigmoid},
    {"Reciprocal", lower_reciprocal},
    {"Add", lower_binary},
    {"Sub", lower_binary},
    {"Mul", lower_binary},
    {"Div", lower_binary},
    {"Pow", lower_binary},
    {"Max", lower_binary},
    {"Min", lower_binary},
    {"Sum", lower_binary},
    {"Clip", lower_clip},
    {"Softmax", lower_softmax},
    {"BatchNormalization", lower_batch_norm},
    {"PRelu", lower_prelu},
    {"Identity", lower_identity},
    {"Dropout", lower_identity},
    {"Gemm", lower_gemm},
    {"MatMul", lower_gemm},
    {"Reshape", lower_reshape},
    {"Flatten", lower_reshape},
    {"Squeeze", lower_reshape},
    {"Unsqueeze", lower_reshape},
    {"Transpose", lower_transpose},
    {"Concat", lower_concat},
    {"Split", lower_split},
    {"Slice", lower_slice},
    {"Gather", lower_gather},
    {"ReduceMean", lower_reduce},
    {"ReduceMax", lower_reduce},
    {"ReduceSum", lower_reduce},
    {"ArgMax", lower_arg},
    {"ArgMin", lower_arg},
    {"Tile", lower_tile},
    {"DepthToSpace", lower_depth_space},
    {"SpaceToDepth", lower_depth_space},
    {"ConvTranspose", lower_conv_transpose},
    {"Cast", lower_cast},
};

bool is_default_domain(const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

// Every op type the importer cannot handle, with the nodes using it, as one message.
Status check_supported(const Model& m) {
  std::map<std::string, std::vector<std::string>> missing;
  for (const auto& n : m.nodes) {
    const std::string key = is_default_domain(n) ? n.op_type : n.domain + "." + n.op_type;
    if (!is_default_domain(n) || (!find_lowering(n.op_type) && !is_foldable_op(n.op_type)))
      missing[key].push_back(n.name);
  }
  if (missing.empty()) return ok_status();
  std::vector<std::string> parts;
  for (const auto& [op, nodes] : missing) {
    std::vector<std::string> shown(nodes.begin(), nodes.begin() + std::min<size_t>(nodes.size(), 3));
    parts.push_back(fmt::format("{} ({} node{}: '{}'{})", op, nodes.size(), nodes.size() == 1 ? "" : "s",
                                fmt::join(shown, "', '"), nodes.size() > 3 ? ", ..." : ""));
  }
  return unsupported("{}: unsupported ONNX ops: {}", m.source, fmt::join(parts, "; "));
}


}  // namespace

std::span<const LowerEntry> lower_table() { return kLowerings; }

const LowerEntry* find_lowering(std::string_view op_type) {
  for (const auto& e : kLowerings)
    if (op_type == e.op_type) return &e;
  return nullptr;
}

Result<int32_t> normalize_axis(const Context& ctx, const Node& node, int64_t axis, size_t rank) {
  const int64_t r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r)
    return ctx.node_error(StatusCode::kInvalidArgument, node, "axis {} is out of range for rank {}", axis, rank);
  return static_cast<int32_t>(axis < 0 ? axis + r : axis);
}

Result<const Value*> activation_input(const Context& ctx, const Node& node, size_t index) {
  QDET_ASSIGN_OR_RETURN(const Value* v, ctx.input(node, index));
  if (v->is_constant())
    return ctx.node_error(StatusCode::kInternal, node, "input '{}' is a constant that could not be folded",
                          node.input(index));
  return v;
}

Result<ActivationIn> activation_in(const Context& ctx, const Node& node, size_t index) {
  QDET_ASSIGN_OR_RETURN(const Value* v, activation_input(ctx, node, index));
  return ActivationIn{v->tensor, v->perm, v->shape, v->dtype};
}

Result<ActivationIn> float_activation_in(const Context& ctx, const Node& node, size_t index) {
  QDET_ASSIGN_OR_RETURN(ActivationIn x, activation_in(ctx, node, index));
  if (x.dtype != DType::kFloat32)
    return ctx.node_error(StatusCode::kUnsupported, node, "{} input is not supported", dtype_name(x.dtype));
  return x;
}

void set_output(Context& ctx, const Node& node, size_t index, int32_t tensor, Perm perm, Shape shape, DType dtype) {
  if (index < node.outputs.size() && !node.outputs[index].empty())
    ctx.set_activation(node.outputs[index], tensor, std::move(perm), std::move(shape), dtype);
}

int32_t new_output_tensor(Context& ctx, const Node& node, size_t index, DType dtype, const Shape& tflite_shape) {
  const std::string name = index < node.outputs.size() && !node.outputs[index].empty()
                               ? node.outputs[index]
                               : fmt::format("{}/output{}", node.name, index);
  return ctx.add_activation(name, dtype, tflite_shape);
}

Result<graph::Model> import_model(const Model& source) {
  Model m = source;
  rewrite_model(m);
  QDET_TRY(check_supported(m));

  Context ctx(m);
  graph::Graph& g = ctx.graph();
  g.name = m.graph_name;
  for (const auto& [name, t] : m.initializers) ctx.set_constant(name, t);

  nlohmann::json info;
  info["source"] = std::filesystem::path(m.source).filename().string();
  info["format"] = "onnx";
  info["opset"] = m.opset;
  info["producer"] = m.producer;
  std::vector<std::string> layout_notes;

  for (const auto& in : m.inputs) {
    if (in.dtype == DType::kUnknown)
      return unsupported("{}: input '{}' has an unsupported or missing element type", m.source, in.name);
    if (!in.has_shape) return unsupported("{}: input '{}' has no shape", m.source, in.name);
    Shape shape;
    for (int64_t d : in.dims) {
      if (d < 1 || d > INT32_MAX)
        return unsupported("{}: input '{}' has a symbolic or empty dimension (dims must be fixed numbers)", m.source,
                           in.name);
      shape.push_back(static_cast<int32_t>(d));
    }
    const Perm perm = shape.size() == 4 && in.dtype == DType::kFloat32 ? Perm{0, 2, 3, 1} : identity_perm(shape.size());
    const int32_t id = ctx.add_activation(in.name, in.dtype, apply_perm(shape, perm));
    g.inputs.push_back(id);
    ctx.set_activation(in.name, id, perm, shape, in.dtype);
    info["inputs"].push_back({{"name", in.name},
                              {"shape", apply_perm(shape, perm)},
                              {"source_shape", shape},
                              {"layout", perm.size() == 4 && perm == Perm{0, 2, 3, 1} ? "NHWC" : "unchanged"}});
    if (perm != identity_perm(shape.size()))
      layout_notes.push_back(fmt::format("input '{}' is NHWC {} (ONNX NCHW {})", in.name,
                                         shape_to_string(apply_perm(shape, perm)), shape_to_string(shape)));
  }

  for (const auto& node : m.nodes) {
    // Every ONNX op has an output; the lowerings write node.outputs[0] without asking again.
    if (node.outputs.empty() || node.outputs[0].empty())
      return ctx.node_error(StatusCode::kInvalidArgument, node, "the node has no output");
    QDET_ASSIGN_OR_RETURN(bool folded, try_fold(ctx, node));
    if (folded) continue;
    const LowerEntry* e = find_lowering(node.op_type);
    if (!e)
      return ctx.node_error(StatusCode::kUnsupported, node, "only constant inputs are supported for this op");
    for (size_t i = 0; i < node.inputs.size(); ++i)
      if (!node.inputs[i].empty() && !ctx.has(node.inputs[i]))
        return ctx.node_error(StatusCode::kInvalidArgument, node, "input '{}' is not produced by any earlier node",
                              node.inputs[i]);
    QDET_TRY(e->lower(ctx, node));
    for (const auto& o : node.outputs)
      if (!o.empty() && !ctx.has(o))
        return ctx.node_error(StatusCode::kInternal, node, "output '{}' was not produced", o);
  }

  std::set<int32_t> used;
  for (int32_t id : g.inputs) used.insert(id);
  for (const auto& out : m.outputs) {
    const Value* v = ctx.find(out.name);
    if (!v) return invalid_argument("{}: graph output '{}' is not produced by any node", m.source, out.name);
    if (v->is_constant()) return unsupported("{}: graph output '{}' is a constant", m.source, out.name);
    const Shape shape = v->shape;
    const Perm want = shape.size() == 4 ? Perm{0, 2, 3, 1} : identity_perm(shape.size());
    QDET_ASSIGN_OR_RETURN(int32_t id, ctx.tensor_in(out.name, want));
    if (used.count(id)) {  // a graph input or an earlier output: outputs need their own tensor
      const Shape ts = g.tensors[id].shape;
      const int32_t copy = ctx.add_activation(out.name, g.tensors[id].dtype, ts);
      const int32_t shape_id = ctx.add_int32_vector(ts, out.name + "/shape");
      ctx.add_op(graph::OpKind::kReshape, {id, shape_id}, {copy});
      id = copy;
    }
    used.insert(id);
    // The output tensor carries the ONNX output's name; another tensor of that name steps aside.
    for (size_t t = 0; t < g.tensors.size(); ++t)
      if (g.tensors[t].name == out.name && static_cast<int32_t>(t) != id) g.tensors[t].name += "/inner";
    g.tensors[id].name = out.name;
    g.outputs.push_back(id);
    info["outputs"].push_back({{"name", out.name},
                               {"shape", g.tensors[id].shape},
                               {"source_shape", shape},
                               {"layout", shape.size() == 4 ? "NHWC" : "unchanged"}});
    if (shape.size() == 4)
      layout_notes.push_back(fmt::format("output '{}' is NHWC {} (ONNX NCHW {})", out.name,
                                         shape_to_string(g.tensors[id].shape), shape_to_string(shape)));
  }

  fuse_activations(g);
  fold_channel_gathers(g);
  remove_unused(g);
  if (Status s = g.verify(); !s.ok())
    return internal_error("{}: the converted graph does not verify: {}", m.source, s.message());

  graph::Model model;
  model.graph = std::move(g);
  model.description = fmt::format("qdet convert from {} (ONNX opset {}{}{}). {}", info["source"].get<std::string>(),
                                   m.opset, m.producer.empty() ? "" : ", ", m.producer,
                                   layout_notes.empty() ? std::string("Layouts unchanged.")
                                                        : fmt::format("Layout: {}.", fmt::join(layout_notes, "; ")));
  const std::string text = json_text(info);
  model.metadata.push_back({"qdet_convert", std::vector<uint8_t>(text.begin(), text.end())});
  return model;
}

Result<graph::Model> import_file(const std::filesystem::path& path) {
  QDET_ASSIGN_OR_RETURN(Model m, load_model(path));
  return import_model(m);
}

}  // namespace qdet::convert::onnx
