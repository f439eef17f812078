#include "image/image.h"

#include <utility>

#include "base/memory.h"

namespace qdet::image {

Status check_image_dims(int64_t width, int64_t height, int64_t channels, std::string_view what) {
  if (width < 1 || height < 1)
    return invalid_argument("{}: image has no pixels ({}x{})", what, width, height);
  if (width > kMaxImageSide || height > kMaxImageSide || width * height > kMaxImagePixels)
    return invalid_argument("{}: image dimensions {}x{} exceed qdet's limit ({} per side, {} pixels)",
                            what, width, height, kMaxImageSide, kMaxImagePixels);
  if (channels < 1 || channels > 4)
    return invalid_argument("{}: {} channels (expected 1 to 4)", what, channels);
  return check_memory_budget(static_cast<uint64_t>(width * height * channels),
                             fmt::format("{}: a {}x{} image", what, width, height));
}

Image::Image(int w, int h, int c, uint8_t fill)
    : width(w), height(h), channels(c),
      pixels(static_cast<size_t>(w) * static_cast<size_t>(h) * static_cast<size_t>(c), fill) {}

void swap_red_blue(Image& img) {
  if (img.channels != 3) return;
  uint8_t* p = img.pixels.data();
  const size_t n = static_cast<size_t>(img.width) * img.height;
  for (size_t i = 0; i < n; ++i, p += 3) std::swap(p[0], p[2]);
}

}  // namespace qdet::image
