#include "image/resize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace qdet::image {
namespace {

constexpr int kCoefBits = 11;  // OpenCV's INTER_RESIZE_COEF_BITS
constexpr float kCoefScale = 1 << kCoefBits;

// One axis: output index d reads source indices s0[d] and s1[d] with weights w0[d], w1[d].
struct Axis {
  std::vector<int32_t> s0, s1;
  std::vector<int32_t> w0, w1;
  int two_tap_end = 0;  // first d whose s0 is the last source index (only w0 applies from there on)
};

// area_mode: OpenCV's INTER_AREA when it enlarges an axis (cv::resize then runs the linear
// path with these weights): s = floor(d * scale), f = (d + 1) - (s + 1) / scale, f = 0 when
// f <= 0, else its fractional part.
Axis make_axis(int dsize, int ssize, bool area_mode = false) {
  Axis a;
  a.s0.resize(dsize);
  a.s1.resize(dsize);
  a.w0.resize(dsize);
  a.w1.resize(dsize);
  a.two_tap_end = dsize;
  const double inv_scale = static_cast<double>(dsize) / ssize;
  const double scale = 1.0 / inv_scale;
  for (int d = 0; d < dsize; ++d) {
    float f;
    int s;
    if (area_mode) {
      s = static_cast<int>(std::floor(d * scale));
      f = static_cast<float>((d + 1) - (s + 1) * inv_scale);
      f = f <= 0.f ? 0.f : f - std::floor(f);
    } else {
      f = static_cast<float>((d + 0.5) * scale - 0.5);
      s = static_cast<int>(std::floor(f));
      f -= static_cast<float>(s);
    }
    if (s < 0) s = 0, f = 0.f;
    if (s >= ssize - 1) {
      a.two_tap_end = std::min(a.two_tap_end, d);
      s = ssize - 1, f = 0.f;
    }
    a.s0[d] = s;
    a.s1[d] = std::min(s + 1, ssize - 1);
    // saturate_cast<short>(float) rounds half to even, as lrintf does in the default mode.
    a.w0[d] = static_cast<int32_t>(std::lrintf((1.f - f) * kCoefScale));
    a.w1[d] = static_cast<int32_t>(std::lrintf(f * kCoefScale));
  }
  return a;
}

inline uint8_t vertical(int32_t h0, int32_t h1, int32_t b0, int32_t b1) {
  // OpenCV packs h >> 4 to int16 and takes the high half of the int16 x int16 product.
  const int32_t v = ((((h0 >> 4) * b0) >> 16) + (((h1 >> 4) * b1) >> 16) + 2) >> 2;
  return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

// Horizontal pass of one source row into `out` (dst_width * CN int32 values).
template <int CN>
void horizontal_row(const uint8_t* src, const Axis& ax, int dst_width, int32_t* out) {
  const int32_t* s0 = ax.s0.data();
  const int32_t* w0 = ax.w0.data();
  const int32_t* w1 = ax.w1.data();
  int d = 0;
  for (; d < ax.two_tap_end; ++d) {
    const uint8_t* p = src + s0[d] * CN;
    const int32_t a0 = w0[d], a1 = w1[d];
    for (int c = 0; c < CN; ++c) out[d * CN + c] = p[c] * a0 + p[c + CN] * a1;
  }
  for (; d < dst_width; ++d) {
    const uint8_t* p = src + s0[d] * CN;
    for (int c = 0; c < CN; ++c) out[d * CN + c] = p[c] * (1 << kCoefBits);
  }
}

template <int CN>
void resize_linear(const uint8_t* src, int sw, int sh, size_t sstride, uint8_t* dst, int dw,
                   int dh, size_t dstride, bool area_mode = false) {
  const Axis ax = make_axis(dw, sw, area_mode);
  const Axis ay = make_axis(dh, sh, area_mode);
  const size_t n = static_cast<size_t>(dw) * CN;
  std::vector<int32_t> buffer(2 * n);
  int32_t* rows[2] = {buffer.data(), buffer.data() + n};
  int row_y[2] = {-1, -1};  // which source row each buffer holds
  auto get_row = [&](int sy, int keep) -> const int32_t* {
    for (int i = 0; i < 2; ++i)
      if (row_y[i] == sy) return rows[i];
    const int slot = (row_y[0] == keep) ? 1 : 0;
    horizontal_row<CN>(src + static_cast<size_t>(sy) * sstride, ax, dw, rows[slot]);
    row_y[slot] = sy;
    return rows[slot];
  };
  for (int dy = 0; dy < dh; ++dy) {
    const int y0 = ay.s0[dy], y1 = ay.s1[dy];
    const int32_t* h0 = get_row(y0, y1);
    const int32_t* h1 = get_row(y1, y0);
    const int32_t b0 = ay.w0[dy], b1 = ay.w1[dy];
    uint8_t* out = dst + static_cast<size_t>(dy) * dstride;
    for (size_t i = 0; i < n; ++i) out[i] = vertical(h0[i], h1[i], b0, b1);
  }
}

// OpenCV turns INTER_LINEAR with an exact 2x reduction into INTER_AREA (resizeAreaFast).
void resize_half(const uint8_t* src, size_t sstride, uint8_t* dst, int dw, int dh,
                 size_t dstride, int cn) {
  for (int dy = 0; dy < dh; ++dy) {
    const uint8_t* r0 = src + static_cast<size_t>(2 * dy) * sstride;
    const uint8_t* r1 = r0 + sstride;
    uint8_t* out = dst + static_cast<size_t>(dy) * dstride;
    for (int dx = 0; dx < dw; ++dx)
      for (int c = 0; c < cn; ++c) {
        const int i = 2 * dx * cn + c;
        out[dx * cn + c] = static_cast<uint8_t>((r0[i] + r0[i + cn] + r1[i] + r1[i + cn] + 2) >> 2);
      }
  }
}

// OpenCV's computeResizeAreaTab: the source pixels (and their weights) averaged into each output
// index when reducing ssize to dsize; indices premultiplied by the channel count.
struct AreaTap {
  int d, s;
  float alpha;
};
std::vector<AreaTap> area_taps(int ssize, int dsize, int cn) {
  const double scale = 1.0 / (static_cast<double>(dsize) / ssize);
  std::vector<AreaTap> taps;
  for (int d = 0; d < dsize; ++d) {
    const double fs1 = d * scale, fs2 = fs1 + scale;
    const double cell = std::min(scale, ssize - fs1);
    int s1 = static_cast<int>(std::ceil(fs1)), s2 = static_cast<int>(std::floor(fs2));
    s2 = std::min(s2, ssize - 1);
    s1 = std::min(s1, s2);
    if (s1 - fs1 > 1e-3) taps.push_back({d * cn, (s1 - 1) * cn, static_cast<float>((s1 - fs1) / cell)});
    for (int s = s1; s < s2; ++s) taps.push_back({d * cn, s * cn, static_cast<float>(1.0 / cell)});
    if (fs2 - s2 > 1e-3)
      taps.push_back({d * cn, s2 * cn, static_cast<float>(std::min(std::min(fs2 - s2, 1.0), cell) / cell)});
  }
  return taps;
}

// OpenCV's resizeArea_<uchar, float>: per source row, a float sum of its taps per output value;
// per output row, the float sum of those rows times their vertical weights, rounded to nearest
// (ties to even) and saturated. The order of the float operations is OpenCV's.
void resize_area_reduce(const uint8_t* src, int sw, int sh, size_t sstride, uint8_t* dst, int dw, int dh,
                        size_t dstride, int cn) {
  const std::vector<AreaTap> xt = area_taps(sw, dw, cn);
  const std::vector<AreaTap> yt = area_taps(sh, dh, 1);
  const size_t n = static_cast<size_t>(dw) * cn;
  std::vector<float> buf(n), sum(n, 0.f);
  auto flush = [&](int dy) {
    uint8_t* out = dst + static_cast<size_t>(dy) * dstride;
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(std::clamp(std::lrintf(sum[i]), 0L, 255L));
  };
  int prev = yt.empty() ? 0 : yt[0].d;
  for (const AreaTap& y : yt) {
    const uint8_t* row = src + static_cast<size_t>(y.s) * sstride;
    std::fill(buf.begin(), buf.end(), 0.f);
    for (const AreaTap& x : xt) {
      for (int c = 0; c < cn; ++c) {
        const float t = static_cast<float>(row[x.s + c]) * x.alpha;
        buf[x.d + c] = buf[x.d + c] + t;
      }
    }
    if (y.d != prev) {
      flush(prev);
      for (size_t i = 0; i < n; ++i) sum[i] = y.alpha * buf[i];
      prev = y.d;
    } else {
      for (size_t i = 0; i < n; ++i) sum[i] = sum[i] + y.alpha * buf[i];
    }
  }
  flush(prev);
}

}  // namespace

void resize_area_into(const uint8_t* src, int sw, int sh, size_t sstride, uint8_t* dst, int dw, int dh,
                      size_t dstride, int cn) {
  if (sw == dw && sh == dh) {
    for (int y = 0; y < sh; ++y) std::memcpy(dst + y * dstride, src + y * sstride, static_cast<size_t>(sw) * cn);
    return;
  }
  if (sw == 2 * dw && sh == 2 * dh) {
    resize_half(src, sstride, dst, dw, dh, dstride, cn);
    return;
  }
  if (sw >= dw && sh >= dh) {
    resize_area_reduce(src, sw, sh, sstride, dst, dw, dh, dstride, cn);
    return;
  }
  switch (cn) {
    case 1: resize_linear<1>(src, sw, sh, sstride, dst, dw, dh, dstride, true); break;
    case 2: resize_linear<2>(src, sw, sh, sstride, dst, dw, dh, dstride, true); break;
    case 3: resize_linear<3>(src, sw, sh, sstride, dst, dw, dh, dstride, true); break;
    case 4: resize_linear<4>(src, sw, sh, sstride, dst, dw, dh, dstride, true); break;
    default: break;
  }
}

Result<Image> resize_area(const Image& src, int width, int height) {
  QDET_TRY(check_image_dims(src.width, src.height, src.channels, "resize source"));
  QDET_TRY(check_image_dims(width, height, src.channels, "resize target"));
  Image dst(width, height, src.channels);
  resize_area_into(src.pixels.data(), src.width, src.height, src.row_bytes(), dst.pixels.data(), width, height,
                   dst.row_bytes(), src.channels);
  return dst;
}

void resize_bilinear_into(const uint8_t* src, int sw, int sh, size_t sstride, uint8_t* dst, int dw,
                          int dh, size_t dstride, int cn) {
  if (sw == dw && sh == dh) {
    for (int y = 0; y < sh; ++y)
      std::memcpy(dst + y * dstride, src + y * sstride, static_cast<size_t>(sw) * cn);
    return;
  }
  if (sw == 2 * dw && sh == 2 * dh) {
    resize_half(src, sstride, dst, dw, dh, dstride, cn);
    return;
  }
  switch (cn) {
    case 1: resize_linear<1>(src, sw, sh, sstride, dst, dw, dh, dstride); break;
    case 2: resize_linear<2>(src, sw, sh, sstride, dst, dw, dh, dstride); break;
    case 3: resize_linear<3>(src, sw, sh, sstride, dst, dw, dh, dstride); break;
    case 4: resize_linear<4>(src, sw, sh, sstride, dst, dw, dh, dstride); break;
    default: break;
  }
}

Result<Image> resize_bilinear(const Image& src, int width, int height) {
  QDET_TRY(check_image_dims(src.width, src.height, src.channels, "resize source"));
  QDET_TRY(check_image_dims(width, height, src.channels, "resize target"));
  Image dst(width, height, src.channels);
  resize_bilinear_into(src.pixels.data(), src.width, src.height, src.row_bytes(), dst.pixels.data(),
                       width, height, dst.row_bytes(), src.channels);
  return dst;
}

Image resize_bilinear_reference(const Image& src, int width, int height) {
  const int cn = src.channels;
  Image dst(width, height, cn);
  if (src.width == width && src.height == height) return src;
  const bool area = src.width == 2 * width && src.height == 2 * height;
  const Axis ax = make_axis(width, src.width);
  const Axis ay = make_axis(height, src.height);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < cn; ++c) {
        if (area) {
          const int sum = src.at(2 * x, 2 * y)[c] + src.at(2 * x + 1, 2 * y)[c] +
                          src.at(2 * x, 2 * y + 1)[c] + src.at(2 * x + 1, 2 * y + 1)[c];
          dst.at(x, y)[c] = static_cast<uint8_t>((sum + 2) >> 2);
          continue;
        }
        auto h = [&](int sy) {
          return src.at(ax.s0[x], sy)[c] * ax.w0[x] + src.at(ax.s1[x], sy)[c] * ax.w1[x];
        };
        dst.at(x, y)[c] = vertical(h(ay.s0[y]), h(ay.s1[y]), ay.w0[y], ay.w1[y]);
      }
  return dst;
}

}  // namespace qdet::image
