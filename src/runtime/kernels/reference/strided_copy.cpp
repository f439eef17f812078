#include "runtime/kernels/reference/strided_copy.h"

namespace qdet::rt::ref {

void StridedCopy::simplify() {
  int64_t c[kMaxRank], s[kMaxRank];
  int r = 0;
  for (int d = 0; d < rank; ++d) {
    if (count[d] == 0) {  // nothing to copy at all
      rank = 1;
      count[0] = 0;
      stride[0] = 0;
      return;
    }
    if (count[d] == 1) continue;
    if (r > 0 && s[r - 1] == stride[d] * count[d]) {
      c[r - 1] *= count[d];
      s[r - 1] = stride[d];
    } else {
      c[r] = count[d];
      s[r] = stride[d];
      ++r;
    }
  }
  rank = r;
  for (int d = 0; d < r; ++d) {
    count[d] = c[d];
    stride[d] = s[d];
  }
}

void StridedCopy::run(const uint8_t* src, uint8_t* dst) const {
  const uint8_t* base = src + start;
  if (rank == 0) {
    std::memcpy(dst, base, element_bytes);
    return;
  }
  const int inner = rank - 1;
  if (count[inner] == 0) return;
  const bool contiguous = stride[inner] == static_cast<int64_t>(element_bytes);
  const size_t row_bytes = static_cast<size_t>(count[inner]) * element_bytes;
  int64_t idx[kMaxRank] = {};
  int64_t offset = 0;
  while (true) {
    if (contiguous) {
      std::memcpy(dst, base + offset, row_bytes);
      dst += row_bytes;
    } else {
      const uint8_t* p = base + offset;
      for (int64_t i = 0; i < count[inner]; ++i, p += stride[inner], dst += element_bytes)
        std::memcpy(dst, p, element_bytes);
    }
    int d = inner - 1;
    for (; d >= 0; --d) {
      ++idx[d];
      offset += stride[d];
      if (idx[d] < count[d]) break;
      offset -= stride[d] * count[d];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

}  // namespace qdet::rt::ref
