// JPEG and PNG decoding on arbitrary bytes: a decoded image has the size its pixels say.
#include <span>

#include "fuzz_target.h"
#include "image/codec.h"

QDET_FUZZ_TARGET(image) {
  auto img = qdet::image::decode_image(std::span<const uint8_t>(data, size), "fuzz.img");
  if (!img.ok()) return 0;
  QDET_FUZZ_CHECK(img->width > 0 && img->height > 0);
  QDET_FUZZ_CHECK(img->pixels.size() == static_cast<size_t>(img->width) * img->height * img->channels);
  return 0;
}
