// Shared geometry of MAX_POOL_2D and AVERAGE_POOL_2D (NHWC, TFLite padding rules).
#pragma once

#include "runtime/kernels/reference/common.h"

namespace qdet::rt::ref {

struct PoolGeometry {
  int32_t batches, in_h, in_w, channels, out_h, out_w;
  int32_t filter_h, filter_w, stride_h, stride_w, pad_top, pad_left;
};

// Checks the input and computes the output shape (written to the output).
Result<PoolGeometry> prepare_pool(PrepareContext& ctx);

// fn(b, oy, ox, y_start, y_end, x_start, x_end): the window clipped to the input.
template <typename Fn>
void for_each_window(const PoolGeometry& g, Fn&& fn) {
  for (int32_t b = 0; b < g.batches; ++b)
    for (int32_t oy = 0; oy < g.out_h; ++oy)
      for (int32_t ox = 0; ox < g.out_w; ++ox) {
        const int32_t y0 = oy * g.stride_h - g.pad_top;
        const int32_t x0 = ox * g.stride_w - g.pad_left;
        fn(b, oy, ox, std::max(y0, 0), std::min(y0 + g.filter_h, g.in_h), std::max(x0, 0),
           std::min(x0 + g.filter_w, g.in_w));
      }
}

}  // namespace qdet::rt::ref
