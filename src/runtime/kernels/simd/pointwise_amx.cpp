// int8 and uint8 CONV_2D with a 1x1 filter at stride 1 (the pointwise convolutions of
// depthwise-separable networks) on AMX tiles, with XNNPACK's arithmetic: exact int32 sums, then
// XNNPACK's fp32 requantization, so its bytes are those of the XNNPACK and oneDNN kernels (and
// of TFLite's XNNPACK delegate). oneDNN 2.6 runs these convolutions on AMX too, but writes its
// int32 sums to memory and qdet requantizes them in a second pass; here each 16 x 16 block of
// sums is requantized while it is still in L1, and the small convolutions of a detector
// (16-256 channels at 13x13 to 104x104) no longer pay a primitive call each.
//
// Arithmetic. A 1x1 convolution at stride 1 is a matrix product: output pixel p, channel n is
// sum over k of x[p][k] * w'[n][k] with w' = w - w_zp, and NHWC input rows are the pixels. One
// TDPBSSD (int8 input) or TDPBUSD (uint8 input) multiplies a tile of 16 pixels x 64 input
// channels by a tile of 64 input channels x 16 output channels (packed at prepare four input
// channels to each 32-bit lane) and adds the products to 16 x 16 int32 sums. The input zero
// point is folded into the bias at prepare: sum (x - x_zp) w' = sum x w' - x_zp sum w'.
// Requantization per channel n, as XNNPACK: q = clamp(round_half_even(float(acc + bias) * s[n]),
// qmin - zp, qmax - zp) + zp, s[n] = float(in_scale * w_scale[n] / out_scale); prepare refuses
// the scales XNNPACK refuses.
//
// A byte table read only by the convolution's output (a tabulated SiLU) can be fused in
// (Kernel::take_output_table): it is applied to each block of 32 pixels' bytes right after
// they are stored, while they are in L1, 64 bytes a lookup (a lookup in the requantization's
// 16-byte stores cost more than the separate pass it replaced).
//
// Tiling: tiles 0-3 hold the sums of 32 pixels x 32 channels, 4-5 the two 16-pixel input
// tiles, 6-7 the two 16-channel weight tiles. Input channels are taken 64 at a time (or all of
// them when there are at most 64; a count that is neither is refused: oneDNN runs it). The
// last block of pixels is copied into a zero-padded scratch, so no tile reads past the input.
//
// AMX needs the kernel's permission (arch_prctl ARCH_REQ_XCOMP_PERM, once per process); without
// AMX (or without that permission), or with QDET_AMX=0, prepare answers kUnsupported and oneDNN
// runs the op.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC bug 105593, see depthwise_8bit.cpp
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <memory>
#include <vector>

#include "runtime/kernel_registry.h"
#include "runtime/kernels/reference/common.h"
#include "runtime/kernels/reference/quantized/conv_params.h"
#include "runtime/kernels/simd/kernels.h"
#include "runtime/lut_fusion.h"

