// JPEG through libjpeg-turbo's classic API. libjpeg reports fatal errors through error_exit,
// which must not return: ours formats the message and longjmps back to the setjmp in the
// function that owns the codec object. Only plain C objects and objects owned by the caller
// live across setjmp, so nothing with a destructor is skipped by the jump.
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

// jpeglib.h needs size_t and FILE declared first.
#include <jerror.h>
#include <jpeglib.h>

#include "base/log.h"
#include "image/codec.h"

namespace qdet::image {
namespace {

struct JpegError {
  jpeg_error_mgr mgr;  // first member: libjpeg hands us a pointer to it
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool all_rows_read;  // set before jpeg_finish_decompress
  bool saw_eof;        // the data ended before an EOI marker
  char warning[JMSG_LENGTH_MAX];  // the first warning about damaged data, reported once
};

[[noreturn]] void jpeg_error_exit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Warnings (msg_level -1) are ignored like PIL ignores them ("extraneous bytes before marker"),
// except a truncated file. At the end of the data libjpeg warns JWRN_JPEG_EOF and inserts an EOI
// marker; when the entropy decoder then still needs bits it warns JWRN_HIT_MARKER and would pad
// the rest of the picture with grey. That pair is an error (PIL refuses truncated files too); a
// file missing only its EOI marker (EOF without HIT_MARKER) decodes fully and is accepted.
void jpeg_emit_message(j_common_ptr cinfo, int msg_level) {
  if (msg_level >= 0) return;  // trace messages
  cinfo->err->num_warnings++;
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  if (cinfo->err->msg_code == JWRN_JPEG_EOF) err->saw_eof = true;
  // Damaged entropy-coded data (bad Huffman codes, markers in the wrong place) still decodes,
  // as in PIL, but the picture is not what was encoded: say so once. Extraneous bytes between
  // markers damage nothing and stay silent.
  if (err->warning[0] == '\0' && cinfo->err->msg_code != JWRN_EXTRANEOUS_DATA &&
      cinfo->err->msg_code != JWRN_JPEG_EOF)
    (*cinfo->err->format_message)(cinfo, err->warning);
  // A progressive file cut between scans has no HIT_MARKER but is missing detail: refuse it too.
  const bool progressive = reinterpret_cast<j_decompress_ptr>(cinfo)->progressive_mode;
  if (err->saw_eof && !err->all_rows_read &&
      (cinfo->err->msg_code == JWRN_HIT_MARKER || progressive)) {
    std::snprintf(err->message, sizeof(err->message), "file is truncated (premature end of JPEG data)");
    std::longjmp(err->jump, 1);
  }
}

void install_error_handler(JpegError* err, j_common_ptr cinfo) {
  cinfo->err = jpeg_std_error(&err->mgr);
  err->mgr.error_exit = jpeg_error_exit;
  err->mgr.emit_message = jpeg_emit_message;
  err->message[0] = '\0';
  err->warning[0] = '\0';
  err->all_rows_read = false;
  err->saw_eof = false;
}

// Adobe CMYK JPEGs store inverted ink (255 = no ink), which is what libjpeg hands back.
void cmyk_to_rgb(const uint8_t* cmyk, uint8_t* rgb, int width) {
  for (int x = 0; x < width; ++x, cmyk += 4, rgb += 3) {
    const int k = cmyk[3];
    rgb[0] = static_cast<uint8_t>((cmyk[0] * k + 127) / 255);
    rgb[1] = static_cast<uint8_t>((cmyk[1] * k + 127) / 255);
    rgb[2] = static_cast<uint8_t>((cmyk[2] * k + 127) / 255);
  }
}

struct DecodeState {
  Image* out;
  Status* status;
  std::string_view name;
  std::vector<uint8_t>* row_buffer;  // for CMYK rows
};

// Returns false with err.message set on a libjpeg error; false with *state.status set on our own.
bool decode_jpeg_impl(std::span<const uint8_t> bytes, const JpegDecodeOptions& options,
                      DecodeState& state, JpegError& err) {
  jpeg_decompress_struct cinfo;
  install_error_handler(&err, reinterpret_cast<j_common_ptr>(&cinfo));
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);

