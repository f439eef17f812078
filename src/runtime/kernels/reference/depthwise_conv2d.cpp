// DEPTHWISE_CONV_2D, float32 (TFLite reference_ops::DepthwiseConv): NHWC input, filter
// [1, kh, kw, in_c * depth_multiplier], output channel c * multiplier + m reads input channel c.
// Padding, stride, dilation and fused activation as CONV_2D. Rows split over threads.
#include <cstring>

#include "runtime/kernels/reference/common.h"

namespace qdet::rt::ref {
namespace {

struct DepthwiseData : OpData, ConvGeometry {
  int32_t multiplier;
};

Status prepare(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(const WeightedOpTensors t, float_weighted_op(ctx, DType::kFloat32, "no float kernel for filter dtype "));
  const auto& [in, filter, bias, out] = t;
  if (in.shape.size() != 4 || filter.shape.size() != 4 || filter.shape[0] != 1)
    return invalid_argument("input {} must be 4-D and filter {} must be [1,kh,kw,c]",
                            shape_to_string(in.shape), shape_to_string(filter.shape));
  auto d = std::make_unique<DepthwiseData>();
  QDET_TRY(fill_conv_geometry(in, filter.shape[1], filter.shape[2], filter.shape[3], bias,
                              ctx.op.attrs, d.get()));
  if (d->in_c <= 0 || d->out_c % d->in_c != 0)
    return invalid_argument("filter has {} channels, not a multiple of the input's {}", d->out_c,
                            d->in_c);
  d->multiplier = d->out_c / d->in_c;
  out.shape = {d->batches, d->out_h, d->out_w, d->out_c};
  return keep_op_data(ctx, std::move(d));
}

Status eval(EvalContext& ctx) {
  const auto& d = *op_data_as<DepthwiseData>(ctx);
  const auto [in, bias, out] = float_weighted_io(ctx);
  const float* filter = ctx.inputs[1]->as<const float>();
  for_each_conv_pixel(ctx.threadpool, d, in, bias, out, [&](const float* in_b, int32_t oy, int32_t ox, float* acc) {
    for (const auto [iy, ix, ky, kx] : WindowTaps(d, oy, ox)) {
      const float* px = in_b + (static_cast<size_t>(iy) * d.in_w + ix) * d.in_c;
      const float* w = filter + (static_cast<size_t>(ky) * d.k_w + kx) * d.out_c;
      if (d.multiplier == 1) {
        for (int32_t c = 0; c < d.out_c; ++c) acc[c] += px[c] * w[c];
      } else {
        for (int32_t c = 0; c < d.in_c; ++c)
          for (int32_t m = 0; m < d.multiplier; ++m) acc[c * d.multiplier + m] += px[c] * w[c * d.multiplier + m];
      }
    }
  });
  return ok_status();
}

}  // namespace

const Kernel kDepthwiseConv2dFloat = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
