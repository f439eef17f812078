// On-the-fly input quantization of the hybrid kernels (hybrid.h), following TFLite's portable
// tensor_utils (PortableSymmetricQuantizeFloats, PortableAsymmetricQuantizeFloats) operation
// by operation, including which steps are done in double and which in float, so that the int8
// inputs are the same bytes TFLite computes.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "runtime/kernels/reference/hybrid.h"
#include "runtime/quantization_util.h"

namespace qdet::rt::ref {

InputQuantization quantize_input_symmetric(const float* values, size_t n, int8_t* out) {
  InputQuantization q;
  if (n == 0) return q;
  const auto [lo, hi] = std::minmax_element(values, values + n);
  const float range = std::max(std::abs(*lo), std::abs(*hi));
  if (range == 0.0f) {
    std::memset(out, 0, n);
    return q;
  }
  constexpr int32_t kScale = 127;
  q.scale = range / kScale;
  const float inv = kScale / range;
  for (size_t i = 0; i < n; ++i) {
    const auto v = static_cast<int32_t>(std::round(values[i] * inv));
    out[i] = static_cast<int8_t>(std::clamp(v, -kScale, kScale));
  }
  return q;
}

InputQuantization quantize_input_asymmetric(const float* values, size_t n, int8_t* out) {
  InputQuantization q;
  if (n == 0) return q;
  constexpr int32_t kMin = -128, kMax = 127;
  const auto [lo, hi] = std::minmax_element(values, values + n);
  const double rmin = static_cast<double>(std::min(0.0f, *lo));
  const double rmax = static_cast<double>(std::max(0.0f, *hi));
  if (rmin == rmax) {
    std::memset(out, 0, n);
    return q;
  }
  const double scale = (rmax - rmin) / (kMax - kMin);
  const int32_t nudged = asymmetric_zero_point(rmin, rmax, scale, kMin, kMax);
  q.scale = static_cast<float>(scale);
  q.offset = nudged;
  const float inv = 1.0f / q.scale;
  for (size_t i = 0; i < n; ++i) {
    const auto v = static_cast<int32_t>(std::round(static_cast<float>(nudged) + values[i] * inv));
    out[i] = static_cast<int8_t>(std::clamp(v, kMin, kMax));
  }
  return q;
}

}  // namespace qdet::rt::ref
