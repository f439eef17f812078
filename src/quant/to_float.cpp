// float mode: dequantize any model to float32 (modes.h).
#include <fmt/format.h>

#include <cmath>
#include <unordered_map>

#include "quant/graph_edit.h"
#include "quant/modes.h"

namespace qdet::quant {

namespace {

bool is_quantized_integer(const Tensor& t) {
  return !t.quant.empty() && t.dtype != DType::kFloat32 && t.dtype != DType::kFloat16 &&
         t.dtype != DType::kBool && dtype_traits(t.dtype).is_quantizable;
}

Op make_op(OpKind kind, int32_t in, int32_t out) {
  Op op;
  op.kind = kind;
  op.inputs = {in};
  op.outputs = {out};
  return op;
}

// Tensor aliases left by removed QUANTIZE / DEQUANTIZE ops: a removed op's output resolves to
// its input.
struct Aliases {
  std::vector<int32_t> of;
  int32_t resolve(int32_t t) const {
    while (t >= 0 && of[t] != t) t = of[t];
    return t;
  }
};

// 1. QUANTIZE / DEQUANTIZE disappear: their output becomes an alias of their input. Returns how
// many were removed.
int remove_quantize_ops(Graph& g, Aliases& alias) {
  alias.of.resize(g.tensors.size());
  for (size_t i = 0; i < alias.of.size(); ++i) alias.of[i] = static_cast<int32_t>(i);
  std::vector<Op> ops;
  int removed = 0;
  for (Op& op : g.ops) {
    if ((op.kind == OpKind::kQuantize || op.kind == OpKind::kDequantize) && op.inputs.size() == 1 &&
        op.outputs.size() == 1) {
      alias.of[op.outputs[0]] = alias.resolve(op.inputs[0]);
      ++removed;
      continue;
    }
    for (int32_t& t : op.inputs) t = alias.resolve(t);
    ops.push_back(std::move(op));
  }
  g.ops = std::move(ops);
  return removed;
}

// 2. Graph outputs: an aliased output takes over the name of the tensor it replaced, so that
// outputs keep their names. Integer outputs kept as integer get a QUANTIZE at the end (returned);
// `keep` marks the tensors that stay integer.
std::vector<Op> restore_outputs(Model& m, Aliases& alias, const FloatOptions& options, std::vector<char>& keep) {
  Graph& g = m.graph;
  std::vector<Op> tail;
  for (int32_t& out : g.outputs) {
    const int32_t src = alias.resolve(out);
    const bool int_io = options.keep_integer_io && is_quantized_integer(g.tensors[out]);
    if (int_io) {
      int32_t float_src = src;
      if (src == out) {
        // The producer writes the integer output directly: give it a float tensor to write.
        Tensor f = g.tensors[out];
        f.name = unique_tensor_name(g, out >= 0 ? g.tensors[out].name + "_float" : "output_float");
        float_src = g.add_tensor(std::move(f));
        alias.of.push_back(float_src);
        keep.push_back(0);
        for (auto& op : g.ops) {
          for (int32_t& t : op.outputs) if (t == out) t = float_src;
          for (int32_t& t : op.inputs) if (t == out) t = float_src;
        }
      }
      keep[out] = 1;
      tail.push_back(make_op(OpKind::kQuantize, float_src, out));
      continue;
    }
    if (src != out) {
      // The output was the result of a removed op: its source now is the output.
      std::swap(g.tensors[src].name, g.tensors[out].name);
      for (auto& sig : m.signatures)
        for (auto& st : sig.outputs) if (st.tensor == out) st.tensor = src;
      out = src;
    }
  }
  return tail;
}

// 3. Graph inputs kept as integer get one DEQUANTIZE in front (returned).
std::vector<Op> dequantize_inputs(Graph& g, const FloatOptions& options, std::vector<char>& keep) {
  std::vector<Op> head;
  for (int32_t in : g.inputs) {
    if (!options.keep_integer_io || !is_quantized_integer(g.tensors[in])) continue;
    Tensor f = g.tensors[in];
    f.name = unique_tensor_name(g, g.tensors[in].name + "_dequantize");
    const int32_t fid = g.add_tensor(std::move(f));
    keep.push_back(0);
    replace_uses(g, in, fid, /*outputs=*/false);
    keep[in] = 1;
    head.push_back(make_op(OpKind::kDequantize, in, fid));
  }
  return head;
}

// 4. An integer op's output range clamps like an activation: TOCO's uint8 models leave "Relu6"
// convolutions with no fused activation, the [0, 6] output range doing the clamp. In float that
// clamp must become the activation again (RELU6 when the range ends at 6 within one step, RELU
// when it starts at 0). Returns how many ops got one.
int restore_range_clamps(Graph& g) {
  int clamps = 0;
  for (Op& op : g.ops) {
    const bool arithmetic = op.kind == OpKind::kConv2d || op.kind == OpKind::kDepthwiseConv2d ||
                            op.kind == OpKind::kFullyConnected || op.kind == OpKind::kTransposeConv ||
                            op.kind == OpKind::kAdd || op.kind == OpKind::kSub ||
                            op.kind == OpKind::kMul || op.kind == OpKind::kDiv;
    if (!arithmetic || op.attrs.activation != graph::Activation::kNone || op.outputs.size() != 1 ||
        op.outputs[0] < 0)
      continue;
    const Tensor& out = g.tensors[op.outputs[0]];
    if (!is_quantized_integer(out) || out.quant.per_axis() || out.quant.zero_point.size() != 1)
      continue;
    double qmin = 0, qmax = 0;
    if (out.dtype == DType::kUInt8) qmax = 255;
    else if (out.dtype == DType::kInt8) qmin = -128, qmax = 127;
    else if (out.dtype == DType::kInt16) qmin = -32768, qmax = 32767;
    else continue;
    const double scale = out.quant.scale[0];
    const double zp = static_cast<double>(out.quant.zero_point[0]);
    const double lo = scale * (qmin - zp);
    const double hi = scale * (qmax - zp);
    if (lo != 0.0 || !(scale > 0)) continue;
    op.attrs.activation = std::abs(hi - 6.0) <= scale ? graph::Activation::kRelu6
                                                       : graph::Activation::kRelu;
    ++clamps;
  }
  return clamps;
}

// 5. Every other quantized or float16 tensor becomes float32 with its real values.
Status tensors_to_float32(Graph& g, const std::vector<char>& keep, int* constants, int* activations) {
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    Tensor& t = g.tensors[i];
    if (keep[i]) continue;
    if (t.dtype == DType::kFloat16 || is_quantized_integer(t)) {
      if (t.is_constant()) {
        QDET_ASSIGN_OR_RETURN(auto values, constant_values(t));
        t.data = float_bytes(values);
        ++*constants;
      } else {
        ++*activations;
      }
      t.dtype = DType::kFloat32;
      t.quant = QuantParams{};
    }
  }
  return ok_status();
}

}  // namespace

