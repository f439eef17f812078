// The quantizer tests' graphs built by hand (tests/test_graph_builder.h) and reading their tensors.
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "quant/graph_edit.h"
#include "test_graph_builder.h"

namespace qdet::quant::testing {

using ::qdet::testing::GraphBuilder;

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
