// CONV_2D and DEPTHWISE_CONV_2D for int16x8 (int16 activations with zero point 0, int8
// per-channel weights, int64 or int32 bias), bit-exact with the reference kernels
// (reference/quantized: TFLite's reference_integer_ops) and many times faster.
//
// Exactness: TFLite sums the products in the bias type (int64 for 16x8). Here they are summed in
// int32, which gives the same integer whenever no partial sum can leave the int32 range: every
// |product| is at most 32768 * |w|, so a channel whose weights satisfy 32768 * sum|w| < 2^31 can
// be summed in any order in int32. prepare() checks that bound for every output channel and
// returns kUnsupported (the reference kernel runs) when a channel exceeds it. The bias is added
// and the result requantized exactly as the reference does, per output element.
//
// CONV_2D (groups == 1, constant filter): the filter is packed once to int16 pairs along the
// input channels, [oc block of 16][ky][kx][ic pair][16][2], so that one 32-bit broadcast of two
// input channels times one 64-byte row of weights is one AVX-512 VNNI vpdpwssd (16 channels x
// 2 products). Input channels are padded to even with zero weights.
// Without AVX-512 VNNI, plain loops over the same packing (compiled for Skylake-AVX512, AVX2 and
// baseline x86-64, chosen at load). DEPTHWISE_CONV_2D: channels are the vector lanes, products
// in int32. At most 4096 output channels (kUnsupported beyond).
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <vector>

#include "runtime/kernel_registry.h"
#include "runtime/kernels/reference/common.h"
#include "runtime/kernels/reference/quantized/conv_params.h"
#include "runtime/kernels/simd/kernels.h"
#include "base/simd_clones.h"

namespace qdet::rt::simd {
namespace {
std::atomic<bool> vnni_allowed{true};
}  // namespace

bool has_avx512_vnni() {
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
  return has && vnni_allowed.load();
}

void allow_vnni_for_testing(bool allow) { vnni_allowed.store(allow); }

namespace {

using quantized::ConvFamily;
using quantized::ConvQuant;

constexpr int64_t kMaxSumAbsWeight = (int64_t{1} << 31) / 32768;  // 65536

constexpr int32_t kMaxChannels = 4096;

bool has_vnni() { return has_avx512_vnni(); }

using Geometry = ref::ConvGeometry;

struct Int16Data : OpData {
  ConvQuant quant;
  Geometry g;
  bool vnni = false;
  std::vector<int64_t> bias;  // per output channel, 0 without a bias
  // CONV_2D: [oc_blocks][k_h][k_w][ic_pairs][16][2] int16. DEPTHWISE: [k_h][k_w][out_c] int32.
  std::vector<int16_t> packed;
  std::vector<int32_t> dw_filter;
  // DEPTHWISE with VNNI: [k_h][k_w][out_c rounded up to 16] int32 lanes holding the weight in
  // the low int16 and 0 in the high one, so vpdpwssd adds exactly x * w per lane.
  std::vector<int32_t> dw_lanes;
  int32_t dw_lane_stride = 0;
  int32_t ic_pairs = 0, oc_blocks = 0;
  // The int64 requantization's per-channel terms (requantize_row_avx512), when the bias is
  // int64 or absent: the Q15 multiplier, 15 - shift and its rounding term.
  std::vector<int64_t> q15, total_shift, rounding;
};

// The reference's requantization of one accumulator (its Acc type decides the rounding).
inline int16_t requantize(const Int16Data& d, int32_t sum, int32_t oc) {
  const ConvQuant& q = d.quant;
  int32_t v;
  if (q.bias_dtype == DType::kInt32)
    v = multiply_by_quantized_multiplier(static_cast<int32_t>(sum + static_cast<int32_t>(d.bias[oc])),
                                         q.multipliers.multiplier[oc], q.multipliers.shift[oc]);
  else
    v = multiply_by_quantized_multiplier(static_cast<int64_t>(sum) + d.bias[oc],
                                         q.multipliers.multiplier[oc], q.multipliers.shift[oc]);
  v += q.output_offset;
  return static_cast<int16_t>(std::clamp(v, q.activation.min, q.activation.max));
}

// requantize() for a whole pixel, 8 channels a step in int64 lanes: the same terms (TFLite's
// MultiplyByQuantizedMultiplier for int64 accumulators) in the same order, so the same bits.
__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl"))) void requantize_row_avx512(
    const Int16Data& d, const int32_t* acc, int16_t* out, int32_t channels) {
  const ConvQuant& q = d.quant;
  const __m512i offset = _mm512_set1_epi32(q.output_offset);
  const __m512i lo = _mm512_set1_epi32(q.activation.min), hi = _mm512_set1_epi32(q.activation.max);
  for (int32_t c = 0; c < channels; c += 8) {
    const __mmask8 m = channels - c >= 8 ? __mmask8{0xFF} : static_cast<__mmask8>((1u << (channels - c)) - 1);
    const __m512i sum = _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(m, acc + c));
    const __m512i x = _mm512_add_epi64(sum, _mm512_maskz_loadu_epi64(m, d.bias.data() + c));
    __m512i r = _mm512_add_epi64(_mm512_mullo_epi64(x, _mm512_maskz_loadu_epi64(m, d.q15.data() + c)),
                                 _mm512_maskz_loadu_epi64(m, d.rounding.data() + c));
    r = _mm512_srav_epi64(r, _mm512_maskz_loadu_epi64(m, d.total_shift.data() + c));
    __m512i v = _mm512_castsi256_si512(_mm512_cvtepi64_epi32(r));
    v = _mm512_min_epi32(_mm512_max_epi32(_mm512_add_epi32(v, offset), lo), hi);
    const __m128i packed = _mm256_cvtepi32_epi16(_mm512_castsi512_si256(v));
    _mm_mask_storeu_epi16(out + c, m, packed);
  }
}

