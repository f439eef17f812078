// Small float graphs built by hand for the quantizer's tests.
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "quant/graph_edit.h"

namespace qdet::quant::testing {

class GraphBuilder {
 public:
  int32_t input(const std::string& name, Shape shape) {
    const int32_t id = activation(name, std::move(shape));
    model_.graph.inputs.push_back(id);
    return id;
  }
  int32_t activation(const std::string& name, Shape shape, DType dtype = DType::kFloat32) {
    graph::Tensor t;
    t.name = name;
    t.shape = std::move(shape);
    t.dtype = dtype;
    return model_.graph.add_tensor(std::move(t));
  }
  int32_t constant(const std::string& name, Shape shape, const std::vector<float>& values) {
    graph::Tensor t;
    t.name = name;
    t.shape = std::move(shape);
    t.data = float_bytes(values);
    return model_.graph.add_tensor(std::move(t));
  }
  int32_t int_constant(const std::string& name, Shape shape, const std::vector<int32_t>& values) {
    graph::Tensor t;
    t.name = name;
    t.shape = std::move(shape);
    t.dtype = DType::kInt32;
    t.data.resize(values.size() * 4);
    std::memcpy(t.data.data(), values.data(), t.data.size());
    return model_.graph.add_tensor(std::move(t));
  }
  graph::Op& op(graph::OpKind kind, std::vector<int32_t> in, std::vector<int32_t> out) {
    graph::Op o;
    o.kind = kind;
    o.inputs = std::move(in);
    o.outputs = std::move(out);
    model_.graph.ops.push_back(std::move(o));
    return model_.graph.ops.back();
  }
  void output(int32_t id) { model_.graph.outputs.push_back(id); }
  graph::Model& model() { return model_; }

 private:
  graph::Model model_;
};

inline std::vector<int8_t> int8_data(const graph::Tensor& t) {
  std::vector<int8_t> v(t.data.size());
  std::memcpy(v.data(), t.data.data(), v.size());
  return v;
}
inline std::vector<int32_t> int32_data(const graph::Tensor& t) {
  std::vector<int32_t> v(t.data.size() / 4);
  std::memcpy(v.data(), t.data.data(), t.data.size());
  return v;
}
inline std::vector<int64_t> int64_data(const graph::Tensor& t) {
  std::vector<int64_t> v(t.data.size() / 8);
  std::memcpy(v.data(), t.data.data(), t.data.size());
  return v;
}

// Index of the first op of `kind` in the graph, -1 when none.
inline int find_op(const graph::Graph& g, graph::OpKind kind, int from = 0) {
  for (size_t i = from; i < g.ops.size(); ++i)
    if (g.ops[i].kind == kind) return static_cast<int>(i);
  return -1;
}
inline int count_ops(const graph::Graph& g, graph::OpKind kind) {
  int n = 0;
  for (const auto& op : g.ops) n += op.kind == kind;
  return n;
}

}  // namespace qdet::quant::testing
