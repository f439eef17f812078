// float32 DEPTHWISE_CONV_2D (depth multiplier 1) with XNNPACK's float operations: its bytes, with
// less overhead a pixel.
//
// XNNPACK's AVX-512 depthwise convolution (Debian's 2022 build: the f32 DWCONV "up16xK"
// microkernels, one accumulator) computes each output as bias, then one FMA per filter tap, the
// taps in its indirection order (kx outer, ky inner), zeros read for padding; then
// max(., min), min(., max). It walks one pixel at a time through an indirection buffer, so with
// YOLOX-Nano's 16 and 32 channels most of its time is pointer work. This kernel does the same
// operations in the same order per output, for 8 pixels of a row at a time (one weight load
// serves 8 pixels) where their reads are evenly spaced inside the image, and one pixel at a
// time at the padded edges (a zero vector standing for XNNPACK's zero buffer).
//
// prepare packs the filter as [channel vector][tap][16] with the bias after each vector's taps;
// eval splits the output rows among the threads. Denormals are off, as in XNNPACK's threads.
// Like qdet's float convolution, it can write the exact SiLU of its outputs (take_output_silu).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC bug 105593, see depthwise_8bit.cpp
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <vector>

#include "runtime/denormals.h"
#include "runtime/kernel_util.h"
#include "runtime/kernels/reference/common.h"
#include "runtime/kernels/simd/kernels.h"
#include "runtime/kernels/simd/silu_exact.h"
#include "runtime/kernels/xnnpack/kernels.h"