Status check_family(const ConvQuant& q) {
  if (q.family != ConvFamily::kInt16x8) return unsupported("not int16x8");
  if (q.input_offset != 0 || q.filter_offset != 0) return unsupported("non-zero offsets");
  return ok_status();
}

std::vector<int64_t> bias_values(const TensorRef* bias, int32_t out_c) {
  std::vector<int64_t> b(static_cast<size_t>(out_c), 0);
  if (bias == nullptr) return b;
  for (int32_t i = 0; i < out_c; ++i)
    b[i] = bias->dtype == DType::kInt32 ? bias->as<const int32_t>()[i] : bias->as<const int64_t>()[i];
  return b;
}

// What both kernels check and compute: int16 input, constant int8 filter with output channels
// on `channel_axis` (0: CONV_2D [oc, kh, kw, ic]; 3: DEPTHWISE [1, kh, kw, c]), the 16x8
// quantization, the geometry (TFLite's, as the float kernels take it), the biases, and the
// int32 bound of every channel. kUnsupported otherwise (the reference kernel then runs and
// reports any error).
Result<std::unique_ptr<Int16Data>> prepare_int16(PrepareContext& ctx, const char* op, int channel_axis) {
  if (ctx.inputs.size() < 2 || ctx.outputs.size() != 1 || !ctx.inputs[0] || !ctx.inputs[1])
    return unsupported("arity");
  const TensorRef& in = *ctx.inputs[0];
  const TensorRef& filter = *ctx.inputs[1];
  const TensorRef* bias = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
  TensorRef& out = *ctx.outputs[0];
  if (in.dtype != DType::kInt16 || filter.dtype != DType::kInt8 || !filter.is_constant ||
      (bias && !bias->is_constant))
    return unsupported("int16 input with a constant int8 filter only");
  if (in.shape.size() != 4 || filter.shape.size() != 4 || filter.shape[3] != in.shape[3] ||
      (channel_axis == 3 && filter.shape[0] != 1))
    return unsupported("grouped convolution, depth multiplier other than 1, or malformed shapes");
  const int32_t out_c = filter.shape[channel_axis];
  if (out_c > kMaxChannels) return unsupported("more than {} output channels", kMaxChannels);
  QDET_ASSIGN_OR_RETURN(ConvQuant quant, quantized::prepare_conv_quant(op, in, filter, bias, out, out_c, channel_axis,
                                                                       ctx.op.attrs.activation));
  QDET_TRY(check_family(quant));
  Geometry g;
  if (Status s = ref::fill_conv_geometry(in, filter.shape[1], filter.shape[2], out_c, nullptr, ctx.op.attrs, &g);
      !s.ok())
    return unsupported("{}", s.message());
  // Weight k of channel c: [oc][k] for CONV_2D, [k][c] for DEPTHWISE_CONV_2D.
  const int8_t* w = filter.as<const int8_t>();
  const int64_t per_channel = filter.num_elements() / out_c;
  for (int32_t c = 0; c < out_c; ++c) {
    int64_t sum = 0;
    for (int64_t k = 0; k < per_channel; ++k)
      sum += std::abs(static_cast<int32_t>(w[channel_axis == 0 ? c * per_channel + k : k * out_c + c]));
    if (sum >= kMaxSumAbsWeight) return unsupported("channel {}: sum|w| {} could overflow int32", c, sum);
  }
  auto d = std::make_unique<Int16Data>();
  d->quant = std::move(quant);
  d->g = g;
  d->bias = bias_values(bias, out_c);
  if (d->quant.bias_dtype != DType::kInt32 && cpu_has_avx512_v4() && vnni_allowed.load()) {
    for (int32_t c = 0; c < out_c; ++c) {
      const int32_t multiplier = d->quant.multipliers.multiplier[c];
      const int shift = d->quant.multipliers.shift[c];
      if (multiplier < 0 || shift < -31 || shift > 7) {  // outside TFLite's assumptions: scalar
        d->q15.clear();
        break;
      }
      d->q15.push_back(multiplier < 0x7FFF0000 ? ((multiplier + (1 << 15)) >> 16) : 0x7FFF);
      d->total_shift.push_back(15 - shift);
      d->rounding.push_back(int64_t{1} << (14 - shift));
    }
    if (d->q15.empty()) {
      d->total_shift.clear();
      d->rounding.clear();
    }
  }
  out.shape = {g.batches, g.out_h, g.out_w, out_c};
  return d;
}

