// Image: 8-bit pixels, rows top to bottom, interleaved channels (HWC), no row padding.
// Decoded images are always 3-channel RGB (grayscale, palette and RGBA inputs are converted);
// other channel counts (1..4) exist only for intermediate buffers built by callers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace qdet::image {

// Limits on what qdet accepts from a file: a side above 32768 or more than 2^27 pixels
// (134 Mpx, 400 MB as RGB) is rejected before any pixel memory is allocated.
inline constexpr int kMaxImageSide = 32768;
inline constexpr int64_t kMaxImagePixels = int64_t{1} << 27;

// ok when 1 <= width,height <= kMaxImageSide, width*height <= kMaxImagePixels and
// 1 <= channels <= 4; otherwise an error naming `what` (usually the file) and the dimensions.
Status check_image_dims(int64_t width, int64_t height, int64_t channels, std::string_view what);

struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<uint8_t> pixels;  // height * width * channels bytes

  Image() = default;
  // Allocates width*height*channels bytes filled with `fill`. Callers check dims first
  // (check_image_dims) when they come from untrusted input.
  Image(int width, int height, int channels, uint8_t fill = 0);

  bool empty() const { return pixels.empty(); }
  size_t row_bytes() const { return static_cast<size_t>(width) * channels; }
  uint8_t* row(int y) { return pixels.data() + static_cast<size_t>(y) * row_bytes(); }
  const uint8_t* row(int y) const { return pixels.data() + static_cast<size_t>(y) * row_bytes(); }
  uint8_t* at(int x, int y) { return row(y) + static_cast<size_t>(x) * channels; }
  const uint8_t* at(int x, int y) const { return row(y) + static_cast<size_t>(x) * channels; }
};

// RGB <-> BGR in place (3-channel only).
void swap_red_blue(Image& img);

}  // namespace qdet::image
