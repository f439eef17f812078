// dynamic mode: int8 weights, float activations (TFLite dynamic-range quantization; modes.h).
#include <fmt/format.h>

#include "quant/graph_edit.h"
#include "quant/modes.h"

namespace qdet::quant {

using graph::Graph;
using graph::Model;
using graph::Op;
using graph::OpKind;
using graph::Tensor;

Result<Model> to_dynamic(const Model& float_model, const DynamicOptions& options, Notes* notes) {
  Model m = float_model;
  Graph& g = m.graph;
  QDET_TRY(g.verify());
  const auto consumers = g.consumers();
  std::vector<int32_t> replaced(g.tensors.size(), -1);  // weight -> its int8 (or dequantized) id
  std::vector<Op> ops;
  int quantized = 0, small = 0;
  for (size_t i = 0; i < g.ops.size(); ++i) {
    Op op = g.ops[i];
    const bool weighted = op.kind == OpKind::kConv2d || op.kind == OpKind::kDepthwiseConv2d ||
                          op.kind == OpKind::kFullyConnected;
    if (weighted && !options.float_ops.count(static_cast<int32_t>(i)) && op.inputs.size() >= 2 &&
        op.inputs[1] >= 0) {
      const int32_t w = op.inputs[1];
      const Tensor& src = g.tensors[w];
      const bool eligible = src.is_constant() && src.dtype == DType::kFloat32 &&
                            src.num_elements() >= options.min_elements &&
                            g.tensors[op.inputs[0]].dtype == DType::kFloat32;
      if (src.is_constant() && src.dtype == DType::kFloat32 &&
          src.num_elements() < options.min_elements)
        ++small;
      if (eligible && replaced[w] < 0) {
        // A weight shared with an op of another kind keeps one axis: that of its first reader.
        const int32_t axis = op.kind == OpKind::kFullyConnected ? -1
                             : op.kind == OpKind::kDepthwiseConv2d ? 3 : 0;
        QDET_ASSIGN_OR_RETURN(auto values, constant_values(src));
        QDET_ASSIGN_OR_RETURN(auto q, quantize_weights_symmetric(values, src.shape, axis));
        Tensor t;
        t.name = src.name;
        t.dtype = DType::kInt8;
        t.shape = src.shape;
        t.shape_signature = src.shape_signature;
        t.quant = q.params;
        t.data = std::move(q.data);
        const int32_t qid = g.add_tensor(std::move(t));
        if (options.hybrid) {
          replaced[w] = qid;
        } else {
          Tensor f;
          f.name = unique_tensor_name(g, src.name + "_dequantize");
          f.shape = g.tensors[qid].shape;
          const int32_t fid = g.add_tensor(std::move(f));
          Op dq;
          dq.kind = OpKind::kDequantize;
          dq.inputs = {qid};
          dq.outputs = {fid};
          dq.version = tflite_op_version(g, dq);
          ops.push_back(std::move(dq));
          replaced[w] = fid;
        }
        ++quantized;
      }
      if (eligible) {
        op.inputs[1] = replaced[w];
        op.version = tflite_op_version(g, op);
      }
    }
    ops.push_back(std::move(op));
  }
  g.ops = std::move(ops);
  remove_unused_tensors(m);
  QDET_TRY(m.graph.verify().with_context("dynamic: result"));
  if (notes) {
    if (quantized == 0)
      notes->warnings.push_back(fmt::format(
          "dynamic: no CONV_2D/DEPTHWISE_CONV_2D/FULLY_CONNECTED float weights with >= {} values: "
          "nothing to quantize", options.min_elements));
    else
      notes->info.push_back(fmt::format(
          "dynamic: {} weight tensors to int8 ({}); {} smaller than {} values stay float32",
          quantized, options.hybrid ? "hybrid kernels" : "DEQUANTIZE to float32", small,
          options.min_elements));
  }
  return m;
}

}  // namespace qdet::quant
