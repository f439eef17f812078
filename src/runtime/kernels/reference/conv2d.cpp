// CONV_2D, float32 (TFLite reference_ops::Conv semantics): NHWC input, OHWI filter, optional
// bias, SAME/VALID padding, stride, dilation, fused activation; grouped convolution when the
// input has a multiple of the filter's input channels.
//
// The filter is repacked once to [group][kh][kw][ci][co] so that the innermost loop runs over
// output channels (vectorizable, and each output is still summed in a fixed order: bias, then
// kh, kw, ci). Rows of the output are split over threads; every output element is computed
// the same way whatever the split.
#include <cstring>

#include "runtime/kernels/reference/common.h"

namespace qdet::rt::ref {
namespace {

struct ConvData : OpData, ConvGeometry {
  int32_t k_c;  // input channels per group (the filter's last dim)
  int32_t groups, out_c_per_group;
  std::vector<float> packed;  // [groups][k_h][k_w][k_c][out_c_per_group]; empty: pack in eval
};

void pack_filter(const ConvData& d, const float* filter, float* packed) {
  // filter: [out_c][k_h][k_w][k_c]
  for (int32_t oc = 0; oc < d.out_c; ++oc) {
    const int32_t g = oc / d.out_c_per_group, og = oc % d.out_c_per_group;
    for (int32_t ky = 0; ky < d.k_h; ++ky)
      for (int32_t kx = 0; kx < d.k_w; ++kx)
        for (int32_t ic = 0; ic < d.k_c; ++ic) {
          const size_t src = ((static_cast<size_t>(oc) * d.k_h + ky) * d.k_w + kx) * d.k_c + ic;
          const size_t dst =
              (((static_cast<size_t>(g) * d.k_h + ky) * d.k_w + kx) * d.k_c + ic) *
                  d.out_c_per_group + og;
          packed[dst] = filter[src];
        }
  }
}

Status prepare(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(const WeightedOpTensors t, float_weighted_op(ctx, DType::kFloat32, "no float kernel for filter dtype "));
  const auto& [in, filter, bias, out] = t;
  if (in.shape.size() != 4 || filter.shape.size() != 4)
    return invalid_argument("input {} and filter {} must be 4-D", shape_to_string(in.shape),
                            shape_to_string(filter.shape));
  auto d = std::make_unique<ConvData>();
  QDET_TRY(fill_conv_geometry(in, filter.shape[1], filter.shape[2], filter.shape[0], bias,
                              ctx.op.attrs, d.get()));
  d->k_c = filter.shape[3];
  if (d->k_c <= 0 || d->in_c % d->k_c != 0)
    return invalid_argument("input has {} channels, not a multiple of the filter's {}", d->in_c,
                            d->k_c);
  d->groups = d->in_c / d->k_c;
  if (d->out_c % d->groups != 0)
    return invalid_argument("{} output channels do not split into {} groups", d->out_c,
                            d->groups);
  d->out_c_per_group = d->out_c / d->groups;
  if (filter.is_constant) {
    d->packed.resize(static_cast<size_t>(filter.num_elements()));
    pack_filter(*d, filter.as<const float>(), d->packed.data());
  } else {
    ctx.scratch_bytes = filter.byte_size();
  }
  out.shape = {d->batches, d->out_h, d->out_w, d->out_c};
  return keep_op_data(ctx, std::move(d));
}

Status eval(EvalContext& ctx) {
  const auto& d = *op_data_as<ConvData>(ctx);
  const auto [in, bias, out] = float_weighted_io(ctx);
  const float* packed = d.packed.data();
  if (d.packed.empty()) {
    auto* p = reinterpret_cast<float*>(ctx.scratch);
    pack_filter(d, ctx.inputs[1]->as<const float>(), p);
    packed = p;
  }
  const int32_t ocg = d.out_c_per_group;
  for_each_conv_pixel(ctx.threadpool, d, in, bias, out, [&](const float* in_b, int32_t oy, int32_t ox, float* acc) {
    for (const auto [iy, ix, ky, kx] : WindowTaps(d, oy, ox)) {
      const float* px = in_b + (static_cast<size_t>(iy) * d.in_w + ix) * d.in_c;
      for (int32_t g = 0; g < d.groups; ++g) {
        const float* w = packed + ((static_cast<size_t>(g) * d.k_h + ky) * d.k_w + kx) * d.k_c * ocg;
        const float* pg = px + static_cast<size_t>(g) * d.k_c;
        float* ag = acc + static_cast<size_t>(g) * ocg;
        for (int32_t ic = 0; ic < d.k_c; ++ic) {
          const float v = pg[ic];
          const float* wr = w + static_cast<size_t>(ic) * ocg;
          for (int32_t oc = 0; oc < ocg; ++oc) ag[oc] += v * wr[oc];
        }
      }
    }
  });
  return ok_status();
}

}  // namespace

const Kernel kConv2dFloat = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
