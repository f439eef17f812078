// RESIZE_BILINEAR as TFLite computes it (resize_bilinear.cc, generic-optimized build):
//   float32 (reference_ops::ResizeBilinear): scale = in/out (or (in-1)/(out-1) with
//     align_corners), source = x * scale, or (x + 0.5) * scale - 0.5 with half_pixel_centers;
//     lower = max(floor(src), 0), upper = min(ceil(src), in-1), and the weights use the
//     unclamped source. (A source of -0.25 gives lower = upper = 0 with weights 1.25 and -0.25:
//     the first pixel, as in TFLite.)
//   uint8 (optimized_ops ResizeBilinearGenericSmallChannel): the same float coordinates, the
//     four weights as products (1-dy)(1-dx), (1-dy)dx, dy(1-dx), dy*dx, the sum of value x
//     weight in that order plus 0.5, truncated;
//   int8, int16 (reference_ops::ResizeBilinearInteger): coordinates in 10-bit fixed point,
//     scale_10 = (1024 * in + out / 2) / out (align_corners: (1024 * (in-1) + (out-1)/2) /
//     (out-1)), source = x * scale_10 (half_pixel_centers: + scale_10 / 2 - 512); the weighted
//     sum in 20-bit fixed point, rounded half away from zero.
// Values move without requantization: TFLite ignores the tensors' scales (the quantizer gives
// the output the input's).
#include <cmath>

#include "runtime/kernels/reference/resize.h"

