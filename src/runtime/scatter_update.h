// Plan-time fusion of TensorFlow's tensor_scatter_nd_update as the TFLite converter lowers it:
//   ADD(MUL(x, K), SCATTER_ND(indices, updates, shape))
// where K is a constant (1 - a 0/1 mask of the updated positions, itself folded from constants
// at plan time), or with a zero PAD of the updates in place of the SCATTER_ND (qdet's quantizer
// writes the scatter of a contiguous box as a PAD). The unfused ops write two tensor-sized
// temporaries and read them back (YOLOX's decode does this twice on [1, 3549, 85]). The same
// bytes as the unfused ops as qdet's XNNPACK kernels run them: each product and sum rounded once
// (no FMA), XNNPACK's clamp of MUL's and ADD's results to [-inf, inf] (a NaN becomes -inf),
// XNNPACK's denormals-off mode for the MUL and the ADD, and SCATTER_ND's 0 + update.
//
// Where K is +1.0 (its bits) and nothing is placed, x * K + 0 is clamped(x + 0) (a subnormal x
// reads as a zero in both): the fused op reads x, writes the output, then the other positions
// ("patches": the updated ones and any where K is not 1, each with its K; when those are more
// than an eighth of the tensor, K is read whole instead). The interpreter also gives the output
// x's memory when no op reads x afterwards (run_in_place): the pass then reads x a 16 Ki-element
// block at a time and rewrites only a block where clamped(x + 0) differs (NaN, -0, subnormals;
// checked with AVX-512, else every block is rewritten). And when x is the output of another
// scatter-update (YOLOX: the boxes' sizes after their centres), whose values are clamped(v + 0)
// wherever it placed nothing, neither NaN, -0 nor subnormal, so unchanged by a K of 1
// (run_in_place_after): only its patches are written, and the positions where the first placed
// updates when that run placed a -0 or a negative subnormal (-0 + -0 = -0 there becomes +0).
//
// Applies when: float32 throughout, no fused activations, x, K, the scatter and the output all
// of one shape (no broadcasting), under 2^31 elements; K and the indices (or paddings) constant,
// every index in range and no position updated twice, a PAD's value +0.0; MUL and ADD run by the
// XNNPACK family; the MUL's and the SCATTER_ND's outputs read only by the ADD and not graph
// outputs; intermediates not kept.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "graph/graph.h"
#include "runtime/kernel.h"

namespace qdet::rt {

struct ScatterUpdate {
  int32_t add_op = -1, mul_op = -1, scatter_op = -1;
  int32_t x = -1, k = -1, updates = -1;  // the fused op's inputs, in this order
  std::unique_ptr<OpData> data;          // kScatterUpdateKernel's op data
};

// The fusable pattern ending at ADD op `add_op`, if it is one (see above). `kernel_names` gives
// the kernel each op was prepared with; `producers` and `consumers` are graph.producers() and
// graph.consumers().
std::optional<ScatterUpdate> find_scatter_update(const graph::Graph& graph, int32_t add_op,
                                                 const std::vector<TensorRef>& tensors,
                                                 const std::vector<const char*>& kernel_names,
                                                 const std::vector<int32_t>& producers,
                                                 const std::vector<std::vector<int32_t>>& consumers);

// Makes the op data of a scatter-update write its output over x, for a plan that gives the
// output x's memory (x read by no later op, neither a graph input nor output). False (nothing
// changed) where it reads its K whole.
bool run_in_place(OpData& op_data);

// Makes `second`, the op data of a scatter-update (K its K) whose x is the output of the
// scatter-update `first`, write only the positions where its output may differ from x (see
// above), for a plan that gives its output x's memory. False (nothing changed) where it reads
// its K whole.
bool run_in_place_after(OpData& second, const TensorRef& k, const OpData& first);

// Inputs x, K, updates; output 0 the ADD's output.
extern const Kernel kScatterUpdateKernel;

}  // namespace qdet::rt
