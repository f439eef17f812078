// Builds small graphs for runtime tests and runs them through the Interpreter.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "runtime/interpreter.h"

namespace qdet::rt::testing {

template <typename T>
std::vector<uint8_t> to_bytes(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

template <typename T>
std::vector<T> values_of(const TensorRef& t) {
  std::vector<T> v(static_cast<size_t>(t.num_elements()));
  if (!v.empty()) std::memcpy(v.data(), t.data, v.size() * sizeof(T));
  return v;
}

inline QuantParams quant(float scale, int64_t zero_point) {
  QuantParams q;
  q.scale = {scale};
  q.zero_point = {zero_point};
  return q;
}

class GraphBuilder {
 public:
  // A graph input.
  int32_t input(DType dtype, Shape shape, QuantParams q = {}) {
    int32_t id = tensor(dtype, std::move(shape), std::move(q));
    graph_->inputs.push_back(id);
    return id;
  }
  // An activation (neither input nor constant).
  int32_t tensor(DType dtype, Shape shape, QuantParams q = {}) {
    graph::Tensor t;
    t.name = "t" + std::to_string(graph_->tensors.size());
    t.dtype = dtype;
    t.shape = std::move(shape);
    t.quant = std::move(q);
    return graph_->add_tensor(std::move(t));
  }
  template <typename T>
  int32_t constant(DType dtype, Shape shape, const std::vector<T>& values, QuantParams q = {}) {
    int32_t id = tensor(dtype, std::move(shape), std::move(q));
    graph_->tensors[id].data = to_bytes(values);
    return id;
  }
  int32_t ints(const std::vector<int32_t>& v) {
    return constant(DType::kInt32, {static_cast<int32_t>(v.size())}, v);
  }
  graph::Op& op(graph::OpKind kind, std::vector<int32_t> inputs, std::vector<int32_t> outputs,
                graph::OpAttrs attrs = {}) {
    graph::Op op;
    op.kind = kind;
    op.inputs = std::move(inputs);
    op.outputs = std::move(outputs);
    op.attrs = std::move(attrs);
    graph_->ops.push_back(std::move(op));
    return graph_->ops.back();
  }
  void output(int32_t id) { graph_->outputs.push_back(id); }
  graph::Graph& graph() { return *graph_; }
  std::shared_ptr<const graph::Graph> shared() const { return graph_; }

 private:
  std::shared_ptr<graph::Graph> graph_ = std::make_shared<graph::Graph>();
};

// Reference kernels only: what the kernel tests here check.
inline constexpr InterpreterOptions kReferenceOnly = {.use_fast_kernels = false};

// Creates an interpreter, copies `inputs` (bytes, in graph-input order) and invokes it.
inline Result<std::unique_ptr<Interpreter>> run_graph(
    std::shared_ptr<const graph::Graph> g, const std::vector<std::vector<uint8_t>>& inputs,
    InterpreterOptions options = kReferenceOnly) {
  QDET_ASSIGN_OR_RETURN(auto interp, Interpreter::create(std::move(g), options));
  if (inputs.size() != interp->num_inputs())
    return invalid_argument("test gave {} inputs for {}", inputs.size(), interp->num_inputs());
  for (size_t i = 0; i < inputs.size(); ++i) {
    TensorRef& t = interp->input(i);
    if (inputs[i].size() != t.byte_size())
      return invalid_argument("test input {} has {} bytes, tensor needs {}", i, inputs[i].size(),
                              t.byte_size());
    if (!inputs[i].empty()) std::memcpy(t.data, inputs[i].data(), inputs[i].size());
  }
  QDET_TRY(interp->invoke());
  return interp;
}

}  // namespace qdet::rt::testing
