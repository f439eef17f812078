// Whole-Model comparison for round-trip tests: names the first difference found.
#pragma once

#include <fmt/format.h>

#include <string>

#include "graph/graph.h"

namespace qdet::tflite::testing {

inline std::string first_difference(const graph::Model& a, const graph::Model& b) {
  if (a.version != b.version) return fmt::format("version {} vs {}", a.version, b.version);
  if (a.description != b.description) return "description";
  if (a.trailing != b.trailing)
    return fmt::format("trailing bytes ({} vs {})", a.trailing.size(), b.trailing.size());
  if (a.metadata.size() != b.metadata.size()) return "metadata count";
  for (size_t i = 0; i < a.metadata.size(); ++i)
    if (a.metadata[i].name != b.metadata[i].name || a.metadata[i].data != b.metadata[i].data)
      return fmt::format("metadata {} ('{}')", i, a.metadata[i].name);
  if (a.signatures.size() != b.signatures.size()) return "signature count";
  for (size_t i = 0; i < a.signatures.size(); ++i) {
    const auto &x = a.signatures[i], &y = b.signatures[i];
    if (x.key != y.key || x.subgraph_index != y.subgraph_index ||
        x.inputs.size() != y.inputs.size() || x.outputs.size() != y.outputs.size())
      return fmt::format("signature {}", i);
    for (size_t j = 0; j < x.inputs.size(); ++j)
      if (x.inputs[j].name != y.inputs[j].name || x.inputs[j].tensor != y.inputs[j].tensor)
        return fmt::format("signature {} input {}", i, j);
    for (size_t j = 0; j < x.outputs.size(); ++j)
      if (x.outputs[j].name != y.outputs[j].name || x.outputs[j].tensor != y.outputs[j].tensor)
        return fmt::format("signature {} output {}", i, j);
  }
  const graph::Graph &g = a.graph, &h = b.graph;
  if (g.name != h.name) return "graph name";
  if (g.inputs != h.inputs) return "graph inputs";
  if (g.outputs != h.outputs) return "graph outputs";
  if (g.tensors.size() != h.tensors.size()) return "tensor count";
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    const auto &x = g.tensors[i], &y = h.tensors[i];
    if (x.name != y.name || x.dtype != y.dtype || x.shape != y.shape ||
        x.shape_signature != y.shape_signature || !(x.quant == y.quant) || x.data != y.data ||
        x.is_variable != y.is_variable)
      return fmt::format("tensor {} ('{}')", i, x.name);
  }
  if (g.ops.size() != h.ops.size()) return "op count";
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const auto &x = g.ops[i], &y = h.ops[i];
    if (x.kind != y.kind || x.version != y.version || x.inputs != y.inputs ||
        x.outputs != y.outputs || !(x.attrs == y.attrs) || x.custom_code != y.custom_code ||
        x.custom_options != y.custom_options)
      return fmt::format("op {} ({})", i, x.name());
  }
  return "";
}

}  // namespace qdet::tflite::testing