namespace qdet::rt::ref {
namespace {

struct Interp {
  float src;
  int32_t lo, hi;
};

Interp interp(int32_t x, float scale, bool half_pixel, int32_t in) {
  const float src = half_pixel ? (static_cast<float>(x) + 0.5f) * scale - 0.5f
                               : static_cast<float>(x) * scale;
  return {src, std::max(static_cast<int32_t>(std::floor(src)), 0),
          std::min(static_cast<int32_t>(std::ceil(src)), in - 1)};
}

struct InterpFixed {
  int32_t src, lo, hi;  // src in 1/1024
};

InterpFixed interp_fixed(int32_t x, int32_t scale_10, bool half_pixel, int32_t in) {
  const int32_t src = half_pixel ? x * scale_10 + scale_10 / 2 - (1 << 9) : x * scale_10;
  return {src, std::max(src / (1 << 10), 0), std::min((src + (1 << 10) - 1) / (1 << 10), in - 1)};
}

Status prepare(PrepareContext& ctx) {
  if (ctx.inputs.size() >= 1 && ctx.inputs[0]) {
    const DType t = ctx.inputs[0]->dtype;
    if (t != DType::kFloat32 && t != DType::kInt8 && t != DType::kUInt8 && t != DType::kInt16)
      return no_kernel_for_dtype(t);
  }
  QDET_ASSIGN_OR_RETURN(auto d, prepare_resize(ctx));
  return keep_op_data(ctx, std::move(d));
}

std::pair<float, float> float_scales(const ResizeData& d) {
  float h_scale = static_cast<float>(d.in_h) / d.out_h;
  float w_scale = static_cast<float>(d.in_w) / d.out_w;
  if (d.align_corners && d.out_h > 1) h_scale = static_cast<float>(d.in_h - 1) / (d.out_h - 1);
  if (d.align_corners && d.out_w > 1) w_scale = static_cast<float>(d.in_w - 1) / (d.out_w - 1);
  return {h_scale, w_scale};
}

// fn(b, iy, dy, ix, dx) for every output pixel in order, from the float source coordinates
// (TFLite's float kernel, and its uint8 one).
template <typename Fn>
void for_each_float_pixel(const ResizeData& d, Fn fn) {
  const auto [h_scale, w_scale] = float_scales(d);
  for (int32_t b = 0; b < d.batches; ++b)
    for (int32_t y = 0; y < d.out_h; ++y) {
      const Interp iy = interp(y, h_scale, d.half_pixel_centers, d.in_h);
      const float dy = iy.src - static_cast<float>(iy.lo);
      for (int32_t x = 0; x < d.out_w; ++x) {
        const Interp ix = interp(x, w_scale, d.half_pixel_centers, d.in_w);
        fn(b, iy, dy, ix, ix.src - static_cast<float>(ix.lo));
      }
    }
}

void resize(const ResizeData& d, const float* in, float* out) {
  const int32_t c_n = d.channels;
  auto at = [&](int32_t b, int32_t y, int32_t x, int32_t c) {
    return in[((static_cast<size_t>(b) * d.in_h + y) * d.in_w + x) * c_n + c];
  };
  for_each_float_pixel(d, [&](int32_t b, const Interp& iy, float dy, const Interp& ix, float dx) {
    for (int32_t c = 0; c < c_n; ++c) {
      *out++ = at(b, iy.lo, ix.lo, c) * (1 - dy) * (1 - dx) +
               at(b, iy.hi, ix.lo, c) * dy * (1 - dx) +
               at(b, iy.lo, ix.hi, c) * (1 - dy) * dx + at(b, iy.hi, ix.hi, c) * dy * dx;
    }
  });
}

void resize(const ResizeData& d, const uint8_t* in, uint8_t* out) {
  const int32_t c_n = d.channels;
  auto offset = [&](int32_t b, int32_t y, int32_t x) {
    return ((static_cast<size_t>(b) * d.in_h + y) * d.in_w + x) * c_n;
  };
  for_each_float_pixel(d, [&](int32_t b, const Interp& iy, float dy, const Interp& ix, float dx) {
    const size_t o[4] = {offset(b, iy.lo, ix.lo), offset(b, iy.lo, ix.hi),
                         offset(b, iy.hi, ix.lo), offset(b, iy.hi, ix.hi)};
    const float w[4] = {(1 - dy) * (1 - dx), (1 - dy) * dx, dy * (1 - dx), dy * dx};
    for (int32_t c = 0; c < c_n; ++c)
      *out++ = static_cast<uint8_t>(in[o[0] + c] * w[0] + in[o[1] + c] * w[1] +
                                    in[o[2] + c] * w[2] + in[o[3] + c] * w[3] + 0.5f);
  });
}

int32_t fixed_scale(int32_t in, int32_t out, bool align_corners) {
  if (align_corners && out > 1) return ((1 << 10) * (in - 1) + (out - 1) / 2) / (out - 1);
  return ((1 << 10) * in + out / 2) / out;
}

// int8, int16.
template <typename T>
void resize(const ResizeData& d, const T* in, T* out) {
  const int32_t h_scale = fixed_scale(d.in_h, d.out_h, d.align_corners);
  const int32_t w_scale = fixed_scale(d.in_w, d.out_w, d.align_corners);
  const int32_t c_n = d.channels;
  auto at = [&](int32_t b, int32_t y, int32_t x, int32_t c) -> int64_t {
    return in[((static_cast<size_t>(b) * d.in_h + y) * d.in_w + x) * c_n + c];
  };
  constexpr int64_t kOne = 1 << 10;
  for (int32_t b = 0; b < d.batches; ++b)
    for (int32_t y = 0; y < d.out_h; ++y) {
      const InterpFixed iy = interp_fixed(y, h_scale, d.half_pixel_centers, d.in_h);
      const int64_t dy = iy.src - kOne * iy.lo;
      for (int32_t x = 0; x < d.out_w; ++x) {
        const InterpFixed ix = interp_fixed(x, w_scale, d.half_pixel_centers, d.in_w);
        const int64_t dx = ix.src - kOne * ix.lo;
        for (int32_t c = 0; c < c_n; ++c) {
          const int64_t sum = at(b, iy.lo, ix.lo, c) * (kOne - dy) * (kOne - dx) +
                              at(b, iy.hi, ix.lo, c) * dy * (kOne - dx) +
                              at(b, iy.lo, ix.hi, c) * (kOne - dy) * dx +
                              at(b, iy.hi, ix.hi, c) * dy * dx;
          const int64_t round = sum > 0 ? (1 << 19) : -(1 << 19);
          *out++ = static_cast<T>((sum + round) / (1 << 20));
        }
      }
    }
}

Status eval(EvalContext& ctx) {
  const auto& d = *op_data_as<ResizeData>(ctx);
  return with_typed_io<float, uint8_t, int8_t, int16_t>(ctx, "RESIZE_BILINEAR",
                                                        [&](const auto* in, auto* out) { resize(d, in, out); });
}

}  // namespace

const Kernel kResizeBilinear = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
