// Shared body of PAD and PADV2 for every dtype: constant paddings [rank, 2] (int32 or int64,
// non-negative), the output filled with one pad value (its bytes chosen in prepare), then the
// input copied into the interior row by row.
#pragma once

#include "runtime/kernels/reference/common.h"

namespace qdet::rt::ref {

struct PadData : OpData {
  static constexpr int kMaxRank = 8;
  int rank = 0;
  size_t element_bytes = 0;
  uint8_t value[8] = {};  // the pad value's bytes
  bool zero_value = true;
  Shape in_shape;
  int64_t out_strides[kMaxRank] = {};  // bytes
  int64_t interior_offset = 0;         // bytes
};

// Checks inputs, computes the output shape and sets PAD's pad value: 0, or the output's zero
// point for quantized tensors (so the padding means real 0, as TFLite does). PADV2 may then
// replace it with its constant_values.
Result<std::unique_ptr<PadData>> prepare_pad(PrepareContext& ctx);
Status eval_pad(EvalContext& ctx);

}  // namespace qdet::rt::ref
