// Window padding: which TFLite padding (SAME, VALID or an explicit PAD) reproduces a source
// model's explicit pads for one spatial dim of a convolution or pooling window.
#pragma once

#include <cstdint>

#include "base/status.h"

namespace qdet::convert {

struct AxisPadding {
  int32_t before = 0, after = 0;  // the pads the windows actually reach (for an explicit PAD)
  int32_t out = 0;                // output size
  bool same = false;              // TFLite SAME pads exactly before/after
  bool valid = false;             // no padding reached at all
};

// `in` input size, `k` effective kernel ((size-1)*dilation+1), pads `begin`/`end`; `ceil_mode`
// rounds the output up (pools; the last window must start inside input + begin pad, as in
// PyTorch). The end pad that matters is the one the last window reaches: a 3x3 stride-2 conv
// with pads 1,1 on an even input reaches 1 before and 0 after, where SAME would pad 0 and 1.
Result<AxisPadding> axis_padding(int64_t in, int64_t k, int64_t stride, int64_t begin, int64_t end, bool ceil_mode);

}  // namespace qdet::convert