// Both kernels' eval: rows of the output over the threads; `pixel` sums one output pixel's
// channels into an int32 buffer, which is requantized as the reference does. `quad`, when not
// null, sums four neighbouring pixels at once into four such buffers; it is used where all four
// read only columns inside the input (interior_x).
using PixelFn = void (*)(const Int16Data&, const int16_t*, int32_t, int32_t, int32_t*);
using QuadFn = void (*)(const Int16Data&, const int16_t*, int32_t, int32_t, int32_t*, size_t);

// Whether output columns ox .. ox + n - 1 read only columns inside the input.
bool interior_x(const Geometry& g, int32_t ox, int32_t n) {
  return ox * g.stride_w - g.pad_left >= 0 &&
         (ox + n - 1) * g.stride_w - g.pad_left + (g.k_w - 1) * g.dil_w < g.in_w;
}

void requantize_pixel(const Int16Data& d, const int32_t* acc, int16_t* o) {
  if (!d.q15.empty())
    requantize_row_avx512(d, acc, o, d.g.out_c);
  else
    for (int32_t oc = 0; oc < d.g.out_c; ++oc) o[oc] = requantize(d, acc[oc], oc);
}

Status eval_rows(EvalContext& ctx, PixelFn pixel, QuadFn quad = nullptr) {
  const auto& d = *op_data_as<Int16Data>(ctx);
  const Geometry& g = d.g;
  const int16_t* in = ctx.inputs[0]->as<const int16_t>();
  int16_t* out = ctx.outputs[0]->as<int16_t>();
  const size_t rows = static_cast<size_t>(g.batches) * g.out_h;
  constexpr size_t kStride = kMaxChannels + 16;  // CONV_2D writes whole 16-channel blocks
  ref::parallel_for(ctx.threadpool, rows, [&](size_t row) {
    const int32_t n = static_cast<int32_t>(row / g.out_h), oy = static_cast<int32_t>(row % g.out_h);
    const int16_t* in_b = in + static_cast<size_t>(n) * g.in_h * g.in_w * g.in_c;
    const size_t stride = quad != nullptr ? static_cast<size_t>(d.oc_blocks) * 16 : kStride;
    alignas(64) int32_t acc[4 * kStride];
    int32_t ox = 0;
    while (ox < g.out_w) {
      int16_t* o = out + (row * g.out_w + ox) * g.out_c;
      if (quad != nullptr && ox + 4 <= g.out_w && interior_x(g, ox, 4)) {
        quad(d, in_b, oy, ox, acc, stride);
        for (int p = 0; p < 4; ++p) requantize_pixel(d, acc + p * stride, o + p * g.out_c);
        ox += 4;
      } else {
        pixel(d, in_b, oy, ox, acc);
        requantize_pixel(d, acc, o);
        ox += 1;
      }
    }
  });
  return ok_status();
}

