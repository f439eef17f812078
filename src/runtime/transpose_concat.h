// Plan-time fusion of the NCHW-style detector head join that ONNX exports carry into TFLite
// (YOLOX's and YOLOv5's heads): each level's [N, H, W, C] map is TRANSPOSEd to [N, C, H, W],
// RESHAPEd to [N, C, H*W], the levels CONCATENATEd on the last axis to [N, C, S], and the result
// TRANSPOSEd back to [N, S, C]. Row h*W + w of level i in the output is pixel (h, w) of that
// level's NHWC map, so the whole chain is one contiguous copy of each level into its rows: the
// three intermediate tensors are never written. The same bytes (only copies), any dtype.
//
// Applies when: the first transposes' permutation is [0, 3, 1, 2] of a 4-D input, each reshape
// keeps [N, C] and flattens [H, W], the concatenation is on axis 2 of rank-3 tensors without a
// fused activation, the last transpose's permutation is [0, 2, 1]; every intermediate is read
// only by the next op of the chain and is not a graph output; dtypes and quantization are the
// same throughout; intermediates are not kept.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "graph/graph.h"
#include "runtime/kernel.h"

namespace qdet::rt {

struct TransposeConcat {
  int32_t last_op = -1;            // the final TRANSPOSE, which runs the fused copy
  std::vector<int32_t> fused_ops;  // the first transposes, the reshapes and the concatenation
  std::vector<int32_t> sources;    // each level's [N, H, W, C] map, in the concatenation's order
  std::unique_ptr<OpData> data;    // kTransposeConcatKernel's op data
};

// The fusable chain ending at TRANSPOSE op `last_op`, if it is one (see above). `tensors` gives
// the prepared shapes; `producers` and `consumers` are graph.producers() and graph.consumers().
std::optional<TransposeConcat> find_transpose_concat(const graph::Graph& graph, int32_t last_op,
                                                     const std::vector<TensorRef>& tensors,
                                                     const std::vector<int32_t>& producers,
                                                     const std::vector<std::vector<int32_t>>& consumers);

// Inputs: the levels' maps; output 0: the final TRANSPOSE's output.
extern const Kernel kTransposeConcatKernel;

}  // namespace qdet::rt
