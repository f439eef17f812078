// DEPTHWISE_CONV_2D for int8 (weights per channel or per tensor, zero point 0) and uint8
// (weights per tensor with a zero point), depth multiplier 1, with XNNPACK's arithmetic: exact
// int32 sums, then XNNPACK's fp32 requantization. Its bytes are those of qdet's XNNPACK kernel
// (what TFLite's XNNPACK delegate runs), about three times faster: the 2022 XNNPACK sums
// int32 lanes with vpmulld (two micro-ops, ten cycles of latency) and reloads its weights for
// every pixel.
//
// Arithmetic. A block of 32 channels is one register of 32 int16 lanes: the input bytes
// widened (vpmovzxbw / vpmovsxbw), channel c in 16-bit lane c. The packed weights for that
// block come as two registers: "even" holds w - w_zp of channel 2i in the low half of 32-bit
// lane i and 0 in the high half, "odd" holds 0 low and w - w_zp of channel 2i+1 high. One
// AVX-512 VNNI vpdpwssd with each adds exactly x * (w - w_zp) for the 16 even and the 16 odd
// channels (both factors fit int16). The input zero point is folded into the bias at prepare:
// sum (x - x_zp)(w - w_zp) = sum x (w - w_zp) - x_zp sum (w - w_zp) over all taps, and taps
// outside the input read a row of x_zp bytes, so the fold is exact at the borders too (TFLite
// pads with the zero point).
//
// A zero-point PAD before the op folds into its padding (Kernel::fold_input_pad), and a byte
// table that alone reads its output (a tabulated SiLU) is applied to each output row right
// after it is written, while it is in L1 (Kernel::take_output_table).
// Tiling. Four output pixels of a row share each weight load; eight accumulators are in flight.
// Requantization per channel c, as XNNPACK: q = clamp(round_half_even(float(acc) * s[c]),
// qmin - zp, qmax - zp) + zp with s[c] = float(in_scale * w_scale[c] / out_scale); prepare
// refuses what XNNPACK refuses (scales not normal or outside [2^-32, 256)), so every op keeps
// one arithmetic whichever family runs it. Without AVX-512 VNNI: kUnsupported (XNNPACK runs).
// GCC 12's AVX-512 headers seed results with _mm512_undefined_*(), which -Wmaybe-uninitialized
// reports once inlined here (GCC bug 105593); the values are never read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <vector>

#include "runtime/kernel_registry.h"
#include "runtime/kernels/reference/common.h"
#include "runtime/kernels/reference/quantized/conv_params.h"
#include "runtime/kernels/simd/kernels.h"
#include "runtime/lut_fusion.h"

