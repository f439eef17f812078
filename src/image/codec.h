// Image files: JPEG (libjpeg-turbo) and PNG (libpng) decode and encode.
//
// Decoding always yields 3-channel RGB: grayscale is replicated, palette expanded, alpha dropped
// (as PIL's Image.convert("RGB") does), 16-bit samples keep their high byte (as PIL does), CMYK /
// YCCK JPEGs are converted with Adobe's inverted-CMYK convention. The JPEG decoder uses
// libjpeg's defaults (accurate integer IDCT "ISLOW", fancy upsampling), which is what PIL uses,
// so decoded pixels equal PIL's on the same libjpeg-turbo. EXIF orientation is ignored (PIL's
// Image.open does not apply it either, and neither do the COCO tools).
//
// Every file is untrusted: corrupt, truncated or absurdly large images give an error naming the
// file (the `name` argument), never a crash or an abort.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "image/image.h"

namespace qdet::image {

enum class ImageFormat { kUnknown, kJpeg, kPng };

// By magic bytes.
ImageFormat sniff_format(std::span<const uint8_t> bytes);

struct JpegDecodeOptions {
  // false: libjpeg's accurate integer IDCT (JDCT_ISLOW, the default, what PIL uses).
  // true: the fast integer IDCT (JDCT_IFAST): faster, slightly different pixels.
  bool fast_idct = false;
};

Result<Image> decode_jpeg(std::span<const uint8_t> bytes, std::string_view name,
                          const JpegDecodeOptions& options = {});
Result<Image> decode_png(std::span<const uint8_t> bytes, std::string_view name);
// Either format, by magic bytes.
Result<Image> decode_image(std::span<const uint8_t> bytes, std::string_view name);
// Reads and decodes a file; errors name the path.
Result<Image> load_image(const std::filesystem::path& path);

// Encoders accept 1 (gray), 3 (RGB) channels; PNG also 2 (gray+alpha) and 4 (RGBA).
Result<std::vector<uint8_t>> encode_png(const Image& img);
Result<std::vector<uint8_t>> encode_jpeg(const Image& img, int quality = 90);
// Writes .png, .jpg or .jpeg (by extension, case-insensitive), atomically.
Status save_image(const Image& img, const std::filesystem::path& path);

}  // namespace qdet::image
