// A byte-generic N-d copy: the output is written in order, element (i0, i1, ...) read from
// src + start + sum(i_k * stride_k) (byte strides, possibly negative or zero). SLICE,
// STRIDED_SLICE, TRANSPOSE and BROADCAST_TO are this copy with different strides.
#pragma once

#include <cstdint>
#include <cstring>

#include "base/status.h"

namespace qdet::rt::ref {

struct StridedCopy {
  static constexpr int kMaxRank = 8;
  int rank = 0;
  size_t element_bytes = 1;
  int64_t start = 0;  // bytes
  int64_t count[kMaxRank] = {};
  int64_t stride[kMaxRank] = {};  // bytes

  // Drops size-1 dims and merges dims that are contiguous in the source; call once in prepare.
  void simplify();
  void run(const uint8_t* src, uint8_t* dst) const;
};

}  // namespace qdet::rt::ref