namespace qdet::rt::simd {
namespace {

constexpr int kLanes = 16;
constexpr int kTile = 8;       // pixels a tile
constexpr int kMaxTaps = 25;   // up to 5x5 filters
// Row steps (input floats from one pixel of a tile to the next: stride x channels) compiled with
// constant offsets.
constexpr std::array<int, 10> kSteps = {16, 24, 32, 48, 64, 96, 128, 192, 256, 384};

struct DepthwiseData : OpData {
  ConvGeometry g;
  int32_t vectors = 0;           // channel vectors (the last may be partial)
  std::vector<float> storage;    // packed filter and bias, from `packed` (64-byte aligned)
  float* packed = nullptr;
  std::vector<float> zeros;      // a zero row for taps above or below the image
  std::vector<int32_t> tap_dy, tap_dx;  // per tap in XNNPACK's order: its row and column offsets (dilated)
  int step_index = -1;
  bool silu = false;
};

struct Row {
  const float* const* taps;  // per tap in XNNPACK's order: where the first pixel of the tile reads
  const ptrdiff_t* advance;  // tiles: per tap, floats from one tile's reads to the next's (0: zero row)
  int32_t tiles;             // tiles: how many, one after the other along the row
  const float* w;            // this channel vector's taps, then its bias
  float* out;                // first pixel, this channel vector
  int32_t out_stride;        // floats from one output pixel to the next
  __mmask16 mask;            // channels of this vector
  int32_t taps_count;
  float min, max;
  bool silu;
};

// t.tiles tiles of kTile pixels, one after the other.
template <int STEP>
__attribute__((target("avx512f"))) void tiles(const Row& t) {
  const float* bias = t.w + static_cast<size_t>(t.taps_count) * kLanes;
  const __m512 lo = _mm512_set1_ps(t.min), hi = _mm512_set1_ps(t.max);
  float* out = t.out;
  for (int32_t j = 0; j < t.tiles; ++j, out += static_cast<size_t>(kTile) * t.out_stride) {
    __m512 acc[kTile];
    const __m512 b = _mm512_load_ps(bias);
#pragma GCC unroll 8
    for (int r = 0; r < kTile; ++r) acc[r] = b;
    const float* w = t.w;
    for (int32_t k = 0; k < t.taps_count; ++k, w += kLanes) {
      const __m512 wv = _mm512_load_ps(w);
      const float* p = t.taps[k] + j * t.advance[k];
#pragma GCC unroll 8
      for (int r = 0; r < kTile; ++r) acc[r] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(t.mask, p + r * STEP), wv, acc[r]);
    }
#pragma GCC unroll 8
    for (int r = 0; r < kTile; ++r) acc[r] = _mm512_min_ps(_mm512_max_ps(acc[r], lo), hi);
    if (t.silu) {
      const SiluConstants silu = silu_constants();
#pragma GCC unroll 8
      for (int r = 0; r < kTile; ++r) acc[r] = silu_exact_lanes<true>(acc[r], silu);
    }
#pragma GCC unroll 8
    for (int r = 0; r < kTile; ++r) _mm512_mask_storeu_ps(out + static_cast<size_t>(r) * t.out_stride, t.mask, acc[r]);
  }
}

using TileFn = void (*)(const Row&);
template <size_t... I>
constexpr std::array<TileFn, sizeof...(I)> tile_table(std::index_sequence<I...>) {
  return {&tiles<kSteps[I]>...};
}
constexpr auto kTiles = tile_table(std::make_index_sequence<kSteps.size()>{});

// One pixel: taps[k] is its read for tap k, or null for padding (a zero vector).
__attribute__((target("avx512f"))) void pixel(const Row& t) {
  const float* bias = t.w + static_cast<size_t>(t.taps_count) * kLanes;
  __m512 acc = _mm512_load_ps(bias);
  const float* w = t.w;
  for (int32_t k = 0; k < t.taps_count; ++k, w += kLanes) {
    const __m512 x = t.taps[k] ? _mm512_maskz_loadu_ps(t.mask, t.taps[k]) : _mm512_setzero_ps();
    acc = _mm512_fmadd_ps(x, _mm512_load_ps(w), acc);
  }
  acc = _mm512_min_ps(_mm512_max_ps(acc, _mm512_set1_ps(t.min)), _mm512_set1_ps(t.max));
  if (t.silu) acc = silu_exact_lanes<true>(acc, silu_constants());
  _mm512_mask_storeu_ps(t.out, t.mask, acc);
}

void run_row(const DepthwiseData& d, const float* input, float* output, int32_t n, int32_t oy) {
  const ConvGeometry& g = d.g;
  const int32_t taps = g.k_h * g.k_w;
  const float* image = input + static_cast<size_t>(n) * g.in_h * g.in_w * g.in_c;
  float* out_row = output + (static_cast<size_t>(n) * g.out_h + oy) * g.out_w * g.out_c;
  std::array<const float*, kMaxTaps> ptrs;
  std::array<ptrdiff_t, kMaxTaps> advance;
  // Output columns whose every tap reads inside the image's columns: [x_begin, x_end).
  const int32_t x_begin = std::min<int32_t>(g.out_w, (g.pad_left + g.stride_w - 1) / g.stride_w);
  const int32_t last_read = (g.k_w - 1) * g.dil_w - g.pad_left;  // column read by ox = 0's last tap
  const int32_t x_fit = last_read >= g.in_w ? 0 : (g.in_w - 1 - last_read) / g.stride_w + 1;
  const int32_t x_end = std::max<int32_t>(x_begin, std::min<int32_t>(g.out_w, x_fit));
  for (int32_t v = 0; v < d.vectors; ++v) {
    const int32_t left = g.in_c - v * kLanes;
    Row t{ptrs.data(), advance.data(), 0, d.packed + static_cast<size_t>(v) * (taps + 1) * kLanes,
          out_row + v * kLanes, g.out_c,
          static_cast<__mmask16>(left >= kLanes ? 0xFFFF : (1u << left) - 1), taps, g.act.min, g.act.max, d.silu};
    const auto point = [&](int32_t ox, bool tiled) {
      for (int32_t i = 0; i < taps; ++i) {
        const int32_t iy = oy * g.stride_h - g.pad_top + d.tap_dy[static_cast<size_t>(i)];
        const int32_t ix = ox * g.stride_w - g.pad_left + d.tap_dx[static_cast<size_t>(i)];
        const bool row_inside = iy >= 0 && iy < g.in_h;
        advance[static_cast<size_t>(i)] = row_inside ? ptrdiff_t{kTile} * g.stride_w * g.in_c : 0;
        // Tiles read inside the image's columns; their taps on rows above or below read the zero row.
        const bool inside = row_inside && (tiled || (ix >= 0 && ix < g.in_w));
        const float* outside = tiled ? d.zeros.data() : nullptr;
        ptrs[static_cast<size_t>(i)] =
            inside ? image + (static_cast<size_t>(iy) * g.in_w + ix) * g.in_c + v * kLanes : outside;
      }
    };
    int32_t ox = 0;
    for (; ox < x_begin; ++ox) {
      point(ox, false);
      t.out = out_row + static_cast<size_t>(ox) * g.out_c + v * kLanes;
      pixel(t);
    }
    if (ox + kTile <= x_end) {
      point(ox, true);
      t.tiles = (x_end - ox) / kTile;
      t.out = out_row + static_cast<size_t>(ox) * g.out_c + v * kLanes;
      kTiles[static_cast<size_t>(d.step_index)](t);
      ox += t.tiles * kTile;
    }
    for (; ox < g.out_w; ++ox) {
      point(ox, false);
      t.out = out_row + static_cast<size_t>(ox) * g.out_c + v * kLanes;
      pixel(t);
    }
  }
}

Status prepare_depthwise(PrepareContext& ctx);

// Once a process: the same bits as XNNPACK's on this CPU, 3x3 and 5x5 SAME, stride 1 and 2.
bool matches_xnnpack() {
  static const bool same = [] {
    graph::Op op;
    op.kind = graph::OpKind::kDepthwiseConv2d;
    op.attrs.padding = graph::Padding::kSame;
    op.attrs.depth_multiplier = 1;
    bool all = gives_xnnpacks_bits(prepare_depthwise, kFloatDepthwiseConv2d, xnn::kDepthwiseConv2d, op,
                                   {1, 9, 21, 24}, {1, 3, 3, 24});
    op.attrs.stride_h = op.attrs.stride_w = 2;
    return all && gives_xnnpacks_bits(prepare_depthwise, kFloatDepthwiseConv2d, xnn::kDepthwiseConv2d, op,
                                      {1, 9, 21, 24}, {1, 5, 5, 24});
  }();
  return same;
}

Status prepare(PrepareContext& ctx) {
  if (__builtin_cpu_supports("avx512f") && ctx.exact_float && !matches_xnnpack())
    return unsupported("{} (op {}): not XNNPACK's bits on this CPU (checked once a process)", ctx.op.name(),
                       ctx.op_index);
  return prepare_depthwise(ctx);
}

Status prepare_depthwise(PrepareContext& ctx) {
  const std::string where = fmt::format("{} (op {})", ctx.op.name(), ctx.op_index);
  if (!__builtin_cpu_supports("avx512f")) return unsupported("{}: no AVX-512", where);
  if (!ctx.exact_float) return unsupported("{}: plans without exact floats run XNNPACK's", where);
  if (ctx.inputs.size() < 2 || ctx.inputs.size() > 3 || ctx.outputs.size() != 1 || !ctx.inputs[0] || !ctx.inputs[1])
    return unsupported("{}: expects input, filter, optional bias and one output", where);
  const TensorRef& input = *ctx.inputs[0];
  const TensorRef& filter = *ctx.inputs[1];
  const TensorRef* bias = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
  if (input.dtype != DType::kFloat32 || filter.dtype != DType::kFloat32 || ctx.outputs[0]->dtype != DType::kFloat32)
    return unsupported("{}: float32 input, filter and output", where);
  if (input.shape.size() != 4 || filter.shape.size() != 4 || !filter.is_constant || !filter.data ||
      (bias && (bias->dtype != DType::kFloat32 || !bias->is_constant || !bias->data)))
    return unsupported("{}: a 4-D input with a constant 4-D filter and bias", where);
  if (filter.shape[0] != 1 || filter.shape[3] != input.shape[3])
    return unsupported("{}: depth multiplier 1 only", where);
  auto d = std::make_unique<DepthwiseData>();
  ConvGeometry& g = d->g;
  QDET_TRY(fill_conv_geometry(input, filter.shape[1], filter.shape[2], filter.shape[3], bias, ctx.op.attrs, &g));
  if (int64_t{g.out_h} * g.out_w * g.out_c == 0) return unsupported("{}: empty tensors", where);
  const int32_t taps = g.k_h * g.k_w;
  if (taps > kMaxTaps) return unsupported("{}: a {}x{} filter", where, g.k_h, g.k_w);
  const int64_t step = int64_t{g.stride_w} * g.in_c;
  for (size_t i = 0; i < kSteps.size(); ++i)
    if (kSteps[i] == step) d->step_index = static_cast<int>(i);
  if (d->step_index < 0) return unsupported("{}: stride x channels {} has no compiled row step", where, step);
  std::vector<int32_t> tap_order;  // filter tap (ky * k_w + kx) in XNNPACK's order: kx outer
  for (int32_t kx = 0; kx < g.k_w; ++kx)
    for (int32_t ky = 0; ky < g.k_h; ++ky) {
      tap_order.push_back(ky * g.k_w + kx);
      d->tap_dy.push_back(ky * g.dil_h);
      d->tap_dx.push_back(kx * g.dil_w);
    }
  d->vectors = (g.in_c + kLanes - 1) / kLanes;
  const size_t per_vector = static_cast<size_t>(taps + 1) * kLanes;
  d->storage.assign(per_vector * d->vectors + kLanes, 0.0f);
  d->packed = d->storage.data() + (64 - reinterpret_cast<uintptr_t>(d->storage.data()) % 64) % 64 / sizeof(float);
  const float* w = filter.as<const float>();  // [1, kh, kw, C]
  for (int32_t v = 0; v < d->vectors; ++v) {
    float* dst = d->packed + per_vector * v;
    const int32_t channels = std::min(kLanes, g.in_c - v * kLanes);
    for (int32_t i = 0; i < taps; ++i)
      for (int32_t j = 0; j < channels; ++j)
        dst[i * kLanes + j] = w[static_cast<size_t>(tap_order[static_cast<size_t>(i)]) * g.in_c + v * kLanes + j];
    if (bias)
      for (int32_t j = 0; j < channels; ++j) dst[taps * kLanes + j] = bias->as<const float>()[v * kLanes + j];
  }
  d->zeros.assign(static_cast<size_t>(kTile) * step + kLanes, 0.0f);
  ctx.outputs[0]->shape = {g.batches, g.out_h, g.out_w, g.out_c};
  return keep_op_data(ctx, std::move(d));
}

Status eval(EvalContext& ctx) {
  const auto* d = op_data_as<DepthwiseData>(ctx);
  const float* input = ctx.inputs[0]->as<const float>();
  float* output = ctx.outputs[0]->as<float>();
  const int32_t rows = d->g.batches * d->g.out_h;
  ref::parallel_for(ctx.threadpool, static_cast<size_t>(rows), [&](size_t row) {
    DenormalsOff denormals_off;
    run_row(*d, input, output, static_cast<int32_t>(row) / d->g.out_h, static_cast<int32_t>(row) % d->g.out_h);
  });
  return ok_status();
}

// A zero PAD before the convolution: more leading padding, the input unpadded.
bool fold_input_pad(OpData* data, const Shape& unpadded, const SpatialPad& pad) {
  auto* d = static_cast<DepthwiseData*>(data);
  return d && add_input_pad(d->g, unpadded, pad);
}

bool take_output_silu(OpData* data) {
  auto* d = static_cast<DepthwiseData*>(data);
  if (!d || !silu_exact_available()) return false;
  d->silu = true;
  return true;
}

}  // namespace

const Kernel kFloatDepthwiseConv2d = {"simd", prepare, eval, fold_input_pad, nullptr, take_output_silu};

}  // namespace qdet::rt::simd
