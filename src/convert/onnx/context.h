// The ONNX importer's state while it lowers nodes into a graph::Graph (internal to
// src/convert/onnx). Each ONNX value is either a constant (kept on the host in ONNX layout,
// folded at conversion time) or an activation: a graph tensor plus the layout (convert/layout.h)
// relating it to the ONNX tensor.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "convert/host_tensor.h"
#include "convert/layout.h"
#include "convert/onnx/onnx_model.h"
#include "graph/graph.h"

namespace qdet::convert::onnx {

struct Value {
  std::optional<HostTensor> constant;  // ONNX layout
  int32_t tensor = -1;                 // graph tensor (activations)
  Perm perm;                           // layout of `tensor`
  Shape shape;                         // ONNX shape
  DType dtype = DType::kFloat32;

  bool is_constant() const { return constant.has_value(); }
};

class Context {
 public:
  explicit Context(const Model& model) : model_(model) {}

  const Model& model() const { return model_; }
  graph::Graph& graph() { return graph_; }

  // An error about `node`: "<file>: node 'name' (Op): <message>".
  template <typename... Args>
  Status node_error(StatusCode code, const Node& node, fmt::format_string<Args...> f, Args&&... args) const {
    return Status(code, fmt::format("{}: node '{}' ({}): {}", model_.source, node.name, node.op_type,
                                    fmt::format(f, std::forward<Args>(args)...)));
  }

  bool has(const std::string& name) const { return !name.empty() && values_.count(name) > 0; }
  // Input `index` of `node`; an error naming the node when it is absent or unknown.
  Result<const Value*> input(const Node& node, size_t index) const;
  // Input `index` as a constant; an error naming the node when it is not one.
  Result<const HostTensor*> constant_input(const Node& node, size_t index, std::string_view role) const;
  bool has_input(const Node& node, size_t index) const;

  void set_constant(const std::string& name, HostTensor t);
  void set_activation(const std::string& name, int32_t tensor, Perm perm, Shape shape, DType dtype);
  const Value* find(const std::string& name) const;

  // The value's tensor in layout `perm`: the tensor itself, a RESHAPE (same data order) or a
  // TRANSPOSE; conversions are cached. A constant value becomes a constant tensor.
  Result<int32_t> tensor_in(const std::string& name, const Perm& perm);
  // The value's tensor with ONNX rank raised to `rank` (leading 1s, numpy broadcasting), in
  // layout `perm` of that rank.
  Result<int32_t> tensor_broadcast_in(const std::string& name, size_t rank, const Perm& perm);

  // A constant tensor from `t` (given in ONNX layout) in layout `perm`.
  int32_t add_constant(const HostTensor& t, const Perm& perm, const std::string& name);
  int32_t add_constant(const HostTensor& tflite_layout, const std::string& name);
  int32_t add_int32_vector(std::span<const int32_t> values, const std::string& name);
  // A new activation tensor (TFLite shape).
  int32_t add_activation(const std::string& name, DType dtype, Shape tflite_shape);
  void add_op(graph::OpKind kind, std::vector<int32_t> inputs, std::vector<int32_t> outputs,
              graph::OpAttrs attrs = {});
  std::string unique_name(const std::string& base);

 private:
  const Model& model_;
  graph::Graph graph_;
  std::map<std::string, Value> values_;
  std::map<std::string, int32_t> converted_;  // "<tensor>|<perm>" -> tensor
  std::map<std::string, int32_t> name_count_;
};

}  // namespace qdet::convert::onnx