// --- CONV_2D -------------------------------------------------------------------------------

// Sums of one output pixel: for each valid tap, each input channel pair, each 16-channel block.
// `acc` holds oc_blocks * 16 int32.
QDET_SIMD_CLONES void conv_pixel_portable(
    const Int16Data& d, const int16_t* in_b, int32_t oy, int32_t ox, int32_t* acc) {
  const Geometry& g = d.g;
  const int32_t blocks = d.oc_blocks, pairs = d.ic_pairs;
  std::fill(acc, acc + blocks * 16, 0);
  for (const auto [iy, ix, ky, kx] : WindowTaps(g, oy, ox)) {
    const int16_t* x = in_b + (static_cast<size_t>(iy) * g.in_w + ix) * g.in_c;
    for (int32_t b = 0; b < blocks; ++b) {
      const int16_t* w = d.packed.data() + ((static_cast<size_t>(b) * g.k_h + ky) * g.k_w + kx) * pairs * 32;
      int32_t* a = acc + b * 16;
      for (int32_t p = 0; p < pairs; ++p) {
        const int32_t x0 = x[2 * p];
        const int32_t x1 = 2 * p + 1 < g.in_c ? x[2 * p + 1] : 0;
        for (int l = 0; l < 16; ++l) a[l] += x0 * w[p * 32 + 2 * l] + x1 * w[p * 32 + 2 * l + 1];
      }
    }
  }
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) void conv_pixel_vnni(
    const Int16Data& d, const int16_t* in_b, int32_t oy, int32_t ox, int32_t* acc) {
  const Geometry& g = d.g;
  const int32_t blocks = d.oc_blocks, pairs = d.ic_pairs;
  // Up to 8 blocks (128 channels) in registers at a time.
  for (int32_t b0 = 0; b0 < blocks; b0 += 8) {
    const int32_t nb = std::min(8, blocks - b0);
    __m512i s[8];
    for (int i = 0; i < 8; ++i) s[i] = _mm512_setzero_si512();
    for (const auto [iy, ix, ky, kx] : WindowTaps(g, oy, ox)) {
      const int16_t* x = in_b + (static_cast<size_t>(iy) * g.in_w + ix) * g.in_c;
      const size_t tap = (static_cast<size_t>(ky) * g.k_w + kx) * pairs * 32;
      const size_t block_stride = static_cast<size_t>(g.k_h) * g.k_w * pairs * 32;
      const int16_t* w0 = d.packed.data() + b0 * block_stride + tap;
      for (int32_t p = 0; p < pairs; ++p) {
        int32_t two;
        if (2 * p + 1 < g.in_c)
          std::memcpy(&two, x + 2 * p, 4);
        else
          two = static_cast<uint16_t>(x[2 * p]);  // odd tail: its pair's weight is 0
        const __m512i xv = _mm512_set1_epi32(two);
        for (int i = 0; i < nb; ++i) {
          const __m512i wv = _mm512_loadu_si512(w0 + i * block_stride + p * 32);
          s[i] = _mm512_dpwssd_epi32(s[i], xv, wv);
        }
      }
    }
    for (int i = 0; i < nb; ++i) _mm512_storeu_si512(acc + (b0 + i) * 16, s[i]);
  }
}

