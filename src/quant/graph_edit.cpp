#include "quant/graph_edit.h"

#include <algorithm>

#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "tensor/fp16.h"

namespace qdet::quant {

std::vector<std::string> tensor_keys(const Graph& graph) {
  std::unordered_map<std::string, int> count;
  for (const auto& t : graph.tensors) ++count[t.name];
  std::vector<std::string> keys(graph.tensors.size());
  for (size_t i = 0; i < graph.tensors.size(); ++i) {
    const auto& name = graph.tensors[i].name;
    keys[i] = (name.empty() || count[name] > 1) ? "#" + std::to_string(i) : name;
  }
  return keys;
}

Result<std::vector<float>> constant_values(const Tensor& t) {
  if (!t.is_constant()) return invalid_argument("tensor '{}' is not a constant", t.name);
  const int64_t n = t.num_elements();
  std::vector<float> out(static_cast<size_t>(n));
  const uint8_t* p = t.data.data();
  if (t.dtype == DType::kFloat32) {
    std::memcpy(out.data(), p, out.size() * 4);
    return out;
  }
  if (t.dtype == DType::kFloat16) {
    for (int64_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      out[i] = fp16_to_fp32(h);
    }
    return out;
  }
  if (t.quant.empty())
    return invalid_argument("tensor '{}' ({}) has no quantization parameters", t.name,
                            dtype_name(t.dtype));
  // Per-axis: channel of element i = (i / inner) % channels.
  int64_t channels = 1, inner = 1;
  if (t.quant.per_axis()) {
    const int32_t axis = t.quant.quantized_dimension;
    channels = t.shape[axis];
    for (size_t d = axis + 1; d < t.shape.size(); ++d) inner *= t.shape[d];
  }
  for (int64_t i = 0; i < n; ++i) {
    int64_t q;
    switch (t.dtype) {
      case DType::kInt8: q = static_cast<int8_t>(p[i]); break;
      case DType::kUInt8: q = p[i]; break;
      case DType::kInt16: { int16_t v; std::memcpy(&v, p + 2 * i, 2); q = v; break; }
      case DType::kInt32: { int32_t v; std::memcpy(&v, p + 4 * i, 4); q = v; break; }
      case DType::kInt64: { int64_t v; std::memcpy(&v, p + 8 * i, 8); q = v; break; }
      default:
        return unsupported("tensor '{}': cannot dequantize {}", t.name, dtype_name(t.dtype));
    }
    const int64_t c = channels > 1 ? (i / inner) % channels : 0;
    out[i] = static_cast<float>(static_cast<double>(t.quant.scale[c]) *
                                static_cast<double>(q - t.quant.zero_point[c]));
  }
  return out;
}

std::vector<uint8_t> float_bytes(std::span<const float> values) {
  std::vector<uint8_t> out(values.size() * 4);
  if (!values.empty()) std::memcpy(out.data(), values.data(), out.size());
  return out;
}

void replace_uses(Graph& graph, int32_t from, int32_t to, bool outputs) {
  for (auto& op : graph.ops)
    for (int32_t& t : op.inputs) if (t == from) t = to;
  if (outputs)
    for (int32_t& t : graph.outputs) if (t == from) t = to;
}

std::vector<int32_t> own_activations(const Graph& g, const std::vector<std::vector<int32_t>>& consumers,
                                     int32_t w, const std::set<int32_t>& exclude) {
  auto is_activation = [](graph::OpKind k) {
    using graph::OpKind;
    switch (k) {
      case OpKind::kLogistic: case OpKind::kMul: case OpKind::kRelu: case OpKind::kRelu6:
      case OpKind::kReluN1To1: case OpKind::kTanh: case OpKind::kLeakyRelu:
      case OpKind::kHardSwish: case OpKind::kPrelu:
        return true;
      default:
        return false;
    }
  };
  std::vector<int32_t> ops;
  std::set<int32_t> made(g.ops[w].outputs.begin(), g.ops[w].outputs.end());
  for (bool grew = true; grew;) {
    grew = false;
    for (int32_t t : std::vector<int32_t>(made.begin(), made.end())) {
      if (t < 0) continue;
      for (int32_t c : consumers[t]) {
        const auto& op = g.ops[c];
        if (!is_activation(op.kind) || exclude.count(c) || std::find(ops.begin(), ops.end(), c) != ops.end())
          continue;
        const bool inside = std::all_of(op.inputs.begin(), op.inputs.end(), [&](int32_t in) {
          return in < 0 || g.tensors[in].is_constant() || made.count(in) > 0;
        });
        if (!inside) continue;
        ops.push_back(c);
        made.insert(op.outputs.begin(), op.outputs.end());
        grew = true;
      }
    }
  }
  return ops;
}

std::string unique_tensor_name(const Graph& graph, const std::string& base) {
  std::unordered_set<std::string> names;
  for (const auto& t : graph.tensors) names.insert(t.name);
  if (!names.count(base)) return base;
  for (int i = 1;; ++i) {
    std::string n = base + "_" + std::to_string(i);
    if (!names.count(n)) return n;
  }
}

}  // namespace qdet::quant
