#include <algorithm>
#include <cmath>

#include "runtime/kernels/reference/resize.h"

namespace qdet::rt::ref {

Result<std::unique_ptr<ResizeData>> prepare_resize(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(const TensorRef& in, same_dtype_input(ctx, 2, 2));
  if (in.shape.size() != 4)
    return invalid_argument("input {} must be 4-D", shape_to_string(in.shape));
  QDET_ASSIGN_OR_RETURN(auto size, read_constant_ints(ctx.inputs[1], "the size input"));
  if (size.size() != 2) return invalid_argument("the size input must hold 2 values, got {}", size.size());
  if (size[0] <= 0 || size[1] <= 0 || size[0] > (1 << 20) || size[1] > (1 << 20))
    return invalid_argument("invalid output size {}x{}", size[0], size[1]);
  const auto& a = ctx.op.attrs;
  if (a.align_corners && a.half_pixel_centers)
    return invalid_argument("align_corners and half_pixel_centers cannot both be set");
  auto d = std::make_unique<ResizeData>();
  d->batches = in.shape[0];
  d->in_h = in.shape[1];
  d->in_w = in.shape[2];
  d->channels = in.shape[3];
  d->out_h = static_cast<int32_t>(size[0]);
  d->out_w = static_cast<int32_t>(size[1]);
  d->align_corners = a.align_corners;
  d->half_pixel_centers = a.half_pixel_centers;
  if (d->in_h == 0 || d->in_w == 0) return invalid_argument("input has no pixels");
  ctx.outputs[0]->shape = {d->batches, d->out_h, d->out_w, d->channels};
  return d;
}

int32_t nearest_source(int32_t x, int32_t in, int32_t out, bool align_corners, bool half_pixel_centers) {
  const float scale = (align_corners && out > 1) ? static_cast<float>(in - 1) / static_cast<float>(out - 1)
                                                 : static_cast<float>(in) / static_cast<float>(out);
  const float offset = half_pixel_centers ? 0.5f : 0.0f;
  const float src = (static_cast<float>(x) + offset) * scale;
  int32_t v = std::min(align_corners ? static_cast<int32_t>(std::round(src)) : static_cast<int32_t>(std::floor(src)),
                       in - 1);
  if (half_pixel_centers) v = std::max(v, 0);
  return v;
}

}  // namespace qdet::rt::ref