namespace qdet::rt::simd {
namespace {

constexpr int32_t kTilePixels = 16;    // rows of an input or sum tile
constexpr int32_t kTileChannels = 16;  // int32 columns of a sum or weight tile
constexpr int32_t kMaxChunk = 64;      // input channels per tile (64 bytes a row)
constexpr int32_t kBlockPixels = 2 * kTilePixels;      // pixels of one block (tiles 4 and 5)
constexpr int32_t kMaxInputChannels = 16384;           // int32 sums stay exact: 255 * 128 * 16384 < 2^31

std::atomic<bool> amx_allowed{true};

bool request_amx() {
  if (const char* env = std::getenv("QDET_AMX"); env && std::string(env) == "0") return false;
  if (!__builtin_cpu_supports("amx-tile") || !__builtin_cpu_supports("amx-int8")) return false;
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}

// The 64-byte operand of LDTILECFG (palette 1).
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};
static_assert(sizeof(TileConfig) == 64);

struct PointwiseData : OpData {
  int64_t pixels = 0;
  int32_t in_c = 0, out_c = 0;
  int32_t chunk = 0, chunks = 0;  // input channels per tile, tiles per input row
  int32_t oc_blocks = 0;          // output channels in blocks of 16 (the last zero-padded)
  bool is_signed = true;          // int8 input and output (else uint8)
  float lo = 0, hi = 0;           // the clamp, less the output zero point
  int32_t magic_less_zero_point = 0;
  TileConfig config;
  // [oc_block][chunk][chunk / 4 rows][16 channels][4 input channels]: w - w_zp, 0 past out_c.
  std::vector<int8_t> packed;
  std::vector<int32_t> bias;  // [oc_blocks * 16]: bias - x_zp * sum of w - w_zp
  std::vector<float> scale;   // [oc_blocks * 16]: the requantization scale (1 past out_c)
  OutputTable table;  // applied to every output byte when on (Kernel::take_output_table)
};

// Requantizes rows of a 16 x 16 block of sums (`rows` valid pixels, `channels` valid channels
// from `oc`) into `out` (row stride out_c bytes).
__attribute__((target("avx512f,avx512bw,avx512vl"))) void requantize_tile(
    const PointwiseData& d, const int32_t* sums, int32_t rows, int32_t oc, uint8_t* out) {
  const int32_t channels = std::min(kTileChannels, d.out_c - oc);
  if (channels <= 0) return;
  const __mmask16 mask = channels == 16 ? __mmask16{0xFFFF} : static_cast<__mmask16>((1u << channels) - 1);
  const __m512i bias = _mm512_loadu_si512(d.bias.data() + oc);
  const __m512 scale = _mm512_loadu_ps(d.scale.data() + oc);
  const __m512 lo = _mm512_set1_ps(d.lo), hi = _mm512_set1_ps(d.hi);
  const __m512 magic = _mm512_set1_ps(12582912.0f);
  const __m512i magic_less_zp = _mm512_set1_epi32(d.magic_less_zero_point);
  for (int32_t r = 0; r < rows; ++r) {
    const __m512i acc = _mm512_add_epi32(_mm512_loadu_si512(sums + r * kTileChannels), bias);
    __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), scale);
    f = _mm512_min_ps(_mm512_max_ps(f, lo), hi);
    const __m512i q = _mm512_sub_epi32(_mm512_castps_si512(_mm512_add_ps(f, magic)), magic_less_zp);
    _mm512_mask_cvtepi32_storeu_epi8(out + static_cast<size_t>(r) * d.out_c + oc, mask, q);
  }
}

// sums[c] += input[a] x weights[b]: TDPBSSD for int8 input, TDPBUSD for uint8 (a macro: the
// tile numbers must be immediates).
#define QDET_TILE_DOT(c, a, b)  \
  do {                          \
    if constexpr (Signed)       \
      _tile_dpbssd(c, a, b);    \
    else                        \
      _tile_dpbusd(c, a, b);    \
  } while (0)

// One block of 32 pixels (`rows` of them valid) read from `in` (row stride in_c), all output
// channels, written from `out` on. The tile configuration is loaded.
template <bool Signed>
__attribute__((target("amx-tile,amx-int8,avx512f,avx512bw,avx512vl"))) void pixel_block(
    const PointwiseData& d, const uint8_t* in, int32_t rows, uint8_t* out) {
  alignas(64) int32_t sums[4][kTilePixels * kTileChannels];
  const size_t in_stride = static_cast<size_t>(d.in_c);
  const size_t chunk_bytes = static_cast<size_t>(d.chunk) * kTileChannels;  // one weight tile
  const size_t block_bytes = chunk_bytes * static_cast<size_t>(d.chunks);   // one block of 16 channels
  for (int32_t nb = 0; nb < d.oc_blocks; nb += 2) {
    const bool two = nb + 1 < d.oc_blocks;
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    const int8_t* w0 = d.packed.data() + static_cast<size_t>(nb) * block_bytes;
    const int8_t* w1 = w0 + block_bytes;
    for (int32_t kc = 0; kc < d.chunks; ++kc) {
      const uint8_t* a = in + static_cast<size_t>(kc) * d.chunk;
      _tile_loadd(4, a, in_stride);
      _tile_loadd(5, a + kTilePixels * in_stride, in_stride);
      _tile_loadd(6, w0 + kc * chunk_bytes, 64);
      QDET_TILE_DOT(0, 4, 6);
      QDET_TILE_DOT(2, 5, 6);
      if (two) {
        _tile_loadd(7, w1 + kc * chunk_bytes, 64);
        QDET_TILE_DOT(1, 4, 7);
        QDET_TILE_DOT(3, 5, 7);
      }
    }
    _tile_stored(0, sums[0], 64);
    _tile_stored(2, sums[2], 64);
    if (two) {
      _tile_stored(1, sums[1], 64);
      _tile_stored(3, sums[3], 64);
    }
    const int32_t oc = nb * kTileChannels;
    const int32_t top = std::min(rows, kTilePixels), bottom = rows - top;
    uint8_t* out_bottom = out + static_cast<size_t>(kTilePixels) * d.out_c;
    requantize_tile(d, sums[0], top, oc, out);
    if (bottom > 0) requantize_tile(d, sums[2], bottom, oc, out_bottom);
    if (two) {
      requantize_tile(d, sums[1], top, oc + kTileChannels, out);
      if (bottom > 0) requantize_tile(d, sums[3], bottom, oc + kTileChannels, out_bottom);
    }
  }
}

