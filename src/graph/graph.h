// The graph IR: what every module between import and export sees (docs/ARCHITECTURE.md, "Modules").
// A Model is one main Graph plus the file-level things a .tflite carries (metadata, signatures,
// bytes appended after the flatbuffer) so that read -> write -> read preserves them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "graph/op.h"
#include "tensor/dtype.h"
#include "tensor/quant_params.h"
#include "tensor/shape.h"

namespace qdet::graph {

struct Tensor {
  std::string name;
  DType dtype = DType::kFloat32;
  Shape shape;
  Shape shape_signature;      // may hold -1 for dynamic dims; empty when absent
  QuantParams quant;
  std::vector<uint8_t> data;  // constant contents (little endian); empty for activations
  bool is_variable = false;

  bool is_constant() const { return !data.empty(); }
  int64_t num_elements() const { return ::qdet::num_elements(shape); }
  size_t byte_size() const { return static_cast<size_t>(num_elements()) * dtype_size(dtype); }
};

struct Graph {
  std::string name;
  std::vector<Tensor> tensors;
  std::vector<Op> ops;           // in execution order
  std::vector<int32_t> inputs;   // tensor ids
  std::vector<int32_t> outputs;

  // Checks every invariant the runtime and the writer rely on: ids in range, one producer per
  // tensor, inputs not produced by ops, constants sized by shape x dtype, ops in an order
  // where every input is available before use. The message names the op or tensor.
  Status verify() const;

  // Index of the op producing each tensor (-1: graph input or constant or unused).
  std::vector<int32_t> producers() const;
  // For each tensor, the ops that read it.
  std::vector<std::vector<int32_t>> consumers() const;
  // Whether `tensor` is read by op `op` alone (`consumers` is consumers()) and is neither a
  // variable nor a graph output: what a plan-time fusion needs before it skips writing it.
  bool read_only_by(int32_t tensor, int32_t op, const std::vector<std::vector<int32_t>>& consumers) const;

  int32_t add_tensor(Tensor t);  // returns its id
  // Appends an op (the importers build graphs in execution order).
  void add_op(OpKind kind, std::vector<int32_t> op_inputs, std::vector<int32_t> op_outputs, OpAttrs attrs = {});
};

struct Metadata {
  std::string name;
  std::vector<uint8_t> data;  // the buffer's bytes
};

struct SignatureTensor {
  std::string name;
  int32_t tensor = -1;
};

struct SignatureDef {
  std::string key;
  std::vector<SignatureTensor> inputs, outputs;
  int32_t subgraph_index = 0;
};

struct Model {
  Graph graph;
  uint32_t version = 3;
  std::string description;
  std::vector<Metadata> metadata;
  std::vector<SignatureDef> signatures;
  std::vector<uint8_t> trailing;  // bytes after the flatbuffer (e.g. the SSD's label-map zip)
};

// Removes tensors that no op, graph input or output refers to, renumbering the rest in order.
// Returns old id -> new id (-1 for removed); graph inputs/outputs and signatures are updated.
std::vector<int32_t> remove_unused_tensors(Model& model);

}  // namespace qdet::graph
