// Shared geometry of the reductions (MEAN, SUM, REDUCE_MAX, quantized or not): the axes come
// from a constant int32 input (negative and repeated axes allowed, TFLite's ResolveAxis), the
// output keeps reduced dims as 1 with keep_dims and drops them otherwise, and the input is
// walked in order, each element added into its output (TFLite's reference Reduce order).
#pragma once

#include "runtime/kernels/reference/common.h"

namespace qdet::rt::ref {

struct ReduceGeometry {
  Shape in_shape;
  std::vector<int64_t> axes;            // as given (TFLite's special 4-D path reads them raw)
  std::vector<bool> reduced;            // per input dim
  int64_t reduce_count = 1;             // input elements per output element
  std::vector<int64_t> out_stride;      // output stride of each input dim (0 when reduced)
};

// Checks 2 inputs (data, constant axes) and 1 output of the input's dtype, resolves the axes
// (an axis outside [-rank, rank) is an error) and writes the output shape.
Result<ReduceGeometry> prepare_reduce(PrepareContext& ctx);

// fn(in_index, out_index) for every input element, in order.
template <typename Fn>
void for_each_reduced(const ReduceGeometry& g, Fn&& fn) {
  const int rank = static_cast<int>(g.in_shape.size());
  const int64_t n = num_elements(g.in_shape);
  int64_t idx[16] = {};
  int64_t o = 0;
  for (int64_t i = 0; i < n; ++i) {
    fn(i, o);
    advance_index(idx, rank, g.in_shape, g.out_stride, o);
  }
}

// TFLite's special MEAN path: a 4-D input, keep_dims, and exactly the axes {1, 2} or {2, 1}.
bool is_mean_over_hw(const ReduceGeometry& g, bool keep_dims);

}  // namespace qdet::rt::ref