// Blocks [begin, end) of the op; the last may be partial (copied into `tail`, zero-padded).
template <bool Signed>
__attribute__((target("amx-tile,amx-int8"))) void pixel_blocks(const PointwiseData& d, const uint8_t* in,
                                                               uint8_t* out, int64_t begin, int64_t end,
                                                               uint8_t* tail) {
  _tile_loadconfig(&d.config);
  for (int64_t b = begin; b < end; ++b) {
    const int64_t p = b * kBlockPixels;
    const int32_t rows = static_cast<int32_t>(std::min<int64_t>(kBlockPixels, d.pixels - p));
    const uint8_t* src = in + static_cast<size_t>(p) * d.in_c;
    if (rows < kBlockPixels) {
      const size_t bytes = static_cast<size_t>(rows) * d.in_c;
      std::memcpy(tail, src, bytes);
      std::memset(tail + bytes, 0, static_cast<size_t>(kBlockPixels) * d.in_c - bytes);
      src = tail;
    }
    uint8_t* dst = out + static_cast<size_t>(p) * d.out_c;
    pixel_block<Signed>(d, src, rows, dst);
    // The fused table, over the block's bytes while they are in L1 (64 bytes a lookup).
    d.table.apply(dst, static_cast<size_t>(rows) * d.out_c);
  }
  _tile_release();
}

int32_t weight_at(const TensorRef& filter, int32_t w_zp, int32_t n, int32_t k, int32_t in_c) {
  const uint8_t b = filter.data[static_cast<size_t>(n) * in_c + k];
  return (filter.dtype == DType::kInt8 ? int32_t{static_cast<int8_t>(b)} : int32_t{b}) - w_zp;
}

