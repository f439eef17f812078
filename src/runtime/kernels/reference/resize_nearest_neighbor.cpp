// RESIZE_NEAREST_NEIGHBOR for every dtype (a byte copy per pixel from the source pixels of
// nearest_source, resize.h, exactly as TFLite's reference_ops::GetNearestNeighbor). Quantized
// tensors must keep their scale and zero point.
#include <cmath>
#include <cstring>

#include "runtime/kernels/reference/resize.h"

namespace qdet::rt::ref {
namespace {

Status prepare(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(auto d, prepare_resize(ctx));
  const TensorRef& in = *ctx.inputs[0];
  if ((in.dtype == DType::kInt8 || in.dtype == DType::kUInt8 || in.dtype == DType::kInt16) &&
      !same_quantization(in, *ctx.outputs[0]))
    return unsupported("input and output quantization differ (needs requantization)");
  for (int32_t y = 0; y < d->out_h; ++y)
    d->src_y.push_back(nearest_source(y, d->in_h, d->out_h, d->align_corners, d->half_pixel_centers));
  for (int32_t x = 0; x < d->out_w; ++x)
    d->src_x.push_back(nearest_source(x, d->in_w, d->out_w, d->align_corners, d->half_pixel_centers));
  return keep_op_data(ctx, std::move(d));
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
