#include "convert/padding.h"

#include <algorithm>

namespace qdet::convert {

Result<AxisPadding> axis_padding(int64_t in, int64_t k, int64_t stride, int64_t begin, int64_t end, bool ceil_mode) {
  AxisPadding p;
  const int64_t span = in + begin + end - k;
  if (span < 0 || stride < 1 || k < 1)
    return invalid_argument("kernel {} does not fit input {} with pads {},{}", k, in, begin, end);
  int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + begin) --out;
  const int64_t used_end = (out - 1) * stride + k - in - begin;  // < 0: the input's tail is unused
  p.out = static_cast<int32_t>(out);
  p.before = static_cast<int32_t>(begin);
  p.after = static_cast<int32_t>(std::max<int64_t>(used_end, 0));
  const int64_t same_out = (in + stride - 1) / stride;
  const int64_t same_total = std::max<int64_t>((same_out - 1) * stride + k - in, 0);
  p.same = out == same_out && begin == same_total / 2 && p.after == same_total - same_total / 2;
  p.valid = begin == 0 && used_end <= 0 && out == (in - k) / stride + 1;
  return p;
}

}  // namespace qdet::convert
