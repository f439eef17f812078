// RESIZE_BILINEAR, float32, exactly as TFLite's reference_ops::ResizeBilinear: scale = in/out
// (or (in-1)/(out-1) with align_corners), source = x * scale, or (x + 0.5) * scale - 0.5 with
// half_pixel_centers; lower = max(floor(src), 0), upper = min(ceil(src), in-1), and the weights
// use the unclamped source. (A source of -0.25 gives lower = upper = 0 with weights 1.25 and
// -0.25: the first pixel, as in TFLite.)
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

Status prepare(PrepareContext& ctx) {
  if (ctx.inputs.size() >= 1 && ctx.inputs[0] && ctx.inputs[0]->dtype != DType::kFloat32)
    return no_kernel_for_dtype(ctx.inputs[0]->dtype);
  QDET_ASSIGN_OR_RETURN(auto d, prepare_resize(ctx));
  ctx.op_data = std::move(d);
  return ok_status();
}

Status eval(EvalContext& ctx) {
  const auto& d = *op_data_as<ResizeData>(ctx);
  float h_scale = static_cast<float>(d.in_h) / d.out_h;
  float w_scale = static_cast<float>(d.in_w) / d.out_w;
  if (d.align_corners && d.out_h > 1) h_scale = static_cast<float>(d.in_h - 1) / (d.out_h - 1);
  if (d.align_corners && d.out_w > 1) w_scale = static_cast<float>(d.in_w - 1) / (d.out_w - 1);
  const float* in = ctx.inputs[0]->as<const float>();
  float* out = ctx.outputs[0]->as<float>();
  const int32_t c_n = d.channels;
  auto at = [&](int32_t b, int32_t y, int32_t x, int32_t c) {
    return in[((static_cast<size_t>(b) * d.in_h + y) * d.in_w + x) * c_n + c];
  };
  for (int32_t b = 0; b < d.batches; ++b)
    for (int32_t y = 0; y < d.out_h; ++y) {
      const Interp iy = interp(y, h_scale, d.half_pixel_centers, d.in_h);
      const float dy = iy.src - static_cast<float>(iy.lo);
      for (int32_t x = 0; x < d.out_w; ++x) {
        const Interp ix = interp(x, w_scale, d.half_pixel_centers, d.in_w);
        const float dx = ix.src - static_cast<float>(ix.lo);
        for (int32_t c = 0; c < c_n; ++c) {
          *out++ = at(b, iy.lo, ix.lo, c) * (1 - dy) * (1 - dx) +
                   at(b, iy.hi, ix.lo, c) * dy * (1 - dx) +
                   at(b, iy.lo, ix.hi, c) * (1 - dy) * dx + at(b, iy.hi, ix.hi, c) * dy * dx;
        }
      }
    }
  return ok_status();
}

}  // namespace

const Kernel kResizeBilinearFloat = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