Status prepare(PrepareContext& ctx) {
  if (!has_amx_int8()) return unsupported("no AMX (or no permission to use it)");
  QDET_ASSIGN_OR_RETURN(quantized::WeightedTensors t, quantized::weighted_tensors(ctx, "CONV_2D"));
  if (t.input.dtype != DType::kInt8 && t.input.dtype != DType::kUInt8)
    return unsupported("input is {}, this kernel takes int8 or uint8", dtype_name(t.input.dtype));
  if (!t.filter.is_constant || !t.filter.data || (t.bias && (!t.bias->is_constant || !t.bias->data)))
    return unsupported("constant filter and bias");
  if (t.input.shape.size() != 4 || t.filter.shape.size() != 4 || t.filter.shape[1] != 1 ||
      t.filter.shape[2] != 1 || t.filter.shape[3] != t.input.shape[3])
    return unsupported("1x1 filters over all input channels only");
  const graph::OpAttrs& a = ctx.op.attrs;
  if (a.stride_h != 1 || a.stride_w != 1) return unsupported("stride 1 only");
  const int32_t in_c = t.input.shape[3], out_c = t.filter.shape[0];
  if (in_c % 4 != 0 || (in_c > kMaxChunk && in_c % kMaxChunk != 0) || in_c > kMaxInputChannels)
    return unsupported("{} input channels: a multiple of 4 up to 64, or of 64 up to {}", in_c, kMaxInputChannels);
  auto checked = quantized::prepare_conv_quant("CONV_2D", t.input, t.filter, t.bias, t.output, out_c,
                                               /*channel_axis=*/0, a.activation);
  if (!checked.ok()) return Status(StatusCode::kUnsupported, checked.status().message());
  if (t.bias && checked->bias_dtype != DType::kInt32) return unsupported("int32 bias only");
  if (t.input.quant->scale.size() != 1 || t.output.quant->scale.size() != 1)
    return unsupported("per-tensor input and output");
  if (t.output.dtype != t.input.dtype) return unsupported("output type differs from the input's");
  const int32_t w_zp = -checked->filter_offset, x_zp = t.input.zero_point();
  for (int32_t n = 0; n < out_c; ++n)
    for (int32_t k = 0; k < in_c; ++k)
      if (const int32_t w = weight_at(t.filter, w_zp, n, k, in_c); w < -128 || w > 127)
        return unsupported("weights minus their zero point do not fit int8 (oneDNN runs them)");

  auto d = std::make_unique<PointwiseData>();
  d->pixels = int64_t{t.input.shape[0]} * t.input.shape[1] * t.input.shape[2];
  d->in_c = in_c;
  d->out_c = out_c;
  d->chunk = std::min(in_c, kMaxChunk);
  d->chunks = in_c / d->chunk;
  d->oc_blocks = (out_c + kTileChannels - 1) / kTileChannels;
  d->is_signed = t.input.dtype == DType::kInt8;
  const int32_t out_zp = t.output.zero_point();
  d->lo = static_cast<float>(checked->activation.min - out_zp);
  d->hi = static_cast<float>(checked->activation.max - out_zp);
  d->magic_less_zero_point = 0x4B400000 - out_zp;

  const size_t lanes = static_cast<size_t>(d->oc_blocks) * kTileChannels;
  d->scale.assign(lanes, 1.0f);
  d->bias.assign(lanes, 0);
  for (int32_t n = 0; n < out_c; ++n) {
    QDET_ASSIGN_OR_RETURN(d->scale[static_cast<size_t>(n)], quantized::xnnpack_requantization_scale(t, n));
  }
  d->packed.assign(lanes * static_cast<size_t>(in_c), 0);
  for (int32_t n = 0; n < out_c; ++n) {
    int64_t sum = 0;
    const int32_t nb = n / kTileChannels, lane = n % kTileChannels;
    for (int32_t k = 0; k < in_c; ++k) {
      const int32_t w = weight_at(t.filter, w_zp, n, k, in_c);
      sum += w;
      const int32_t kc = k / d->chunk, row = (k % d->chunk) / 4;
      const size_t at = ((static_cast<size_t>(nb) * d->chunks + kc) * (d->chunk / 4) + row) * 64 +
                        static_cast<size_t>(lane) * 4 + k % 4;
      d->packed[at] = static_cast<int8_t>(w);
    }
    const int64_t bias = t.bias ? t.bias->as<const int32_t>()[n] : 0;
    d->bias[static_cast<size_t>(n)] = static_cast<int32_t>(bias - int64_t{x_zp} * sum);
  }
  // Sum tiles 0-3: 16 rows of 16 int32; input tiles 4-5: 16 pixels of `chunk` bytes; weight
  // tiles 6-7: chunk / 4 rows of 16 lanes of 4 bytes.
  for (int tile = 0; tile < 8; ++tile) {
    const bool sum = tile < 4, input = tile == 4 || tile == 5;
    d->config.rows[tile] = static_cast<uint8_t>(sum || input ? kTilePixels : d->chunk / 4);
    d->config.colsb[tile] = static_cast<uint16_t>(input ? d->chunk : 64);
  }
  t.output.shape = {t.input.shape[0], t.input.shape[1], t.input.shape[2], out_c};
  // One zero-padded copy of the last block's pixels (only the task that owns that block uses it).
  ctx.scratch_bytes = static_cast<size_t>(kBlockPixels) * in_c;
  ctx.op_data = std::move(d);
  return ok_status();
}

Status eval(EvalContext& ctx) {
  const auto& d = *op_data_as<PointwiseData>(ctx);
  const uint8_t* in = ctx.inputs[0]->data;
  uint8_t* out = ctx.outputs[0]->data;
  const int64_t blocks = (d.pixels + kBlockPixels - 1) / kBlockPixels;
  const size_t threads = ctx.threadpool ? pthreadpool_get_threads_count(ctx.threadpool) : 1;
  const size_t tasks = std::min<size_t>(threads, static_cast<size_t>(blocks));
  const auto run = d.is_signed ? pixel_blocks<true> : pixel_blocks<false>;
  ref::parallel_for(ctx.threadpool, tasks, [&](size_t task) {
    const int64_t begin = blocks * static_cast<int64_t>(task) / static_cast<int64_t>(tasks);
    const int64_t end = blocks * static_cast<int64_t>(task + 1) / static_cast<int64_t>(tasks);
    run(d, in, out, begin, end, ctx.scratch);
  });
  return ok_status();
}

bool take_output_table(OpData* data, const uint8_t* table) {
  return data && static_cast<PointwiseData*>(data)->table.take(table);
}

}  // namespace

bool has_amx_int8() {
  static const bool has = request_amx();
  return has && amx_allowed.load();
}

void allow_amx_for_testing(bool allow) { amx_allowed.store(allow); }

const Kernel k8BitPointwiseConv2d = {"simd", prepare, eval, /*fold_input_pad=*/nullptr, take_output_table};

}  // namespace qdet::rt::simd
