// dynamic mode: int8 weights, float activations (TFLite dynamic-range quantization; modes.h).
//
// As the TFLite converter writes it: CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED read their
// int8 weights directly and run TFLite's hybrid kernels (the float input is quantized on the
// fly); per-channel symmetric weights for convolutions (axis 0, depthwise axis 3), per-tensor
// for FULLY_CONNECTED with asymmetric_quantize_inputs set (the converter's "updated hybrid
// scheme"). Op versions as TFLite's op_version.cc gives them: CONV_2D 5 (per channel) or 2,
// DEPTHWISE_CONV_2D 6, FULLY_CONNECTED 9 (6 without bias, 5 with keep_num_dims).
//
// An op that TFLite has no hybrid kernel for (a dilated or grouped convolution: TFLite's hybrid
// conv ignores dilation and has no groups) keeps float arithmetic: its weights are int8 in the
// file, followed by a DEQUANTIZE to float32 (same size, float speed), with a note.
#include <algorithm>
#include <cmath>
#include <span>

#include <fmt/format.h>

#include "graph/op_traits.h"
#include "quant/graph_edit.h"
#include "quant/modes.h"

namespace qdet::quant {

namespace {

// Why `op` cannot be a TFLite hybrid op, or "" when it can.
std::string no_hybrid_reason(const Graph& g, const Op& op) {
  const auto& a = op.attrs;
  if (op.kind == OpKind::kFullyConnected) return "";
  if (a.dilation_h != 1 || a.dilation_w != 1)
    return fmt::format("dilation {}x{}", a.dilation_h, a.dilation_w);
  if (op.kind == OpKind::kConv2d) {
    const Shape& in = g.tensors[op.inputs[0]].shape;
    const Shape& w = g.tensors[op.inputs[1]].shape;
    if (in.size() == 4 && w.size() == 4 && in[3] != w[3]) return "grouped convolution";
  }
  return "";
}

// The weights' quantization axis for a hybrid op of this kind (-1: per tensor).
int32_t hybrid_axis(OpKind kind) {
  return kind == OpKind::kFullyConnected ? -1 : kind == OpKind::kDepthwiseConv2d ? 3 : 0;
}

// Whether the int8 tensor `w` has the quantization a hybrid `op` needs (a weight shared by ops
// of different kinds is quantized once, for its first reader).
bool fits_hybrid(const Op& op, const Tensor& w) {
  switch (op.kind) {
    case OpKind::kConv2d: return !w.quant.per_axis() || w.quant.quantized_dimension == 0;
    case OpKind::kDepthwiseConv2d:
      return w.shape.size() == 4 && w.quant.quantized_dimension == 3 &&
             static_cast<int64_t>(w.quant.scale.size()) == w.shape[3];
    case OpKind::kFullyConnected: return !w.quant.per_axis();
    default: return false;
  }
}

// TFLite's op_version.cc for a hybrid op (float input, int8 weights, float output).
int32_t hybrid_version(const Graph& g, const Op& op) {
  switch (op.kind) {
    case OpKind::kConv2d: return g.tensors[op.inputs[1]].quant.per_axis() ? 5 : 2;
    case OpKind::kDepthwiseConv2d: return 6;
    case OpKind::kFullyConnected: {
      const bool has_bias = op.inputs.size() > 2 && op.inputs[2] >= 0;
      if (!has_bias) return 6;
      if (op.attrs.keep_num_dims) return 5;
      return op.attrs.asymmetric_quantize_inputs ? 9 : 3;
    }
    default: return op.version;
  }
}

}  // namespace

Result<Model> to_dynamic(const Model& float_model, const DynamicOptions& options, Notes* notes) {
  Model m = float_model;
  Graph& g = m.graph;
  QDET_TRY(g.verify());
  std::vector<int32_t> int8_of(g.tensors.size(), -1);        // float weight -> int8 tensor
  std::vector<int32_t> dequantized_of(g.tensors.size(), -1);  // float weight -> DEQUANTIZE out
  std::vector<Op> ops;
  int quantized = 0, small = 0, hybrid_ops = 0, dequantized_ops = 0;
  std::vector<std::string> kept_float;  // ops with DEQUANTIZE weights, and why
  for (size_t i = 0; i < g.ops.size(); ++i) {
    Op op = g.ops[i];
    const bool weighted = graph::op_traits(op.kind).hybrid;  // TFLite has a hybrid kernel
    if (!weighted || options.float_ops.count(static_cast<int32_t>(i)) || op.inputs.size() < 2 ||
        op.inputs[1] < 0) {
      ops.push_back(std::move(op));
      continue;
    }
    const int32_t w = op.inputs[1];
    const Tensor& src = g.tensors[w];
    const bool float_weight = src.is_constant() && src.dtype == DType::kFloat32;
    if (float_weight && src.num_elements() < options.min_elements) ++small;
    if (!float_weight || src.num_elements() < options.min_elements ||
        g.tensors[op.inputs[0]].dtype != DType::kFloat32) {
      ops.push_back(std::move(op));
      continue;
    }
    if (int8_of[w] < 0) {
      const int32_t axis = hybrid_axis(op.kind);
      QDET_ASSIGN_OR_RETURN(auto values, constant_values(src));
      QDET_ASSIGN_OR_RETURN(auto q, quantize_weights_symmetric(values, src.shape, axis));
      if (options.mse_scales) refine_weight_scales_mse(values, src.shape, axis, q);
      // Equal per-channel scales would send TFLite's conv down its per-tensor path, which reads
      // a per-tensor scale that a per-channel tensor does not have: write one scale instead.
      if (op.kind == OpKind::kConv2d && q.params.per_axis() &&
          std::all_of(q.params.scale.begin(), q.params.scale.end(),
                      [&](float s) { return s == q.params.scale[0]; })) {
        q.params.scale = {q.params.scale[0]};
        q.params.zero_point = {q.params.zero_point[0]};
        q.params.quantized_dimension = 0;
      }
      Tensor t;
      t.name = src.name;
      t.dtype = DType::kInt8;
      t.shape = src.shape;
      t.shape_signature = src.shape_signature;
      t.quant = q.params;
      t.data = std::move(q.data);
      int8_of[w] = g.add_tensor(std::move(t));
      ++quantized;
    }
    std::string reason = options.hybrid ? no_hybrid_reason(g, op) : "weights-only form requested";
    if (reason.empty() && !fits_hybrid(op, g.tensors[int8_of[w]]))
      reason = "its weights are shared with an op quantized along another axis";
    if (reason.empty()) {
      op.inputs[1] = int8_of[w];
      if (op.kind == OpKind::kFullyConnected) op.attrs.asymmetric_quantize_inputs = true;
      op.version = hybrid_version(g, op);
      ++hybrid_ops;
    } else {
      if (dequantized_of[w] < 0) {
        Tensor f;
        // Not src.name: add_tensor above may have moved g.tensors, and src with it.
        f.name = unique_tensor_name(g, g.tensors[w].name + "_dequantize");
        f.shape = g.tensors[int8_of[w]].shape;
        const int32_t fid = g.add_tensor(std::move(f));
        Op dq;
        dq.kind = OpKind::kDequantize;
        dq.inputs = {int8_of[w]};
        dq.outputs = {fid};
        dq.version = tflite_op_version(g, dq);
        ops.push_back(std::move(dq));
        dequantized_of[w] = fid;
      }
      op.inputs[1] = dequantized_of[w];
      ++dequantized_ops;
      if (options.hybrid)
        kept_float.push_back(fmt::format("op {} ({}): {}", i, graph::op_name(op.kind), reason));
    }
    ops.push_back(std::move(op));
  }
  g.ops = std::move(ops);
  remove_unused_tensors(m);
  QDET_TRY(m.graph.verify().with_context("dynamic: result"));
  if (notes) {
    if (quantized == 0) {
      notes->warnings.push_back(fmt::format(
          "dynamic: no CONV_2D/DEPTHWISE_CONV_2D/FULLY_CONNECTED float weights with >= {} values: "
          "nothing to quantize", options.min_elements));
    } else {
      notes->info.push_back(fmt::format(
          "dynamic: {} weight tensors to int8; {} ops run hybrid kernels (int8 arithmetic, "
          "float activations), {} dequantize their weights to float32; {} smaller than {} "
          "values stay float32",
          quantized, hybrid_ops, dequantized_ops, small, options.min_elements));
      for (const std::string& k : kept_float)
        notes->info.push_back("dynamic: no TFLite hybrid kernel for " + k +
                              ": int8 weights with DEQUANTIZE, float arithmetic");
    }
  }
  return m;
}

}  // namespace qdet::quant
