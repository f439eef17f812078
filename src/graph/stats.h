// Graph-level statistics: what a model holds and how much arithmetic it does (docs/ARCHITECTURE.md, "Measurement":
// "Size: file bytes and bytes per dtype. Work: MACs per dtype").
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "graph/graph.h"

namespace qdet::graph {

struct GraphStats {
  // Elements of every constant tensor (weights, biases, and small constants such as shapes).
  int64_t parameters = 0;
  // Bytes of constant data by element type.
  std::map<DType, int64_t> constant_bytes;
  // Multiply-accumulates of CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and TRANSPOSE_CONV, by
  // the precision the arithmetic runs in: the input's dtype, except float inputs with int8
  // weights (dynamic-range "hybrid" kernels quantize the input and multiply in int8).
  std::map<DType, int64_t> macs;
  int64_t total_macs = 0;
  // Ops whose MACs could not be counted because a shape is missing from the file.
  int32_t ops_without_macs = 0;
  // Number of ops of each kind, by TFLite name.
  std::map<std::string, int32_t> op_counts;
};

// MACs of one op: 0 for ops that are not counted, -1 when a shape it needs is missing or has
// the wrong rank.
int64_t op_macs(const Graph& graph, const Op& op);

// The precision an op's MACs run in (see GraphStats::macs).
DType op_mac_precision(const Graph& graph, const Op& op);

GraphStats compute_stats(const Graph& graph);

}  // namespace qdet::graph