// conv_pixel_vnni for output columns ox .. ox + 3, all inside the input horizontally: each
// weight row loaded serves four pixels, and 16 independent accumulators (4 blocks x 4 pixels)
// keep the VNNI units busy where one pixel's single chain would wait on each sum. Pixel p's
// sums go to acc + p * stride.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void conv_quad_vnni(
    const Int16Data& d, const int16_t* in_b, int32_t oy, int32_t ox, int32_t* acc, size_t stride) {
  const Geometry& g = d.g;
  const int32_t blocks = d.oc_blocks, pairs = d.ic_pairs;
  const bool odd = g.in_c % 2 != 0;
  const size_t block_stride = static_cast<size_t>(g.k_h) * g.k_w * pairs * 32;
  const size_t pixel_step = static_cast<size_t>(g.stride_w) * g.in_c;
  for (int32_t b0 = 0; b0 < blocks; b0 += 4) {
    const int32_t nb = std::min(4, blocks - b0);
    __m512i s[4][4];
    for (auto& row : s)
      for (auto& v : row) v = _mm512_setzero_si512();
    // Pixel ox's taps; pixels ox + 1 .. ox + 3 read the same taps pixel_step further on.
    for (const auto [iy, ix, ky, kx] : WindowTaps(g, oy, ox)) {
      const int16_t* x = in_b + (static_cast<size_t>(iy) * g.in_w + ix) * g.in_c;
      const int16_t* w0 = d.packed.data() + b0 * block_stride + (static_cast<size_t>(ky) * g.k_w + kx) * pairs * 32;
      for (int32_t p = 0; p < pairs; ++p) {
        __m512i xv[4];
        for (int q = 0; q < 4; ++q) {
          const int16_t* xq = x + q * pixel_step + 2 * p;
          int32_t two;
          if (!odd || 2 * p + 1 < g.in_c)
            std::memcpy(&two, xq, 4);
          else
            two = static_cast<uint16_t>(xq[0]);  // odd tail: its pair's weight is 0
          xv[q] = _mm512_set1_epi32(two);
        }
        for (int i = 0; i < nb; ++i) {
          const __m512i wv = _mm512_loadu_si512(w0 + i * block_stride + p * 32);
          for (int q = 0; q < 4; ++q) s[i][q] = _mm512_dpwssd_epi32(s[i][q], xv[q], wv);
        }
      }
    }
    for (int i = 0; i < nb; ++i)
      for (int q = 0; q < 4; ++q) _mm512_storeu_si512(acc + q * stride + (b0 + i) * 16, s[i][q]);
  }
}

Status conv_prepare(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(auto d, prepare_int16(ctx, "CONV_2D", 0));
  const Geometry& g = d->g;
  const int8_t* w = ctx.inputs[1]->as<const int8_t>();
  d->vnni = has_vnni();
  d->ic_pairs = (g.in_c + 1) / 2;
  d->oc_blocks = (g.out_c + 15) / 16;
  d->packed.assign(static_cast<size_t>(d->oc_blocks) * g.k_h * g.k_w * d->ic_pairs * 32, 0);
  for (int32_t oc = 0; oc < g.out_c; ++oc)
    for (int32_t ky = 0; ky < g.k_h; ++ky)
      for (int32_t kx = 0; kx < g.k_w; ++kx)
        for (int32_t ic = 0; ic < g.in_c; ++ic) {
          const size_t dst = ((((static_cast<size_t>(oc / 16) * g.k_h + ky) * g.k_w + kx) * d->ic_pairs + ic / 2) * 16 +
                              oc % 16) * 2 + ic % 2;
          d->packed[dst] = w[((static_cast<size_t>(oc) * g.k_h + ky) * g.k_w + kx) * g.in_c + ic];
        }
  ctx.op_data = std::move(d);
  return ok_status();
}

Status conv_eval(EvalContext& ctx) {
  return op_data_as<Int16Data>(ctx)->vnni ? eval_rows(ctx, conv_pixel_vnni, conv_quad_vnni)
                                          : eval_rows(ctx, conv_pixel_portable);
}

// --- DEPTHWISE_CONV_2D ---------------------------------------------------------------------

Status depthwise_prepare(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(auto d, prepare_int16(ctx, "DEPTHWISE_CONV_2D", 3));
  const int8_t* w = ctx.inputs[1]->as<const int8_t>();
  d->dw_filter.assign(w, w + static_cast<size_t>(d->g.k_h) * d->g.k_w * d->g.out_c);
  d->vnni = has_vnni();
  if (d->vnni) {
    const int32_t taps = d->g.k_h * d->g.k_w, c = d->g.out_c;
    d->dw_lane_stride = (c + 15) / 16 * 16;
    d->dw_lanes.assign(static_cast<size_t>(taps) * d->dw_lane_stride, 0);
    for (int32_t t = 0; t < taps; ++t)
      for (int32_t k = 0; k < c; ++k)
        d->dw_lanes[static_cast<size_t>(t) * d->dw_lane_stride + k] =
            static_cast<uint16_t>(static_cast<int16_t>(w[static_cast<size_t>(t) * c + k]));
  }
  ctx.op_data = std::move(d);
  return ok_status();
}

