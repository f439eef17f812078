// Shared body of SPLIT and SPLIT_V for every dtype: the input cut along one axis into pieces
// of given sizes, one per output.
#pragma once

#include "runtime/kernels/reference/common.h"

namespace qdet::rt::ref {

struct SplitData : OpData {
  int64_t outer = 1;
  std::vector<size_t> piece_bytes;  // per output, per outer index
  int value_input = 0;
};

// Sets every output's shape; `sizes` holds one size per output (summing to the axis dim).
Result<std::unique_ptr<SplitData>> prepare_split(PrepareContext& ctx, const TensorRef& value,
                                                 int64_t axis_value,
                                                 const std::vector<int64_t>& sizes);
Status eval_split(EvalContext& ctx);

}  // namespace qdet::rt::ref
