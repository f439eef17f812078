// Plan-time fusion of a space-to-depth block: a CONCATENATION along channels whose every input
// is a STRIDED_SLICE of one [N, H, W, C] tensor, each taking all images and all channels and a
// strided grid of rows and columns (YOLOv5's and YOLOX's Focus: x[:, ::2, ::2], x[:, 1::2, ::2],
// ...). The fused op reads the source once and writes each output pixel's channels in place:
// the slices' outputs are never materialized. The same bytes as the unfused ops (a copy).
//
// Applies when: every slice has constant begin/end/strides, no ellipsis, new-axis or
// shrink masks, stride 1 and the full range on N and C, positive strides on H and W; each
// slice's only reader is the concatenation (and it is not a graph output); the concatenation has
// no fused activation and the same dtype and quantization in and out; intermediates are not
// kept.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "graph/graph.h"
#include "runtime/kernel.h"

namespace qdet::rt {

struct SliceConcat {
  int32_t concat_op = -1;
  int32_t source = -1;               // the tensor every slice reads
  std::vector<int32_t> slice_ops;    // in the concatenation's input order
  std::unique_ptr<OpData> data;      // kSliceConcatKernel's op data
};

// The fusable block ending at op `concat_op`, if it is one (see above). `tensors` gives the
// prepared shapes (the slices' output shapes as their kernels computed them); `producers` and
// `consumers` are graph.producers() and graph.consumers(), computed once by the caller.
std::optional<SliceConcat> find_slice_concat(const graph::Graph& graph, int32_t concat_op,
                                             const std::vector<TensorRef>& tensors,
                                             const std::vector<int32_t>& producers,
                                             const std::vector<std::vector<int32_t>>& consumers);

// Reads input 0 (the source), writes output 0 (the concatenation), with the op data above.
extern const Kernel kSliceConcatKernel;

}  // namespace qdet::rt
