// Small graph-editing helpers the quantizer's transforms share.
#pragma once

#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "graph/graph.h"

namespace qdet::quant {

// The graph types every transform of the quantizer works on, by their short names.
using graph::Graph;
using graph::Model;
using graph::Op;
using graph::OpKind;
using graph::Tensor;

// The key of a tensor in calibration tables and reports: its name, or "#<id>" when the name is
// empty or not unique in the graph.
std::vector<std::string> tensor_keys(const graph::Graph& graph);

// The real values of a constant tensor: float32 as is, float16 widened, integer tensors with
// quantization parameters dequantized (per axis when they are per axis). Error for other
// tensors (non-constant, integer without parameters).
Result<std::vector<float>> constant_values(const graph::Tensor& tensor);

// Little-endian bytes of float32 values.
std::vector<uint8_t> float_bytes(std::span<const float> values);

// remove_unused_tensors (graph/graph.h) is found by argument-dependent lookup.

// Replaces every use of tensor `from` as an op input by `to` (graph outputs too when
// `outputs` is set).
void replace_uses(graph::Graph& graph, int32_t from, int32_t to, bool outputs);

// The elementwise activation ops that belong to weighted op `op` (SiLU's LOGISTIC and MUL,
// RELU, RELU6, TANH, LEAKY_RELU, HARD_SWISH, PRELU, ...): those whose every non-constant input
// is made by `op` or by another of them, found forward from its output; ops in `exclude` are
// never taken. `consumers` is graph.consumers().
std::vector<int32_t> own_activations(const graph::Graph& graph,
                                     const std::vector<std::vector<int32_t>>& consumers, int32_t op,
                                     const std::set<int32_t>& exclude = {});

// A fresh tensor name not used in the graph, from `base` ("x_int8", "x_int8_1", ...).
std::string unique_tensor_name(const graph::Graph& graph, const std::string& base);

}  // namespace qdet::quant
