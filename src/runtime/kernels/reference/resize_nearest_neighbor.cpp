// RESIZE_NEAREST_NEIGHBOR for every dtype (a byte copy per pixel), exactly as TFLite's
// reference_ops::GetNearestNeighbor: scale = in/out (or (in-1)/(out-1) with align_corners),
// source = floor((x + offset) * scale) (rounded half away from zero with align_corners),
// offset 0.5 with half_pixel_centers, clamped to [0, in-1]. Quantized tensors must keep their
// scale and zero point.
#include <cmath>
#include <cstring>

#include "runtime/kernels/reference/resize.h"

namespace qdet::rt::ref {
namespace {

int32_t nearest(int32_t x, int32_t in, int32_t out, bool align_corners, bool half_pixel) {
  const float scale = (align_corners && out > 1) ? (in - 1) / static_cast<float>(out - 1)
                                                 : in / static_cast<float>(out);
  const float offset = half_pixel ? 0.5f : 0.0f;
  const float v = (static_cast<float>(x) + offset) * scale;
  int32_t r = std::min(align_corners ? static_cast<int32_t>(std::round(v))
                                     : static_cast<int32_t>(std::floor(v)),
                       in - 1);
  if (half_pixel) r = std::max(r, 0);
  return r;
}

Status prepare(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(auto d, prepare_resize(ctx));
  const TensorRef& in = *ctx.inputs[0];
  if ((in.dtype == DType::kInt8 || in.dtype == DType::kUInt8 || in.dtype == DType::kInt16) &&
      !same_quantization(in, *ctx.outputs[0]))
    return unsupported("input and output quantization differ (needs requantization)");
  for (int32_t y = 0; y < d->out_h; ++y)
    d->src_y.push_back(nearest(y, d->in_h, d->out_h, d->align_corners, d->half_pixel_centers));
  for (int32_t x = 0; x < d->out_w; ++x)
    d->src_x.push_back(nearest(x, d->in_w, d->out_w, d->align_corners, d->half_pixel_centers));
  ctx.op_data = std::move(d);
  return ok_status();
}

Status eval(EvalContext& ctx) {
  const auto& d = *op_data_as<ResizeData>(ctx);
  const size_t pixel = static_cast<size_t>(d.channels) * dtype_size(ctx.inputs[0]->dtype);
  const uint8_t* in = ctx.inputs[0]->data;
  uint8_t* out = ctx.outputs[0]->data;
  for (int32_t b = 0; b < d.batches; ++b) {
    const uint8_t* in_b = in + static_cast<size_t>(b) * d.in_h * d.in_w * pixel;
    for (int32_t y = 0; y < d.out_h; ++y) {
      const uint8_t* row = in_b + static_cast<size_t>(d.src_y[y]) * d.in_w * pixel;
      for (int32_t x = 0; x < d.out_w; ++x) {
        std::memcpy(out, row + static_cast<size_t>(d.src_x[x]) * pixel, pixel);
        out += pixel;
      }
    }
  }
  return ok_status();
}

}  // namespace

const Kernel kResizeNearestNeighbor = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
