// A byte-generic N-d copy: the output is written in order, element (i0, i1, ...) read from
// src + start + sum(i_k * stride_k) (byte strides, possibly negative or zero). SLICE,
// STRIDED_SLICE, TRANSPOSE and BROADCAST_TO are this copy with different strides.
#pragma once

#include <cstdint>
#include <cstring>

#include "base/status.h"
#include "runtime/kernel.h"

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

// `rows` runs of `row_bytes` bytes, run r read from src + r * src_stride and written to
// dst + r * dst_stride. Runs of 1, 2, 3, 4, 6, 8, 12 and 16 bytes (a pixel of an RGB image, of
// a space-to-depth slice, ...) are fixed-size moves instead of memcpy calls.
void copy_rows(uint8_t* dst, int64_t dst_stride, const uint8_t* src, int64_t src_stride, int64_t rows,
               size_t row_bytes);

// Whether copy_rows has a fixed-size loop for runs of `row_bytes`.
bool has_short_rows(size_t row_bytes);

// The kernels that are one StridedCopy from input 0 to output 0 (SLICE, STRIDED_SLICE,
// TRANSPOSE, BROADCAST_TO, TILE, DEPTH_TO_SPACE, SPACE_TO_DEPTH): prepare plans the copy and
// ends with set_strided_copy (the copy simplified and kept as the op's data, the output
// shape set); strided_copy_eval runs it.
Status set_strided_copy(PrepareContext& ctx, StridedCopy copy, Shape out_shape);
Status strided_copy_eval(EvalContext& ctx);

}  // namespace qdet::rt::ref