  Status dims = check_image_dims(cinfo.image_width, cinfo.image_height, 3, state.name);
  if (!dims.ok()) {
    *state.status = dims;
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  const bool cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;  // libjpeg-turbo expands grayscale to RGB
  cinfo.dct_method = options.fast_idct ? JDCT_IFAST : JDCT_ISLOW;
  jpeg_start_decompress(&cinfo);

  const int width = static_cast<int>(cinfo.output_width);
  const int height = static_cast<int>(cinfo.output_height);
  if (cinfo.output_components != (cmyk ? 4 : 3)) {
    *state.status = parse_error("{}: unexpected JPEG output with {} components", state.name,
                                cinfo.output_components);
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  *state.out = Image(width, height, 3);
  if (cmyk) state.row_buffer->resize(static_cast<size_t>(width) * 4);
  while (cinfo.output_scanline < cinfo.output_height) {
    const int y = static_cast<int>(cinfo.output_scanline);
    JSAMPROW row = cmyk ? state.row_buffer->data() : state.out->row(y);
    jpeg_read_scanlines(&cinfo, &row, 1);
    if (cmyk) cmyk_to_rgb(state.row_buffer->data(), state.out->row(y), width);
  }
  err.all_rows_read = true;
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

struct EncodeState {
  const Image* img;
  int quality;
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
};

bool encode_jpeg_impl(EncodeState& state, JpegError& err) {
  jpeg_compress_struct cinfo;
  install_error_handler(&err, reinterpret_cast<j_common_ptr>(&cinfo));
  if (setjmp(err.jump)) {
    jpeg_destroy_compress(&cinfo);
    return false;
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, &state.buffer, &state.size);
  const Image& img = *state.img;
  cinfo.image_width = static_cast<JDIMENSION>(img.width);
  cinfo.image_height = static_cast<JDIMENSION>(img.height);
  cinfo.input_components = img.channels;
  cinfo.in_color_space = img.channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, state.quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(img.row(static_cast<int>(cinfo.next_scanline)));
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return true;
}

}  // namespace

Result<Image> decode_jpeg(std::span<const uint8_t> bytes, std::string_view name,
                          const JpegDecodeOptions& options) {
  if (sniff_format(bytes) != ImageFormat::kJpeg)
    return parse_error("{}: not a JPEG file (no SOI marker)", name);
  Image out;
  Status status;
  std::vector<uint8_t> row_buffer;
  DecodeState state{&out, &status, name, &row_buffer};
  JpegError err;
  if (!decode_jpeg_impl(bytes, options, state, err)) {
    if (!status.ok()) return status;
    return parse_error("{}: corrupt JPEG: {}", name, err.message);
  }
  if (err.warning[0] != '\0')
    log_warn("{}: damaged JPEG data, decoded anyway (the picture may be wrong): {}", name, err.warning);
  return out;
}

Result<std::vector<uint8_t>> encode_jpeg(const Image& img, int quality) {
  if (img.empty() || (img.channels != 1 && img.channels != 3))
    return invalid_argument("JPEG encoding needs a 1- or 3-channel image, got {}x{}x{}", img.width,
                            img.height, img.channels);
  if (img.width > 65500 || img.height > 65500)
    return invalid_argument("JPEG cannot hold a {}x{} image (65500 per side at most)", img.width,
                            img.height);
  if (quality < 1 || quality > 100) return invalid_argument("JPEG quality {} not in 1..100", quality);
  EncodeState state{&img, quality};
  JpegError err;
  const bool ok = encode_jpeg_impl(state, err);
  std::vector<uint8_t> out;
  if (ok) out.assign(state.buffer, state.buffer + state.size);
  std::free(state.buffer);  // jpeg_mem_dest allocates with malloc
  if (!ok) return internal_error("JPEG encoding failed: {}", err.message);
  return out;
}

}  // namespace qdet::image
