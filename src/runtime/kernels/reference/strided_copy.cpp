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

namespace {

template <size_t N>
void copy_short_rows(uint8_t* dst, int64_t dst_stride, const uint8_t* src, int64_t src_stride, int64_t rows) {
  for (int64_t r = 0; r < rows; ++r, src += src_stride, dst += dst_stride) std::memcpy(dst, src, N);
}

using ShortRows = void (*)(uint8_t*, int64_t, const uint8_t*, int64_t, int64_t);
ShortRows short_rows_for(size_t row_bytes) {
  switch (row_bytes) {
    case 1: return copy_short_rows<1>;
    case 2: return copy_short_rows<2>;
    case 3: return copy_short_rows<3>;
    case 4: return copy_short_rows<4>;
    case 6: return copy_short_rows<6>;
    case 8: return copy_short_rows<8>;
    case 12: return copy_short_rows<12>;
    case 16: return copy_short_rows<16>;
    default: return nullptr;
  }
}

}  // namespace

bool has_short_rows(size_t row_bytes) { return short_rows_for(row_bytes) != nullptr; }

void copy_rows(uint8_t* dst, int64_t dst_stride, const uint8_t* src, int64_t src_stride, int64_t rows,
               size_t row_bytes) {
  if (const ShortRows short_rows = short_rows_for(row_bytes)) {
    short_rows(dst, dst_stride, src, src_stride, rows);
    return;
  }
  for (int64_t r = 0; r < rows; ++r, src += src_stride, dst += dst_stride) std::memcpy(dst, src, row_bytes);
}

void StridedCopy::run(const uint8_t* src, uint8_t* dst) const {
  const uint8_t* base = src + start;
  if (rank == 0) {
    std::memcpy(dst, base, element_bytes);
    return;
  }
  int inner = rank - 1;
  if (count[inner] == 0) return;
  const bool contiguous = stride[inner] == static_cast<int64_t>(element_bytes);
  const size_t row_bytes = static_cast<size_t>(count[inner]) * element_bytes;
  // Short contiguous rows: the next dim's loop runs inside one specialised copy.
  const ShortRows short_rows = contiguous && rank >= 2 ? short_rows_for(row_bytes) : nullptr;
  if (short_rows) --inner;
  int64_t idx[kMaxRank] = {};
  int64_t offset = 0;
  while (true) {
    if (short_rows) {
      short_rows(dst, static_cast<int64_t>(row_bytes), base + offset, stride[inner], count[inner]);
      dst += count[inner] * static_cast<int64_t>(row_bytes);
    } else if (contiguous) {
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

namespace {

struct StridedCopyData : OpData {
  StridedCopy copy;
};

}  // namespace

Status set_strided_copy(PrepareContext& ctx, StridedCopy copy, Shape out_shape) {
  auto d = std::make_unique<StridedCopyData>();
  d->copy = copy;
  d->copy.simplify();
  ctx.outputs[0]->shape = std::move(out_shape);
  return keep_op_data(ctx, std::move(d));
}

Status strided_copy_eval(EvalContext& ctx) {
  op_data_as<StridedCopyData>(ctx)->copy.run(ctx.inputs[0]->data, ctx.outputs[0]->data);
  return ok_status();
}

}  // namespace qdet::rt::ref
