// CONV_2D, quantized (TFLite reference_ops::Conv for uint8, reference_integer_ops::ConvPerChannel
// for int8 and int16x8). NHWC input, filter [out_c, kh, kw, in_c / groups], output NHWC.
//
// For each output element:
//   acc = bias[oc] + sum (filter + filter_offset) * (input + input_offset)   (padding skipped,
//         i.e. padded positions count as the input's zero point)
//   out = clamp(multiply_by_quantized_multiplier(acc, M[oc]) + output_offset, act.min, act.max)
#include <memory>

#include "runtime/kernels/reference/quantized/conv_params.h"
#include "runtime/kernels/reference/quantized/quantized_common.h"
#include "runtime/kernels/reference/quantized/quantized_kernels.h"

namespace qdet::rt::quantized {
namespace {

struct ConvData : OpData, ConvGeometry {
  ConvQuant quant;
  int32_t groups = 1;
};

template <typename T>
void conv_kernel(const ConvData& d, const ConvOperands<T>& o) {
  using Acc = typename T::Acc;
  const int32_t per_group = d.out_c / d.groups;
  const int32_t filter_in_c = d.in_c / d.groups;
  const ConvQuant& q = d.quant;
  const Acc in_off = q.input_offset, w_off = q.filter_offset;
  for (int32_t n = 0; n < d.batches; ++n) {
    for (int32_t oy = 0; oy < d.out_h; ++oy) {
      for (int32_t ox = 0; ox < d.out_w; ++ox) {
        auto* out_px = o.out + ((static_cast<int64_t>(n) * d.out_h + oy) * d.out_w + ox) * d.out_c;
        for (int32_t oc = 0; oc < d.out_c; ++oc) {
          const int32_t group_base = (oc / per_group) * filter_in_c;
          Acc acc = 0;
          for (const auto [iy, ix, ky, kx] : WindowTaps(d, oy, ox)) {
            const auto* in_px = o.in + ((static_cast<int64_t>(n) * d.in_h + iy) * d.in_w + ix) * d.in_c + group_base;
            const auto* w_px = o.filter + ((static_cast<int64_t>(oc) * d.k_h + ky) * d.k_w + kx) * filter_in_c;
            for (int32_t ic = 0; ic < filter_in_c; ++ic)
              acc += (static_cast<Acc>(w_px[ic]) + w_off) * (static_cast<Acc>(in_px[ic]) + in_off);
          }
          out_px[oc] = requantize_accumulator<typename T::Out>(q, acc, o.bias, oc);
        }
      }
    }
  }
}

}  // namespace

Status conv2d_prepare(PrepareContext& ctx) {
  const std::string op = "CONV_2D";
  QDET_ASSIGN_OR_RETURN(const WeightedTensors t, weighted_tensors(ctx, op));
  if (t.input.shape.size() != 4 || t.filter.shape.size() != 4)
    return invalid_argument("{}: input {} and filter {} must be 4-D (NHWC, OHWI)", op,
                            shape_to_string(t.input.shape), shape_to_string(t.filter.shape));
  const int32_t out_c = t.filter.shape[0];
  QDET_ASSIGN_OR_RETURN(ConvQuant quant, prepare_conv_quant(op, t.input, t.filter, t.bias, t.output, out_c, 0,
                                                            ctx.op.attrs.activation));
  const int32_t in_c = t.input.shape[3], filter_in_c = t.filter.shape[3];
  if (filter_in_c <= 0 || in_c % filter_in_c != 0)
    return invalid_argument("{}: input has {} channels, filter expects {} per group", op, in_c,
                            filter_in_c);
  const int32_t groups = in_c / filter_in_c;
  if (out_c % groups != 0)
    return invalid_argument("{}: {} output channels do not split into {} groups", op, out_c,
                            groups);
  auto d = std::make_unique<ConvData>();
  d->quant = std::move(quant);
  d->groups = groups;
  QDET_TRY(fill_quantized_conv_geometry(ctx, op, t, out_c, d.get()));
  return keep_op_data(ctx, std::move(d));
}

Status conv2d_eval(EvalContext& ctx) {
  const auto& d = *op_data_as<ConvData>(ctx);
  return run_conv_kernel(ctx, d.quant, [&](const auto& operands) { conv_kernel(d, operands); });
}

}  // namespace qdet::rt::quantized