QDET_SIMD_CLONES void depthwise_pixel(
    const Int16Data& d, const int16_t* in_b, int32_t oy, int32_t ox, int32_t* acc) {
  const Geometry& g = d.g;
  std::fill(acc, acc + g.out_c, 0);
  for (const auto [iy, ix, ky, kx] : WindowTaps(g, oy, ox)) {
    const int16_t* x = in_b + (static_cast<size_t>(iy) * g.in_w + ix) * g.in_c;
    const int32_t* w = d.dw_filter.data() + (static_cast<size_t>(ky) * g.k_w + kx) * g.out_c;
    for (int32_t c = 0; c < g.out_c; ++c) acc[c] += static_cast<int32_t>(x[c]) * w[c];
  }
}

// depthwise_pixel with the channels in 16-lane registers summed over all taps before one store:
// up to 4 blocks of 16 channels at a time, int16 inputs widened to int32 lanes, one vpdpwssd a
// tap and block (the weight's partner lane is 0, so each lane gains exactly x * w).
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"))) void depthwise_pixel_vnni(
    const Int16Data& d, const int16_t* in_b, int32_t oy, int32_t ox, int32_t* acc) {
  const Geometry& g = d.g;
  for (int32_t c0 = 0; c0 < g.out_c; c0 += 64) {
    __m512i s[4];
    __mmask16 m[4];
    int nb = 0;
    for (; nb < 4 && c0 + nb * 16 < g.out_c; ++nb) {
      const int32_t left = g.out_c - (c0 + nb * 16);
      m[nb] = left >= 16 ? __mmask16{0xFFFF} : static_cast<__mmask16>((1u << left) - 1);
      s[nb] = _mm512_setzero_si512();
    }
    for (const auto [iy, ix, ky, kx] : WindowTaps(g, oy, ox)) {
      const int16_t* x = in_b + (static_cast<size_t>(iy) * g.in_w + ix) * g.in_c + c0;
      const int32_t* w = d.dw_lanes.data() + static_cast<size_t>(ky * g.k_w + kx) * d.dw_lane_stride + c0;
      for (int i = 0; i < nb; ++i) {
        const __m512i xv = _mm512_cvtepi16_epi32(_mm256_maskz_loadu_epi16(m[i], x + i * 16));
        s[i] = _mm512_dpwssd_epi32(s[i], xv, _mm512_loadu_si512(w + i * 16));
      }
    }
    for (int i = 0; i < nb; ++i) _mm512_storeu_si512(acc + c0 + i * 16, s[i]);
  }
}

Status depthwise_eval(EvalContext& ctx) {
  return op_data_as<Int16Data>(ctx)->vnni ? eval_rows(ctx, depthwise_pixel_vnni) : eval_rows(ctx, depthwise_pixel);
}

}  // namespace


const Kernel kInt16x8Conv2d = {"simd", conv_prepare, conv_eval};
const Kernel kInt16x8DepthwiseConv2d = {"simd", depthwise_prepare, depthwise_eval};

}  // namespace qdet::rt::simd

namespace qdet::rt {

void register_simd_kernels(KernelRegistry& r) {
  r.add(graph::OpKind::kConv2d, KernelImpl::kSimd, simd::kFloatConv2d);
  r.add(graph::OpKind::kConv2d, KernelImpl::kSimd, simd::k8BitPointwiseConv2d);
  r.add(graph::OpKind::kConv2d, KernelImpl::kSimd, simd::kInt16x8Conv2d);
  r.add(graph::OpKind::kDepthwiseConv2d, KernelImpl::kSimd, simd::kFloatDepthwiseConv2d);
  r.add(graph::OpKind::kDepthwiseConv2d, KernelImpl::kSimd, simd::kInt16x8DepthwiseConv2d);
  r.add(graph::OpKind::kDepthwiseConv2d, KernelImpl::kSimd, simd::k8BitDepthwiseConv2d);
  r.add(graph::OpKind::kMaxPool2d, KernelImpl::kSimd, simd::kSeparableMaxPool2d);
}

}  // namespace qdet::rt
