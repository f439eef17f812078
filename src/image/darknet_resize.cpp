#include "image/darknet_resize.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace qdet::image {

void resize_darknet_into(const float* src, int sw, int sh, float* dst, int dw, int dh, int ch,
                         std::vector<float>& scratch) {
  // A 1-pixel destination side divides by zero in darknet (scale inf, 0 * inf = NaN); there
  // only index 0 is read, so use scale 0.
  const float w_scale = dw > 1 ? static_cast<float>(sw - 1) / static_cast<float>(dw - 1) : 0.f;
  const float h_scale = dh > 1 ? static_cast<float>(sh - 1) / static_cast<float>(dh - 1) : 0.f;
  const size_t src_row = static_cast<size_t>(sw) * ch, part_row = static_cast<size_t>(dw) * ch;
  scratch.resize(part_row * sh);
  float* part = scratch.data();
  for (int r = 0; r < sh; ++r) {
    const float* s = src + r * src_row;
    float* p = part + r * part_row;
    for (int c = 0; c < dw; ++c) {
      if (c == dw - 1 || sw == 1) {
        for (int k = 0; k < ch; ++k) p[c * ch + k] = s[static_cast<size_t>(sw - 1) * ch + k];
        continue;
      }
      const float sx = static_cast<float>(c) * w_scale;
      const int ix = std::min(static_cast<int>(sx), sw - 2);
      const float dx = sx - static_cast<float>(ix);
      for (int k = 0; k < ch; ++k)
        p[c * ch + k] = (1 - dx) * s[static_cast<size_t>(ix) * ch + k] + dx * s[static_cast<size_t>(ix + 1) * ch + k];
    }
  }
  for (int r = 0; r < dh; ++r) {
    const float sy = static_cast<float>(r) * h_scale;
    const int iy = std::min(static_cast<int>(sy), sh - 1);
    const float dy = sy - static_cast<float>(iy);
    float* d = dst + r * part_row;
    const float* q0 = part + iy * part_row;
    for (size_t i = 0; i < part_row; ++i) d[i] = (1 - dy) * q0[i];
    if (r == dh - 1 || sh == 1 || iy + 1 >= sh) continue;
    const float* q1 = q0 + part_row;
    for (size_t i = 0; i < part_row; ++i) d[i] += dy * q1[i];
  }
}

void darknet_letterbox_size(int sw, int sh, int w, int h, int* new_w, int* new_h) {
  if (static_cast<float>(w) / static_cast<float>(sw) < static_cast<float>(h) / static_cast<float>(sh)) {
    *new_w = w;
    *new_h = static_cast<int>(static_cast<int64_t>(sh) * w / sw);
  } else {
    *new_h = h;
    *new_w = static_cast<int>(static_cast<int64_t>(sw) * h / sh);
  }
  *new_w = std::clamp(*new_w, 1, w);
  *new_h = std::clamp(*new_h, 1, h);
}

}  // namespace qdet::image