namespace qdet::rt::simd {
namespace {

constexpr int32_t kBlock = 32;     // channels per register of int16 lanes
constexpr int32_t kMaxTaps = 64;   // k_h * k_w (an 8x8 filter); larger filters go to XNNPACK
constexpr int32_t kPixels = 4;     // output pixels sharing each weight load

struct Depthwise8Data : OpData {
  ConvGeometry g;
  bool is_signed = true;  // int8 (else uint8)
  int32_t blocks = 0;     // channel blocks of 32
  int32_t output_zero_point = 0;
  float lo = 0, hi = 0;   // the clamp, less the output zero point
  // [tap][block][even, odd][16] int32 lanes (layout above); 0 past the channels.
  std::vector<int32_t> weights;
  // [block][even, odd][16]: bias - x_zp * sum over taps of (w - w_zp), and the scale.
  std::vector<int32_t> bias;
  std::vector<float> scale;
  std::vector<uint8_t> zero_row;              // blocks * 32 bytes of the input zero point
  std::array<std::ptrdiff_t, kMaxTaps> offsets{};  // byte offset of each tap from the window's corner
  OutputTable table;  // applied to every output byte when on (Kernel::take_output_table)
};

// The weight of channel c at tap t, less the weight zero point.
int32_t weight_at(const TensorRef& filter, bool is_signed, int32_t w_zp, int32_t t, int32_t c, int32_t channels) {
  const uint8_t b = filter.data[static_cast<size_t>(t) * channels + c];
  return (is_signed ? int32_t{static_cast<int8_t>(b)} : int32_t{b}) - w_zp;
}

// Each tap's byte offset from the window's top-left input pixel.
void set_tap_offsets(Depthwise8Data& d) {
  const ConvGeometry& g = d.g;
  for (int32_t ky = 0; ky < g.k_h; ++ky)
    for (int32_t kx = 0; kx < g.k_w; ++kx)
      d.offsets[static_cast<size_t>(ky * g.k_w + kx)] =
          (static_cast<std::ptrdiff_t>(ky) * g.dil_h * g.in_w + static_cast<std::ptrdiff_t>(kx) * g.dil_w) * g.in_c;
}

// The packed position of channel c (within its block's even/odd pair of registers).
size_t lane_of(int32_t c) {
  const int32_t block = c / kBlock, in_block = c % kBlock;
  return static_cast<size_t>(block) * kBlock + static_cast<size_t>(in_block % 2) * 16 + in_block / 2;
}

Status prepare(PrepareContext& ctx) {
  if (!has_avx512_vnni()) return unsupported("no AVX-512 VNNI");
  QDET_ASSIGN_OR_RETURN(quantized::WeightedTensors t, quantized::weighted_tensors(ctx, "DEPTHWISE_CONV_2D"));
  if (t.input.dtype != DType::kInt8 && t.input.dtype != DType::kUInt8)
    return unsupported("input is {}, this kernel takes int8 or uint8", dtype_name(t.input.dtype));
  if (!t.filter.is_constant || !t.filter.data || (t.bias && (!t.bias->is_constant || !t.bias->data)))
    return unsupported("constant filter and bias");
  if (t.input.shape.size() != 4 || t.filter.shape.size() != 4 || t.filter.shape[0] != 1 ||
      t.filter.shape[3] != t.input.shape[3])
    return unsupported("depth multiplier 1 only");
  const int32_t channels = static_cast<int32_t>(t.filter.shape[3]);
  auto checked = quantized::prepare_conv_quant("DEPTHWISE_CONV_2D", t.input, t.filter, t.bias, t.output, channels,
                                               /*channel_axis=*/3, ctx.op.attrs.activation);
  if (!checked.ok()) return Status(StatusCode::kUnsupported, checked.status().message());
  if (t.bias && checked->bias_dtype != DType::kInt32) return unsupported("int32 bias only");
  if (t.input.quant->scale.size() != 1 || t.output.quant->scale.size() != 1)
    return unsupported("per-tensor input and output");

  auto d = std::make_unique<Depthwise8Data>();
  QDET_TRY(quantized::fill_quantized_conv_geometry(ctx, "DEPTHWISE_CONV_2D", t, channels, &d->g));
  const ConvGeometry& g = d->g;
  const int32_t taps = g.k_h * g.k_w;
  if (taps > kMaxTaps) return unsupported("filters of at most {} taps", kMaxTaps);
  d->is_signed = t.input.dtype == DType::kInt8;
  d->blocks = (channels + kBlock - 1) / kBlock;
  d->output_zero_point = t.output.zero_point();
  d->lo = static_cast<float>(checked->activation.min - d->output_zero_point);
  d->hi = static_cast<float>(checked->activation.max - d->output_zero_point);
  const size_t lanes = static_cast<size_t>(d->blocks) * kBlock;
  d->scale.assign(lanes, 0.0f);
  for (int32_t c = 0; c < channels; ++c) {
    QDET_ASSIGN_OR_RETURN(d->scale[lane_of(c)], quantized::xnnpack_requantization_scale(t, c));
  }
  const int32_t w_zp = -checked->filter_offset, x_zp = t.input.zero_point();
  d->weights.assign(static_cast<size_t>(taps) * lanes, 0);
  std::vector<uint32_t> weight_sums(static_cast<size_t>(channels), 0);  // wraps as XNNPACK's packing does
  for (int32_t tap = 0; tap < taps; ++tap)
    for (int32_t c = 0; c < channels; ++c) {
      const int32_t w = weight_at(t.filter, d->is_signed, w_zp, tap, c, channels);
      const uint32_t half = static_cast<uint16_t>(static_cast<int16_t>(w));
      d->weights[static_cast<size_t>(tap) * lanes + lane_of(c)] = static_cast<int32_t>(c % 2 ? half << 16 : half);
      weight_sums[c] += static_cast<uint32_t>(w);
    }
  d->bias.assign(lanes, 0);
  for (int32_t c = 0; c < channels; ++c) {
    const uint32_t b = t.bias ? static_cast<uint32_t>(t.bias->as<const int32_t>()[c]) : 0u;
    d->bias[lane_of(c)] = static_cast<int32_t>(b - static_cast<uint32_t>(x_zp) * weight_sums[c]);
  }
  d->zero_row.assign(lanes, static_cast<uint8_t>(x_zp));
  set_tap_offsets(*d);
  ctx.op_data = std::move(d);
  return ok_status();
}

// A zero-point PAD before the op becomes its own padding: its taps there read the zero-point
// row, as they read the padded copy's zero points before; the output is the same bytes.
bool fold_input_pad(OpData* data, const Shape& unpadded, const SpatialPad& pad) {
  auto& d = *static_cast<Depthwise8Data*>(data);
  if (!add_input_pad(d.g, unpadded, pad)) return false;
  set_tap_offsets(d);
  return true;
}

// Where the taps of a tile's pixels read. Inside the input: pixel p's tap t at corner + p *
// step + offsets[t] (no table to fill). At the borders: a table of pointers, one per tap of
// each pixel, where taps in the padding read the zero-point row.
struct InsideTaps {
  const uint8_t* corner;
  std::ptrdiff_t step;
  const std::ptrdiff_t* offsets;
  const uint8_t* at(int p, int32_t t) const { return corner + p * step + offsets[t]; }
};
struct TapTable {
  const uint8_t* const* tap;
  int32_t taps;
  const uint8_t* at(int p, int32_t t) const { return tap[p * taps + t]; }
};

// `Pixels` consecutive output pixels of a row, every channel block, stored at `out`.
template <bool Signed, int Pixels, typename Taps>
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"))) void depthwise_pixels(
    const Depthwise8Data& d, const Taps& taps_at, uint8_t* out) {
  const int32_t taps = d.g.k_h * d.g.k_w, channels = d.g.out_c;
  const size_t lanes = static_cast<size_t>(d.blocks) * kBlock;
  const __m512i out_zp = _mm512_set1_epi32(d.output_zero_point);
  const __m512 lo = _mm512_set1_ps(d.lo), hi = _mm512_set1_ps(d.hi);
  for (int32_t b = 0; b < d.blocks; ++b) {
    const int32_t c0 = b * kBlock, left = channels - c0;
    const __mmask32 m = left >= kBlock ? ~__mmask32{0} : static_cast<__mmask32>((uint32_t{1} << left) - 1);
    const size_t lane0 = static_cast<size_t>(b) * kBlock;
    __m512i even[Pixels], odd[Pixels];
    for (int p = 0; p < Pixels; ++p) {
      even[p] = _mm512_loadu_si512(d.bias.data() + lane0);
      odd[p] = _mm512_loadu_si512(d.bias.data() + lane0 + 16);
    }
    const int32_t* w = d.weights.data() + lane0;
    for (int32_t t = 0; t < taps; ++t, w += lanes) {
      const __m512i we = _mm512_loadu_si512(w), wo = _mm512_loadu_si512(w + 16);
      for (int p = 0; p < Pixels; ++p) {
        const __m256i bytes = _mm256_maskz_loadu_epi8(m, taps_at.at(p, t) + c0);
        const __m512i x = Signed ? _mm512_cvtepi8_epi16(bytes) : _mm512_cvtepu8_epi16(bytes);
        even[p] = _mm512_dpwssd_epi32(even[p], x, we);
        odd[p] = _mm512_dpwssd_epi32(odd[p], x, wo);
      }
    }
    const __m512 se = _mm512_loadu_ps(d.scale.data() + lane0), so = _mm512_loadu_ps(d.scale.data() + lane0 + 16);
    for (int p = 0; p < Pixels; ++p) {
      const __m512 fe = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(even[p]), se), lo), hi);
      const __m512 fo = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(odd[p]), so), lo), hi);
      const __m512i qe = _mm512_add_epi32(_mm512_cvtps_epi32(fe), out_zp);  // round half to even
      const __m512i qo = _mm512_add_epi32(_mm512_cvtps_epi32(fo), out_zp);
      const __m512i words = _mm512_mask_blend_epi16(0xAAAAAAAAu, qe, _mm512_slli_epi32(qo, 16));
      _mm256_mask_storeu_epi8(out + static_cast<size_t>(p) * channels + c0, m, _mm512_cvtepi16_epi8(words));
    }
  }
}

