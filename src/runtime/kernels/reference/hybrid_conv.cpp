// CONV_2D and DEPTHWISE_CONV_2D hybrid kernels: float32 input/output, int8 constant filter
// (hybrid.h has the arithmetic and TFLite's choice of input quantization).
//
// eval quantizes the input once per batch item into int8 (exactly TFLite's bytes), subtracts
// the zero point into an int16 copy, and sums int16 x int16 products in int32 (exact, so the
// order of the sum does not matter). Rows of the output are split over threads.
#include <algorithm>
#include <cstring>

#include "runtime/kernels/reference/common.h"
#include "runtime/kernels/reference/hybrid.h"

namespace qdet::rt::ref {
namespace {

constexpr int32_t kChannelBlock = 256;  // int32 accumulators kept on the stack per pass

struct HybridConvData : OpData, ConvGeometry {  // dilation always 1
  bool depthwise = false;
  bool asymmetric = false;  // per-channel filter: asymmetric input quantization
  int32_t multiplier = 1;
  std::vector<float> filter_scale;  // one per output channel
  std::vector<int16_t> filter;      // conv: [oc][kh][kw][ci]; depthwise: [kh][kw][oc]
  size_t input_elements = 0;        // per batch item
  // scratch layout: [batches] InputQuantization, then int16 (x - offset), then int8 x
  size_t quant_offset = 0, x16_offset = 0, x8_offset = 0;
};

size_t align64(size_t n) { return (n + 63) / 64 * 64; }

// Checks shared by both ops; fills geometry, activation and scratch layout.
Result<std::unique_ptr<HybridConvData>> prepare_common(PrepareContext& ctx, bool depthwise) {
  QDET_ASSIGN_OR_RETURN(const WeightedOpTensors t, float_weighted_op(ctx, DType::kInt8, "hybrid kernel needs int8 filter, got "));
  const auto& [in, filter, bias, out] = t;
  if (!filter.is_constant) return invalid_argument("hybrid: the int8 filter must be constant");
  if (in.shape.size() != 4 || filter.shape.size() != 4)
    return invalid_argument("input {} and filter {} must be 4-D", shape_to_string(in.shape),
                            shape_to_string(filter.shape));
  const QuantParams& fq = *filter.quant;
  if (fq.scale.empty())
    return invalid_argument("hybrid: int8 filter has no quantization parameters");
  for (int64_t zp : fq.zero_point)
    if (zp != 0) return invalid_argument("hybrid: filter zero point {} is not 0", zp);
  const auto& a = ctx.op.attrs;
  if (a.dilation_h != 1 || a.dilation_w != 1)
    return invalid_argument("hybrid: dilation {}x{} is not supported (TFLite's hybrid "
                            "convolution has none)", a.dilation_h, a.dilation_w);
  auto d = std::make_unique<HybridConvData>();
  d->depthwise = depthwise;
  if (depthwise && filter.shape[0] != 1)
    return invalid_argument("filter {} must be [1,kh,kw,c]", shape_to_string(filter.shape));
  QDET_TRY(fill_conv_geometry(in, filter.shape[1], filter.shape[2],
                              depthwise ? filter.shape[3] : filter.shape[0], bias, a, d.get()));
  if (depthwise) {
    if (d->in_c <= 0 || d->out_c % d->in_c != 0)
      return invalid_argument("filter has {} channels, not a multiple of the input's {}",
                              d->out_c, d->in_c);
    d->multiplier = d->out_c / d->in_c;
  } else if (filter.shape[3] != d->in_c) {
    return invalid_argument("hybrid: filter {} does not match {} input channels (grouped "
                            "hybrid convolution is not supported)",
                            shape_to_string(filter.shape), d->in_c);
  }
  // Filter scales: TFLite's conv takes the per-channel path only when the scales differ.
  const int32_t channel_axis = depthwise ? 3 : 0;
  if (depthwise && static_cast<int64_t>(fq.scale.size()) != d->out_c)
    return invalid_argument("hybrid DEPTHWISE_CONV_2D needs one filter scale per channel ({}), "
                            "got {} (as TFLite)", d->out_c, fq.scale.size());
  if (fq.scale.size() > 1) {
    if (static_cast<int64_t>(fq.scale.size()) != d->out_c || fq.quantized_dimension != channel_axis)
      return invalid_argument("hybrid: {} filter scales on axis {}, expected {} on axis {}",
                              fq.scale.size(), fq.quantized_dimension, d->out_c, channel_axis);
    d->filter_scale = fq.scale;
  } else {
    d->filter_scale.assign(static_cast<size_t>(d->out_c), fq.scale[0]);
  }
  d->asymmetric = depthwise || std::any_of(fq.scale.begin(), fq.scale.end(),
                                           [&](float s) { return s != fq.scale[0]; });
  const int8_t* w = filter.as<const int8_t>();
  d->filter.assign(w, w + filter.num_elements());
  d->input_elements = static_cast<size_t>(d->in_h) * d->in_w * d->in_c;
  const size_t total = d->input_elements * static_cast<size_t>(d->batches);
  d->quant_offset = 0;
  d->x16_offset = align64(sizeof(InputQuantization) * static_cast<size_t>(d->batches));
  d->x8_offset = d->x16_offset + align64(total * sizeof(int16_t));
  ctx.scratch_bytes = d->x8_offset + align64(total);
  out.shape = {d->batches, d->out_h, d->out_w, d->out_c};
  return d;
}

template <bool kDepthwise>
Status prepare(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(ctx.op_data, prepare_common(ctx, kDepthwise));
  return ok_status();
}

// Quantizes every batch item and writes (q - offset) as int16.
const int16_t* quantize_input(const HybridConvData& d, const float* in, uint8_t* scratch,
                              InputQuantization** quant) {
  auto* q = reinterpret_cast<InputQuantization*>(scratch + d.quant_offset);
  auto* x16 = reinterpret_cast<int16_t*>(scratch + d.x16_offset);
  auto* x8 = reinterpret_cast<int8_t*>(scratch + d.x8_offset);
  for (int32_t b = 0; b < d.batches; ++b) {
    const size_t off = static_cast<size_t>(b) * d.input_elements;
    q[b] = d.asymmetric ? quantize_input_asymmetric(in + off, d.input_elements, x8 + off)
                        : quantize_input_symmetric(in + off, d.input_elements, x8 + off);
    const int16_t zp = static_cast<int16_t>(q[b].offset);
    for (size_t i = 0; i < d.input_elements; ++i)
      x16[off + i] = static_cast<int16_t>(x8[off + i] - zp);
  }
  *quant = q;
  return x16;
}

// out = act(float(acc) * (input_scale * filter_scale[c]) + bias[c]) for channels [c0, c0 + n).
inline void write_outputs(const HybridConvData& d, const int32_t* acc, int32_t c0, int32_t n,
                          float input_scale, const float* bias, float* out) {
  for (int32_t i = 0; i < n; ++i) {
    const int32_t c = c0 + i;
    float v = static_cast<float>(acc[i]) * (input_scale * d.filter_scale[c]);
    if (bias) v += bias[c];
    out[c] = clamp_activation(v, d.act);
  }
}

// Four int16 dot products of length n against one input run.
inline void dot4(const int16_t* x, const int16_t* w0, const int16_t* w1, const int16_t* w2,
                 const int16_t* w3, int32_t n, int32_t* s) {
  int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (int32_t i = 0; i < n; ++i) {
    const int32_t v = x[i];
    s0 += v * w0[i];
    s1 += v * w1[i];
    s2 += v * w2[i];
    s3 += v * w3[i];
  }
  s[0] += s0;
  s[1] += s1;
  s[2] += s2;
  s[3] += s3;
}

inline int32_t dot1(const int16_t* x, const int16_t* w, int32_t n) {
  int32_t s = 0;
  for (int32_t i = 0; i < n; ++i) s += static_cast<int32_t>(x[i]) * w[i];
  return s;
}

// Both ops' eval: the input quantized, then the output rows over the threads.
// sum(xb, oy, ox, c0, n, acc) adds into acc[0..n) output pixel (oy, ox)'s sums for channels
// c0 .. c0 + n - 1 (xb: the batch item's int16 input); write_outputs scales them.
template <typename SumFn>
Status eval_hybrid(EvalContext& ctx, SumFn sum) {
  const auto& d = *op_data_as<HybridConvData>(ctx);
  const float* bias = optional_float_bias(ctx);
  float* out = ctx.outputs[0]->as<float>();
  InputQuantization* quant = nullptr;
  const int16_t* x = quantize_input(d, ctx.inputs[0]->as<const float>(), ctx.scratch, &quant);
  const size_t rows = static_cast<size_t>(d.batches) * d.out_h;
  parallel_for(ctx.threadpool, rows, [&](size_t row) {
    const int32_t b = static_cast<int32_t>(row / d.out_h);
    const int32_t oy = static_cast<int32_t>(row % d.out_h);
    const int16_t* xb = x + static_cast<size_t>(b) * d.input_elements;
    int32_t acc[kChannelBlock];
    for (int32_t ox = 0; ox < d.out_w; ++ox) {
      float* o = out + (row * d.out_w + ox) * d.out_c;
      for (int32_t c0 = 0; c0 < d.out_c; c0 += kChannelBlock) {
        const int32_t n = std::min(kChannelBlock, d.out_c - c0);
        std::fill(acc, acc + n, 0);
        sum(xb, oy, ox, c0, n, acc);
        write_outputs(d, acc, c0, n, quant[b].scale, bias, o);
      }
    }
  });
  return ok_status();
}

Status eval_conv(EvalContext& ctx) {
  const auto& d = *op_data_as<HybridConvData>(ctx);
  const int32_t ci = d.in_c;
  const size_t filter_stride = static_cast<size_t>(d.k_h) * d.k_w * ci;  // per output channel
  return eval_hybrid(ctx, [&](const int16_t* xb, int32_t oy, int32_t ox, int32_t c0, int32_t n, int32_t* acc) {
    const int32_t iy0 = oy * d.stride_h - d.pad_top;
    const int32_t ix0 = ox * d.stride_w - d.pad_left;
    const int32_t ky0 = std::max(0, -iy0);
    const int32_t ky1 = std::min(d.k_h, d.in_h - iy0);
    const int32_t kx0 = std::max(0, -ix0);
    const int32_t kx1 = std::min(d.k_w, d.in_w - ix0);
    // Taps outside the image add nothing: (q - offset) is 0 there in TFLite's im2col.
    // Within a filter row the in-image taps are contiguous in memory (NHWC, OHWI).
    const int32_t run = (kx1 - kx0) * ci;
    for (int32_t ky = ky0; ky < ky1 && run > 0; ++ky) {
      const int16_t* px = xb + (static_cast<size_t>(iy0 + ky) * d.in_w + (ix0 + kx0)) * ci;
      const size_t wo = (static_cast<size_t>(ky) * d.k_w + kx0) * ci;
      int32_t i = 0;
      for (; i + 4 <= n; i += 4) {
        const int16_t* w = d.filter.data() + (c0 + i) * filter_stride + wo;
        dot4(px, w, w + filter_stride, w + 2 * filter_stride, w + 3 * filter_stride, run, acc + i);
      }
      for (; i < n; ++i) acc[i] += dot1(px, d.filter.data() + (c0 + i) * filter_stride + wo, run);
    }
  });
}

Status eval_depthwise(EvalContext& ctx) {
  const auto& d = *op_data_as<HybridConvData>(ctx);
  return eval_hybrid(ctx, [&](const int16_t* xb, int32_t oy, int32_t ox, int32_t c0, int32_t n, int32_t* acc) {
    for (const auto [iy, ix, ky, kx] : WindowTaps(d, oy, ox)) {
      const int16_t* px = xb + (static_cast<size_t>(iy) * d.in_w + ix) * d.in_c;
      const int16_t* w = d.filter.data() + (static_cast<size_t>(ky) * d.k_w + kx) * d.out_c + c0;
      if (d.multiplier == 1) {
        const int16_t* pc = px + c0;
        for (int32_t i = 0; i < n; ++i) acc[i] += static_cast<int32_t>(pc[i]) * w[i];
      } else {
        for (int32_t i = 0; i < n; ++i) acc[i] += static_cast<int32_t>(px[(c0 + i) / d.multiplier]) * w[i];
      }
    }
  });
}

}  // namespace

const Kernel kConv2dHybrid = {"reference", prepare<false>, eval_conv};
const Kernel kDepthwiseConv2dHybrid = {"reference", prepare<true>, eval_depthwise};

}  // namespace qdet::rt::ref
