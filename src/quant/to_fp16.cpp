// fp16 mode: float16 weights with DEQUANTIZE, as the TFLite converter writes them (modes.h).
#include <fmt/format.h>

#include <functional>

#include "quant/graph_edit.h"
#include "quant/modes.h"
#include "tensor/fp16.h"

namespace qdet::quant {

Result<Model> constants_to_fp16(const Model& float_model,
                                const std::function<bool(int32_t op, int32_t tensor)>& convert,
                                int* converted_count, size_t* bytes_saved,
                                std::vector<int32_t>* id_map) {
  Model m = float_model;
  Graph& g = m.graph;
  QDET_TRY(g.verify());
  const size_t n = g.tensors.size();
  // A constant becomes float16 when `convert` says so for at least one reader; the other
  // readers keep reading a float32 copy (the original tensor).
  std::vector<int32_t> dequantized(n, -1);   // tensor -> its DEQUANTIZE output
  std::vector<Op> ops;
  int converted = 0;
  size_t bytes_before = 0, bytes_after = 0;
  for (size_t i = 0; i < g.ops.size(); ++i) {
    Op op = g.ops[i];
    for (int32_t& t : op.inputs) {
      if (t < 0) continue;
      const Tensor& src = g.tensors[t];
      if (!src.is_constant() || src.dtype != DType::kFloat32) continue;
      if (!convert(static_cast<int32_t>(i), t)) continue;
      if (dequantized[t] < 0) {
        Tensor half;
        half.name = src.name;
        half.dtype = DType::kFloat16;
        half.shape = src.shape;
        half.shape_signature = src.shape_signature;
        QDET_ASSIGN_OR_RETURN(auto values, constant_values(src));
        half.data.resize(values.size() * 2);
        for (size_t k = 0; k < values.size(); ++k) {
          const uint16_t h = fp32_to_fp16(values[k]);
          half.data[2 * k] = static_cast<uint8_t>(h & 0xff);
          half.data[2 * k + 1] = static_cast<uint8_t>(h >> 8);
        }
        bytes_before += src.data.size();
        bytes_after += half.data.size();
        Tensor out;
        out.name = unique_tensor_name(g, src.name + "_dequantize");
        out.dtype = DType::kFloat32;
        out.shape = src.shape;
        out.shape_signature = src.shape_signature;
        const int32_t half_id = g.add_tensor(std::move(half));
        const int32_t out_id = g.add_tensor(std::move(out));
        Op dq;
        dq.kind = OpKind::kDequantize;
        dq.inputs = {half_id};
        dq.outputs = {out_id};
        dq.version = 1;
        dq.version = tflite_op_version(g, dq);
        ops.push_back(std::move(dq));
        dequantized[t] = out_id;
        ++converted;
      }
      t = dequantized[t];
    }
    ops.push_back(std::move(op));
  }
  g.ops = std::move(ops);
  auto renumbered = remove_unused_tensors(m);
  if (id_map) {
    renumbered.resize(n);  // ids of the input model only
    *id_map = std::move(renumbered);
  }
  QDET_TRY(m.graph.verify().with_context("fp16: result"));
  if (converted_count) *converted_count = converted;
  if (bytes_saved) *bytes_saved = bytes_before - bytes_after;
  return m;
}

Result<Model> to_fp16(const Model& float_model, const std::set<int32_t>& float_ops, Notes* notes,
                      std::vector<int32_t>* id_map) {
  int converted = 0;
  size_t saved = 0;
  QDET_ASSIGN_OR_RETURN(
      Model m, constants_to_fp16(
                   float_model, [&](int32_t op, int32_t) { return float_ops.count(op) == 0; },
                   &converted, &saved, id_map));
  if (notes) {
    if (converted == 0)
      notes->warnings.push_back("fp16: the model has no float32 constants: nothing to convert");
    else
      notes->info.push_back(fmt::format("fp16: {} float32 constants to float16 ({} bytes saved)",
                                        converted, saved));
  }
  return m;
}

}  // namespace qdet::quant