// Where each tap of output pixel (oy, ox) reads: the input position, or the zero-point row for
// taps in the padding.
void border_pointers(const Depthwise8Data& d, const uint8_t* in_b, int32_t oy, int32_t ox, const uint8_t** tap) {
  const ConvGeometry& g = d.g;
  const int32_t iy0 = oy * g.stride_h - g.pad_top, ix0 = ox * g.stride_w - g.pad_left;
  for (int32_t ky = 0; ky < g.k_h; ++ky)
    for (int32_t kx = 0; kx < g.k_w; ++kx) {
      const int32_t iy = iy0 + ky * g.dil_h, ix = ix0 + kx * g.dil_w;
      tap[ky * g.k_w + kx] = iy >= 0 && iy < g.in_h && ix >= 0 && ix < g.in_w
                                 ? in_b + (static_cast<std::ptrdiff_t>(iy) * g.in_w + ix) * g.in_c
                                 : d.zero_row.data();
    }
}

// The output pixels [begin, end) of row oy whose windows reach the padding, one at a time.
template <bool Signed>
void border_pixels(const Depthwise8Data& d, const uint8_t* in_b, int32_t oy, int32_t begin, int32_t end,
                   uint8_t* out_row) {
  std::array<const uint8_t*, kMaxTaps> tap;
  for (int32_t ox = begin; ox < end; ++ox) {
    border_pointers(d, in_b, oy, ox, tap.data());
    depthwise_pixels<Signed, 1>(d, TapTable{tap.data(), d.g.k_h * d.g.k_w}, out_row + static_cast<size_t>(ox) * d.g.out_c);
  }
}

