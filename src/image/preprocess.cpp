#include "image/preprocess.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/named.h"
#include "image/darknet_resize.h"
#include "image/resize.h"

namespace qdet::image {
namespace {

constexpr Named<ResizeMode> kResizeModes[] = {
    {ResizeMode::kStretch, "stretch"},
    {ResizeMode::kLetterboxTopLeft, "letterbox_topleft"},
    {ResizeMode::kLetterboxCenter, "letterbox_center"},
    {ResizeMode::kLetterboxDarknet, "letterbox_darknet"},
    {ResizeMode::kLetterboxCenterArea, "letterbox_center_area"},
};
constexpr Named<ChannelOrder> kOrders[] = {{ChannelOrder::kRgb, "rgb"}, {ChannelOrder::kBgr, "bgr"}};
constexpr Named<Layout> kLayouts[] = {{Layout::kNhwc, "nhwc"}, {Layout::kNchw, "nchw"}};

template <typename E, size_t N>
Result<E> parse_name(const Named<E> (&table)[N], std::string_view name, const char* what) {
  if (const auto value = value_named(table, name)) return *value;
  return invalid_argument("unknown {} '{}' (expected one of: {})", what, name, names_of(table));
}

// Tensor channel c reads source (RGB) channel kSourceChannel[order][c].
constexpr int kSourceChannel[2][3] = {{0, 1, 2}, {2, 1, 0}};

template <typename T>
void write_tensor(const Image& resized, const Geometry& g, const T* const tables[3],
                  ChannelOrder order, Layout layout, uint8_t pad, T* out) {
  const int* sc = kSourceChannel[order == ChannelOrder::kBgr ? 1 : 0];
  const int W = g.input_width, H = g.input_height;
  const int x0 = g.pad_left, x1 = g.pad_left + g.resized_width;
  const int y0 = g.pad_top, y1 = g.pad_top + g.resized_height;
  if (layout == Layout::kNhwc) {
    const T pad_px[3] = {tables[0][pad], tables[1][pad], tables[2][pad]};
    const T* t0 = tables[0];
    const T* t1 = tables[1];
    const T* t2 = tables[2];
    for (int y = 0; y < H; ++y) {
      T* o = out + static_cast<size_t>(y) * W * 3;
      const bool inside = y >= y0 && y < y1;
      const int img_begin = inside ? x0 : W, img_end = inside ? x1 : W;
      for (int x = 0; x < img_begin; ++x, o += 3) o[0] = pad_px[0], o[1] = pad_px[1], o[2] = pad_px[2];
      if (inside) {
        const uint8_t* p = resized.row(y - y0);
        for (int x = img_begin; x < img_end; ++x, o += 3, p += 3) {
          o[0] = t0[p[sc[0]]];
          o[1] = t1[p[sc[1]]];
          o[2] = t2[p[sc[2]]];
        }
        for (int x = img_end; x < W; ++x, o += 3) o[0] = pad_px[0], o[1] = pad_px[1], o[2] = pad_px[2];
      }
    }
    return;
  }
  for (int c = 0; c < 3; ++c) {
    const T* t = tables[c];
    const T pad_v = t[pad];
    const int s = sc[c];
    T* plane = out + static_cast<size_t>(c) * W * H;
    for (int y = 0; y < H; ++y) {
      T* o = plane + static_cast<size_t>(y) * W;
      if (y < y0 || y >= y1) {
        std::fill(o, o + W, pad_v);
        continue;
      }
      std::fill(o, o + x0, pad_v);
      const uint8_t* p = resized.row(y - y0) + s;
      for (int x = x0; x < x1; ++x, p += 3) o[x] = t[*p];
      std::fill(o + x1, o + W, pad_v);
    }
  }
}

}  // namespace

const char* resize_mode_name(ResizeMode mode) { return name_of(kResizeModes, mode); }
const char* channel_order_name(ChannelOrder order) { return name_of(kOrders, order); }
const char* layout_name(Layout layout) { return name_of(kLayouts, layout); }
Result<ResizeMode> parse_resize_mode(std::string_view name) {
  return parse_name(kResizeModes, name, "resize mode");
}
Result<ChannelOrder> parse_channel_order(std::string_view name) {
  return parse_name(kOrders, name, "channel order");
}
Result<Layout> parse_layout(std::string_view name) { return parse_name(kLayouts, name, "layout"); }

Result<Geometry> plan_geometry(int source_width, int source_height, int input_width,
                               int input_height, ResizeMode mode) {
  QDET_TRY(check_image_dims(source_width, source_height, 3, "source image"));
  QDET_TRY(check_image_dims(input_width, input_height, 3, "model input"));
  Geometry g;
  g.source_width = source_width;
  g.source_height = source_height;
  g.input_width = input_width;
  g.input_height = input_height;
  if (mode == ResizeMode::kStretch) {
    g.resized_width = input_width;
    g.resized_height = input_height;
  } else if (mode == ResizeMode::kLetterboxDarknet) {
    darknet_letterbox_size(source_width, source_height, input_width, input_height,
                           &g.resized_width, &g.resized_height);
    g.pad_left = (input_width - g.resized_width) / 2;
    g.pad_top = (input_height - g.resized_height) / 2;
  } else if (mode == ResizeMode::kLetterboxCenterArea) {
    // The longer side fills the input; the other is int(input side x aspect ratio), as the
    // NanoDet ONNX demo computes it.
    const double hw = static_cast<double>(source_height) / source_width;
    if (static_cast<int64_t>(input_width) * source_height <= static_cast<int64_t>(input_height) * source_width) {
      g.resized_width = input_width;
      g.resized_height = std::clamp(static_cast<int>(input_width * hw), 1, input_height);
    } else {
      g.resized_height = input_height;
      g.resized_width = std::clamp(static_cast<int>(input_height / hw), 1, input_width);
    }
    g.pad_left = (input_width - g.resized_width) / 2;
    g.pad_top = (input_height - g.resized_height) / 2;
  } else {
    const double r = std::min(static_cast<double>(input_width) / source_width,
                              static_cast<double>(input_height) / source_height);
    double w = source_width * r, h = source_height * r;
    if (mode == ResizeMode::kLetterboxCenter) {
      w = std::nearbyint(w);  // Python's round(): half to even in the default rounding mode
      h = std::nearbyint(h);
    }
    g.resized_width = std::clamp(static_cast<int>(w), 1, input_width);
    g.resized_height = std::clamp(static_cast<int>(h), 1, input_height);
    if (mode == ResizeMode::kLetterboxCenter) {
      g.pad_left = (input_width - g.resized_width) / 2;
      g.pad_top = (input_height - g.resized_height) / 2;
    }
  }
  g.scale_x = static_cast<double>(g.resized_width) / source_width;
  g.scale_y = static_cast<double>(g.resized_height) / source_height;
  return g;
}

Result<Image> fit_image(const Image& src, int input_width, int input_height, ResizeMode mode,
                        uint8_t pad_value, Geometry* geometry) {
  QDET_ASSIGN_OR_RETURN(Geometry g,
                        plan_geometry(src.width, src.height, input_width, input_height, mode));
  Image out(input_width, input_height, src.channels, pad_value);
  if (mode == ResizeMode::kLetterboxDarknet) {
    std::vector<float> in(src.pixels.begin(), src.pixels.end()), resized, scratch;
    resized.resize(static_cast<size_t>(g.resized_width) * g.resized_height * src.channels);
    resize_darknet_into(in.data(), src.width, src.height, resized.data(), g.resized_width,
                        g.resized_height, src.channels, scratch);
    size_t i = 0;
    for (int y = 0; y < g.resized_height; ++y) {
      uint8_t* o = out.at(g.pad_left, g.pad_top + y);
      for (size_t x = 0; x < static_cast<size_t>(g.resized_width) * src.channels; ++x, ++i)
        o[x] = static_cast<uint8_t>(std::clamp(std::nearbyint(resized[i]), 0.f, 255.f));
    }
    if (geometry) *geometry = g;
    return out;
  }
  (mode == ResizeMode::kLetterboxCenterArea ? resize_area_into : resize_bilinear_into)(
      src.pixels.data(), src.width, src.height, src.row_bytes(), out.at(g.pad_left, g.pad_top), g.resized_width,
      g.resized_height, out.row_bytes(), src.channels);
  if (geometry) *geometry = g;
  return out;
}

size_t TensorFormat::byte_size() const {
  return static_cast<size_t>(width) * height * 3 * dtype_size(dtype);
}

Result<TensorBuilder> TensorBuilder::create(const TensorFormat& f) {
  QDET_TRY(check_image_dims(f.width, f.height, 3, "model input"));
  if (f.dtype != DType::kFloat32 && f.dtype != DType::kUInt8 && f.dtype != DType::kInt8)
    return unsupported("input tensors of type {} are not supported (float32, uint8, int8)",
                       dtype_name(f.dtype));
  for (int c = 0; c < 3; ++c)
    if (!(f.std[c] != 0.f) || !std::isfinite(f.std[c]) || !std::isfinite(f.mean[c]))
      return invalid_argument("normalization of channel {}: mean {} and std {} must be finite, std non-zero",
                              c, f.mean[c], f.std[c]);
  if (f.dtype != DType::kFloat32 && (!(f.quant_scale > 0.f) || !std::isfinite(f.quant_scale)))
    return invalid_argument("input quantization scale {} must be positive", f.quant_scale);
  TensorBuilder b;
  b.format_ = f;
  const int lo = f.dtype == DType::kInt8 ? -128 : 0, hi = f.dtype == DType::kInt8 ? 127 : 255;
  for (int c = 0; c < 3; ++c)
    for (int p = 0; p < 256; ++p) {
      const float v = (static_cast<float>(p) - f.mean[c]) / f.std[c];
      b.float_table_[c][p] = v;
      const double q = std::nearbyint(static_cast<double>(v) / f.quant_scale) + f.quant_zero_point;
      const int qi = static_cast<int>(std::clamp(q, static_cast<double>(lo), static_cast<double>(hi)));
      b.byte_table_[c][p] = static_cast<uint8_t>(qi);  // int8 stored as its two's-complement bits
    }
  return b;
}

Result<Geometry> TensorBuilder::build(const Image& img, std::span<uint8_t> out) {
  const TensorFormat& f = format_;
  if (img.channels != 3)
    return invalid_argument("tensor input needs a 3-channel image, got {} channels", img.channels);
  if (out.size() != f.byte_size())
    return invalid_argument("input tensor buffer has {} bytes, the format needs {}", out.size(),
                            f.byte_size());
  QDET_ASSIGN_OR_RETURN(Geometry g, plan_geometry(img.width, img.height, f.width, f.height, f.resize));
  if (f.resize == ResizeMode::kLetterboxDarknet) {
    build_darknet(img, g, out);
    return g;
  }
  const Image* resized = &img;
  if (g.resized_width != img.width || g.resized_height != img.height) {
    if (resized_.width != g.resized_width || resized_.height != g.resized_height)
      resized_ = Image(g.resized_width, g.resized_height, 3);
    (f.resize == ResizeMode::kLetterboxCenterArea ? resize_area_into : resize_bilinear_into)(
        img.pixels.data(), img.width, img.height, img.row_bytes(), resized_.pixels.data(), g.resized_width,
        g.resized_height, resized_.row_bytes(), 3);
    resized = &resized_;
  }
  if (f.dtype == DType::kFloat32) {
    const float* tables[3] = {float_table_[0].data(), float_table_[1].data(), float_table_[2].data()};
    write_tensor(*resized, g, tables, f.order, f.layout, f.pad_value, reinterpret_cast<float*>(out.data()));
  } else {
    const uint8_t* tables[3] = {byte_table_[0].data(), byte_table_[1].data(), byte_table_[2].data()};
    write_tensor(*resized, g, tables, f.order, f.layout, f.pad_value, out.data());
  }
  return g;
}

// darknet resizes the normalized float image: normalize first (the table), resize in float, then
// write (and quantize, for integer inputs) every value.
void TensorBuilder::build_darknet(const Image& img, const Geometry& g, std::span<uint8_t> out) {
  const TensorFormat& f = format_;
  const int* sc = kSourceChannel[f.order == ChannelOrder::kBgr ? 1 : 0];
  float_source_.resize(img.pixels.size());
  for (size_t i = 0; i < img.pixels.size(); i += 3)
    for (int c = 0; c < 3; ++c) float_source_[i + c] = float_table_[c][img.pixels[i + sc[c]]];
  float_resized_.resize(static_cast<size_t>(g.resized_width) * g.resized_height * 3);
  resize_darknet_into(float_source_.data(), img.width, img.height, float_resized_.data(),
                      g.resized_width, g.resized_height, 3, float_scratch_);
  std::array<float, 3> pad;
  for (int c = 0; c < 3; ++c) pad[c] = (127.5f - f.mean[c]) / f.std[c];
  const int lo = f.dtype == DType::kInt8 ? -128 : 0, hi = f.dtype == DType::kInt8 ? 127 : 255;
  auto put = [&](size_t index, float v) {
    if (f.dtype == DType::kFloat32) {
      std::memcpy(out.data() + 4 * index, &v, 4);
      return;
    }
    const double q = std::nearbyint(static_cast<double>(v) / f.quant_scale) + f.quant_zero_point;
    out[index] = static_cast<uint8_t>(static_cast<int>(std::clamp(q, double(lo), double(hi))));
  };
  const size_t W = g.input_width, H = g.input_height;
  for (size_t y = 0; y < H; ++y)
    for (size_t x = 0; x < W; ++x) {
      const bool inside = x >= size_t(g.pad_left) && x < size_t(g.pad_left + g.resized_width) &&
                          y >= size_t(g.pad_top) && y < size_t(g.pad_top + g.resized_height);
      const float* px = inside ? &float_resized_[((y - g.pad_top) * g.resized_width + (x - g.pad_left)) * 3]
                               : nullptr;
      for (size_t c = 0; c < 3; ++c) {
        const float v = px ? px[c] : pad[c];
        put(f.layout == Layout::kNhwc ? (y * W + x) * 3 + c : (c * H + y) * W + x, v);
      }
    }
}

Result<std::vector<uint8_t>> build_tensor(const Image& img, const TensorFormat& format,
                                          Geometry* geometry) {
  QDET_ASSIGN_OR_RETURN(TensorBuilder builder, TensorBuilder::create(format));
  std::vector<uint8_t> out(format.byte_size());
  QDET_ASSIGN_OR_RETURN(Geometry g, builder.build(img, out));
  if (geometry) *geometry = g;
  return out;
}

}  // namespace qdet::image
