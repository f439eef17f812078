// Builds small graphs by hand for the runtime, quantizer and bench tests: tensors of any dtype,
// named or numbered ("t<id>"), constants of any element type, ops; the result as a Model, a
// Graph, or a shared Graph for the Interpreter.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "test_support.h"

namespace qdet::testing {

class GraphBuilder {
 public:
  // An activation (neither input nor constant).
  int32_t tensor(DType dtype, Shape shape, QuantParams q = {}, std::string name = {}) {
    graph::Tensor t;
    t.name = name.empty() ? "t" + std::to_string(model_->graph.tensors.size()) : std::move(name);
    t.dtype = dtype;
    t.shape = std::move(shape);
    t.quant = std::move(q);
    return model_->graph.add_tensor(std::move(t));
  }
  int32_t activation(const std::string& name, Shape shape, DType dtype = DType::kFloat32) {
    return tensor(dtype, std::move(shape), {}, name);
  }
  // A graph input.
  int32_t input(DType dtype, Shape shape, QuantParams q = {}) {
    return add_input(tensor(dtype, std::move(shape), std::move(q)));
  }
  int32_t input(const std::string& name, Shape shape) { return add_input(activation(name, std::move(shape))); }
  // A constant holding `values`.
  template <typename T>
  int32_t constant(DType dtype, Shape shape, const std::vector<T>& values, QuantParams q = {},
                   std::string name = {}) {
    const int32_t id = tensor(dtype, std::move(shape), std::move(q), std::move(name));
    model_->graph.tensors[id].data = to_bytes(values);
    return id;
  }
  int32_t constant(const std::string& name, Shape shape, const std::vector<float>& values) {
    return constant(DType::kFloat32, std::move(shape), values, {}, name);
  }
  int32_t int_constant(const std::string& name, Shape shape, const std::vector<int32_t>& values) {
    return constant(DType::kInt32, std::move(shape), values, {}, name);
  }
  // A constant int32 vector (shapes, axes, sizes).
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
    model_->graph.ops.push_back(std::move(op));
    return model_->graph.ops.back();
  }
  void output(int32_t id) { model_->graph.outputs.push_back(id); }

  graph::Model& model() { return *model_; }
  graph::Graph& graph() { return model_->graph; }
  std::shared_ptr<const graph::Graph> shared() const { return {model_, &model_->graph}; }

 private:
  int32_t add_input(int32_t id) {
    model_->graph.inputs.push_back(id);
    return id;
  }
  std::shared_ptr<graph::Model> model_ = std::make_shared<graph::Model>();
};

}  // namespace qdet::testing