// The first output column >= 0 whose window starts inside the input, and the end of the
// columns whose window ends inside it (both along one axis).
int32_t first_inside(int32_t pad, int32_t stride) { return (pad + stride - 1) / stride; }
int32_t end_inside(int32_t in, int32_t pad, int32_t stride, int32_t reach, int32_t out) {
  const int32_t last = in - 1 + pad - reach;  // ox * stride <= last
  return last < 0 ? 0 : std::min(out, last / stride + 1);
}

template <bool Signed>
void depthwise_row(const Depthwise8Data& d, const uint8_t* in_b, int32_t oy, uint8_t* out_row) {
  const ConvGeometry& g = d.g;
  const int32_t iy0 = oy * g.stride_h - g.pad_top;
  const bool row_inside = iy0 >= 0 && iy0 + (g.k_h - 1) * g.dil_h < g.in_h;
  int32_t begin = 0, end = 0;  // the columns whose whole window lies inside the input
  if (row_inside) {
    begin = std::min(g.out_w, first_inside(g.pad_left, g.stride_w));
    end = std::max(begin, end_inside(g.in_w, g.pad_left, g.stride_w, (g.k_w - 1) * g.dil_w, g.out_w));
  }
  border_pixels<Signed>(d, in_b, oy, 0, begin, out_row);
  const std::ptrdiff_t step = static_cast<std::ptrdiff_t>(g.stride_w) * g.in_c;
  int32_t ox = begin;
  for (; ox + kPixels <= end; ox += kPixels) {
    const uint8_t* corner = in_b + (static_cast<std::ptrdiff_t>(iy0) * g.in_w + ox * g.stride_w - g.pad_left) * g.in_c;
    depthwise_pixels<Signed, kPixels>(d, InsideTaps{corner, step, d.offsets.data()},
                                      out_row + static_cast<size_t>(ox) * g.out_c);
  }
  for (; ox < end; ++ox) {
    const uint8_t* corner = in_b + (static_cast<std::ptrdiff_t>(iy0) * g.in_w + ox * g.stride_w - g.pad_left) * g.in_c;
    depthwise_pixels<Signed, 1>(d, InsideTaps{corner, step, d.offsets.data()}, out_row + static_cast<size_t>(ox) * g.out_c);
  }
  border_pixels<Signed>(d, in_b, oy, end, g.out_w, out_row);
}

Status eval(EvalContext& ctx) {
  const auto& d = *op_data_as<Depthwise8Data>(ctx);
  const ConvGeometry& g = d.g;
  const uint8_t* in = ctx.inputs[0]->data;
  uint8_t* out = ctx.outputs[0]->data;
  const size_t rows = static_cast<size_t>(g.batches) * g.out_h;
  const auto row_kernel = d.is_signed ? depthwise_row<true> : depthwise_row<false>;
  ref::parallel_for(ctx.threadpool, rows, [&](size_t row) {
    const int32_t n = static_cast<int32_t>(row / g.out_h), oy = static_cast<int32_t>(row % g.out_h);
    const uint8_t* in_b = in + static_cast<size_t>(n) * g.in_h * g.in_w * g.in_c;
    uint8_t* out_row = out + row * g.out_w * g.out_c;
    row_kernel(d, in_b, oy, out_row);
    // The fused table, over the row while it is in L1 (64 bytes a lookup).
    d.table.apply(out_row, static_cast<size_t>(g.out_w) * g.out_c);
  });
  return ok_status();
}

bool take_output_table(OpData* data, const uint8_t* table) {
  return data && static_cast<Depthwise8Data*>(data)->table.take(table);
}

}  // namespace

const Kernel k8BitDepthwiseConv2d = {"simd", prepare, eval, fold_input_pad, take_output_table};

}  // namespace qdet::rt::simd
