// Plan-time fusion of a CONCATENATION on the last axis with the one-pass float SiLUs that feed
// it (kSiluFloatKernel, kSiluAddFloatKernel; the CSP blocks of YOLOX and YOLOv5 concatenate two
// SiLU branches): the concatenation computes each such input's SiLU a cache-sized chunk of rows
// at a time and copies the chunk into its columns, so the SiLU outputs are never stored and read
// back. Other inputs are copied. The same bytes: the same SiLU loops, then copies.
//
// Applies when: float32, no fused activation, axis the last one; at least one input made by a
// one-pass SiLU (not folded) whose only reader is the concatenation and which is not a graph
// output; every input of the output's outer shape; intermediates are not kept.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "graph/graph.h"
#include "runtime/kernel.h"

namespace qdet::rt {

struct ConcatSilu {
  std::vector<int32_t> fused_ops;  // the SiLU ops taken in
  std::vector<int32_t> inputs;     // the fused op's inputs (per concatenation input: y, x or x and addend)
  std::unique_ptr<OpData> data;    // kConcatSiluKernel's op data
};

// `silu` and `silu_add` are the kernels to recognise; `plan_kernels[i]` the kernel op i runs
// (nullptr when folded).
std::optional<ConcatSilu> find_concat_silu(const graph::Graph& graph, int32_t concat_op,
                                           const std::vector<TensorRef>& tensors,
                                           const std::vector<const Kernel*>& plan_kernels,
                                           const std::vector<std::vector<TensorRef*>>& plan_inputs,
                                           const std::vector<int32_t>& producers,
                                           const std::vector<std::vector<int32_t>>& consumers);

extern const Kernel kConcatSiluKernel;

}  // namespace qdet::rt
