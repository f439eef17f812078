// DEPTHWISE_CONV_2D, quantized (TFLite reference_ops::DepthwiseConv for uint8 with
// kAwayFromZero output rounding, i.e. MultiplyByQuantizedMultiplier; and
// reference_integer_ops::DepthwiseConvPerChannel for int8 and int16x8).
// NHWC input [n, h, w, in_c], filter [1, kh, kw, in_c * depth_multiplier], output NHWC with
// output channel oc = ic * depth_multiplier + m.
#include <memory>

#include "runtime/kernels/reference/quantized/conv_params.h"
#include "runtime/kernels/reference/quantized/quantized_common.h"
#include "runtime/kernels/reference/quantized/quantized_kernels.h"

namespace qdet::rt::quantized {
namespace {

struct DepthwiseData : OpData, ConvGeometry {
  ConvQuant quant;
  int32_t depth_multiplier = 1;
};

template <typename T>
void depthwise_kernel(const DepthwiseData& d, const ConvOperands<T>& o) {
  using Acc = typename T::Acc;
  const int32_t dm = d.depth_multiplier;
  const ConvQuant& q = d.quant;
  const Acc in_off = q.input_offset, w_off = q.filter_offset;
  for (int32_t n = 0; n < d.batches; ++n) {
    for (int32_t oy = 0; oy < d.out_h; ++oy) {
      for (int32_t ox = 0; ox < d.out_w; ++ox) {
        auto* out_px = o.out + ((static_cast<int64_t>(n) * d.out_h + oy) * d.out_w + ox) * d.out_c;
        for (int32_t ic = 0; ic < d.in_c; ++ic) {
          for (int32_t m = 0; m < dm; ++m) {
            const int32_t oc = ic * dm + m;
            Acc acc = 0;
            for (const auto [iy, ix, ky, kx] : WindowTaps(d, oy, ox)) {
              const Acc x = o.in[((static_cast<int64_t>(n) * d.in_h + iy) * d.in_w + ix) * d.in_c + ic];
              const Acc f = o.filter[(static_cast<int64_t>(ky) * d.k_w + kx) * d.out_c + oc];
              acc += (f + w_off) * (x + in_off);
            }
            out_px[oc] = requantize_accumulator<typename T::Out>(q, acc, o.bias, oc);
          }
        }
      }
    }
  }
}

}  // namespace

Status depthwise_conv2d_prepare(PrepareContext& ctx) {
  const std::string op = "DEPTHWISE_CONV_2D";
  QDET_ASSIGN_OR_RETURN(const WeightedTensors t, weighted_tensors(ctx, op));
  if (t.input.shape.size() != 4 || t.filter.shape.size() != 4 || t.filter.shape[0] != 1)
    return invalid_argument("{}: input {} must be NHWC and filter {} [1,kh,kw,c]", op,
                            shape_to_string(t.input.shape), shape_to_string(t.filter.shape));
  const int32_t out_c = t.filter.shape[3];
  QDET_ASSIGN_OR_RETURN(ConvQuant quant, prepare_conv_quant(op, t.input, t.filter, t.bias, t.output, out_c, 3,
                                                            ctx.op.attrs.activation));
  const int32_t in_c = t.input.shape[3];
  if (in_c <= 0 || out_c % in_c != 0)
    return invalid_argument("{}: {} output channels are not a multiple of {} input channels",
                            op, out_c, in_c);
  auto d = std::make_unique<DepthwiseData>();
  d->quant = std::move(quant);
  // The shapes decide (TFLite ignores a stale depth_multiplier option).
  d->depth_multiplier = out_c / in_c;
  QDET_TRY(fill_quantized_conv_geometry(ctx, op, t, out_c, d.get()));
  return keep_op_data(ctx, std::move(d));
}

Status depthwise_conv2d_eval(EvalContext& ctx) {
  const auto& d = *op_data_as<DepthwiseData>(ctx);
  return run_conv_kernel(ctx, d.quant, [&](const auto& operands) { depthwise_kernel(d, operands); });
}

}  // namespace qdet::rt::quantized
