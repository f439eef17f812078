// PNG through libpng. Decoding uses the classic API (to control every transform, like PIL):
// libpng reports errors through our error function, which longjmps back to png_jmpbuf in the
// function that owns the png structs; only C objects and caller-owned objects live across it.
// Encoding uses the simplified API (png_image_write_to_memory), which reports errors as values.
#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <string>

#include "image/codec.h"

namespace qdet::image {
namespace {

struct PngReadState {
  std::span<const uint8_t> bytes;
  size_t offset = 0;
  char message[256] = {0};
  Image* out = nullptr;
  Status* status = nullptr;
  std::string_view name;
  std::vector<png_bytep>* rows = nullptr;
  bool all_rows_read = false;  // after this, a cut-off trailer (IEND) is harmless
};

void png_read_from_memory(png_structp png, png_bytep data, png_size_t length) {
  auto* st = static_cast<PngReadState*>(png_get_io_ptr(png));
  if (length > st->bytes.size() - st->offset) png_error(png, "file is truncated");
  std::memcpy(data, st->bytes.data() + st->offset, length);
  st->offset += length;
}

[[noreturn]] void png_on_error(png_structp png, png_const_charp message) {
  auto* st = static_cast<PngReadState*>(png_get_error_ptr(png));
  std::snprintf(st->message, sizeof(st->message), "%s", message);
  png_longjmp(png, 1);
}

void png_on_warning(png_structp, png_const_charp) {}  // ancillary-chunk trouble: keep going

bool decode_png_impl(PngReadState& st) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &st, png_on_error, png_on_warning);
  if (!png) {
    std::snprintf(st.message, sizeof(st.message), "out of memory");
    return false;
  }
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    std::snprintf(st.message, sizeof(st.message), "out of memory");
    return false;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return st.all_rows_read;
  }
  png_set_read_fn(png, &st, png_read_from_memory);
  png_read_info(png, info);
  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0, interlace = 0;
  png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, &interlace, nullptr, nullptr);
  Status dims = check_image_dims(width, height, 3, st.name);
  if (!dims.ok()) {
    *st.status = dims;
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  // To 8-bit RGB the way PIL's convert("RGB") does it: high byte of 16-bit samples, palette
  // expanded (transparency ignored), gray replicated, alpha dropped.
  if (bit_depth == 16) png_set_strip_16(png);
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA)
    png_set_gray_to_rgb(png);
  if (color_type & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != static_cast<size_t>(width) * 3) {
    *st.status = parse_error("{}: unexpected PNG row layout after conversion to RGB", st.name);
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  *st.out = Image(static_cast<int>(width), static_cast<int>(height), 3);
  st.rows->resize(height);
  for (png_uint_32 y = 0; y < height; ++y) (*st.rows)[y] = st.out->row(static_cast<int>(y));
  png_read_image(png, st.rows->data());
  st.all_rows_read = true;
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

}  // namespace

Result<Image> decode_png(std::span<const uint8_t> bytes, std::string_view name) {
  if (sniff_format(bytes) != ImageFormat::kPng)
    return parse_error("{}: not a PNG file (bad signature)", name);
  Image out;
  Status status;
  std::vector<png_bytep> rows;
  PngReadState st;
  st.bytes = bytes;
  st.out = &out;
  st.status = &status;
  st.name = name;
  st.rows = &rows;
  if (!decode_png_impl(st)) {
    if (!status.ok()) return status;
    return parse_error("{}: corrupt PNG: {}", name, st.message);
  }
  return out;
}

Result<std::vector<uint8_t>> encode_png(const Image& img) {
  if (img.empty() || img.channels < 1 || img.channels > 4)
    return invalid_argument("PNG encoding needs a 1- to 4-channel image, got {}x{}x{}", img.width,
                            img.height, img.channels);
  png_image image;
  std::memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(img.width);
  image.height = static_cast<png_uint_32>(img.height);
  static constexpr png_uint_32 kFormats[] = {PNG_FORMAT_GRAY, PNG_FORMAT_GA, PNG_FORMAT_RGB,
                                             PNG_FORMAT_RGBA};
  image.format = kFormats[img.channels - 1];
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&image, nullptr, &size, 0, img.pixels.data(), 0, nullptr))
    return internal_error("PNG encoding failed: {}", image.message);
  std::vector<uint8_t> out(size);
  if (!png_image_write_to_memory(&image, out.data(), &size, 0, img.pixels.data(), 0, nullptr))
    return internal_error("PNG encoding failed: {}", image.message);
  out.resize(size);
  return out;
}

}  // namespace qdet::image
