#include "image/codec.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "base/file.h"

namespace qdet::image {

ImageFormat sniff_format(std::span<const uint8_t> bytes) {
  static constexpr uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (bytes.size() >= 3 && bytes[0] == 0xff && bytes[1] == 0xd8 && bytes[2] == 0xff)
    return ImageFormat::kJpeg;
  if (bytes.size() >= 8 && std::equal(kPng, kPng + 8, bytes.begin())) return ImageFormat::kPng;
  return ImageFormat::kUnknown;
}

Result<Image> decode_image(std::span<const uint8_t> bytes, std::string_view name) {
  switch (sniff_format(bytes)) {
    case ImageFormat::kJpeg: return decode_jpeg(bytes, name);
    case ImageFormat::kPng: return decode_png(bytes, name);
    case ImageFormat::kUnknown: break;
  }
  if (bytes.empty()) return parse_error("{}: empty file, not an image", name);
  return unsupported("{}: not a JPEG or PNG image", name);
}

Result<Image> load_image(const std::filesystem::path& path) {
  QDET_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, read_file(path));
  return decode_image(bytes, path.string());
}

Status save_image(const Image& img, const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext != ".png" && ext != ".jpg" && ext != ".jpeg")
    return invalid_argument("{}: unknown image extension (use .png, .jpg or .jpeg)", path.string());
  Result<std::vector<uint8_t>> bytes = ext == ".png" ? encode_png(img) : encode_jpeg(img);
  if (!bytes.ok()) return bytes.status().with_context(path.string());
  return write_file_atomic(path, *bytes);
}

}  // namespace qdet::image