Result<Model> dequantize_model(const Model& model, const FloatOptions& options, Notes* notes) {
  Model m = model;
  Graph& g = m.graph;
  QDET_TRY(g.verify());
  Aliases alias;
  const int removed = remove_quantize_ops(g, alias);
  std::vector<char> keep(g.tensors.size(), 0);
  std::vector<Op> tail = restore_outputs(m, alias, options, keep);
  std::vector<Op> head = dequantize_inputs(g, options, keep);
  const int clamps = restore_range_clamps(g);
  if (clamps > 0 && notes)
    notes->info.push_back(fmt::format(
        "float: {} ops clamped by their integer output range get that clamp as a fused activation",
        clamps));
  int constants = 0, activations = 0;
  QDET_TRY(tensors_to_float32(g, keep, &constants, &activations));

  std::vector<Op> all;
  all.reserve(head.size() + g.ops.size() + tail.size());
  for (auto& op : head) all.push_back(std::move(op));
  for (auto& op : g.ops) all.push_back(std::move(op));
  for (auto& op : tail) all.push_back(std::move(op));
  g.ops = std::move(all);
  for (auto& op : g.ops)
    if (op.kind == OpKind::kQuantize || op.kind == OpKind::kDequantize)
      op.version = tflite_op_version(g, op);
  remove_unused_tensors(m);
  QDET_TRY(m.graph.verify().with_context("float: result"));
  if (notes) {
    notes->info.push_back(fmt::format(
        "float: {} constants and {} activations to float32, {} QUANTIZE/DEQUANTIZE removed",
        constants, activations, removed));
    if (!head.empty() || !tail.empty())
      notes->info.push_back(fmt::format(
          "float: integer I/O kept ({} DEQUANTIZE after inputs, {} QUANTIZE before outputs)",
          head.size(), tail.size()));
  }
  return m;
}

}  // namespace qdet::quant
