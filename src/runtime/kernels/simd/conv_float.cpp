// float32 CONV_2D (groups 1) with XNNPACK's float operations: its bytes, at more of the FMA
// units' rate.
//
// XNNPACK's AVX-512 convolution (Debian's 2022 build: the f32 GEMM / IGEMM 7x16 "broadcast"
// microkernels) computes each output as bias, then one FMA per filter tap and input channel, taps
// in (ky, kx) order, channels in order, zeros read for padding; then max(., min), min(., max)
// (a NaN becomes min).
// Its tile is 7 pixels x 16 output channels: each FMA needs a broadcast, so on YOLOX-Nano's
// float layers it ran at about half the FMA units' rate. This kernel does the same operations
// in the same order per output (so the same bytes), in tiles of R pixels x V vectors of 16
// output channels (16x1, 12x2, 8x3, 6x4): one weight load serves R pixels and one broadcast V
// vectors. Where a tile's pixels are evenly spaced in the input (inside the image, and a row
// step qdet compiled for), their addresses are one pointer plus constants; elsewhere each pixel
// has its own pointer, or a zero row for padding (XNNPACK's indirection buffer does the same).
//
// prepare packs the filter per block of output channels as [tap][input channel][V x 16], bias
// after it; eval splits the output rows (or, for 1x1 stride-1 unpadded convolutions, runs of
// pixels) among the threads. Denormals are off, as in XNNPACK's threads.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC bug 105593, see depthwise_8bit.cpp
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
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
constexpr int kMaxTilePixels = 16;
constexpr int kMaxTaps = 49;            // up to 7x7 filters
constexpr int kWindowFloats = 16384;     // an edge tile's copied columns, all filter rows
// Row steps (input floats from one pixel of a tile to the next: stride x channels) with a
// kernel whose broadcast addresses are constants.
constexpr std::array<int, 14> kSteps = {12, 16, 24, 32, 48, 64, 80, 96, 128, 160, 192, 256, 320, 384};

constexpr int tile_pixels(int v) { return v == 1 ? 16 : v == 2 ? 12 : v == 3 ? 8 : 6; }

struct Block {
  int32_t first_channel = 0;  // of the output
  int32_t vectors = 1;        // V
  int32_t channels = 16;      // real channels in the block (<= 16 V)
  size_t weights = 0;         // offset in FloatConvData::packed: taps x in_c x 16V floats, then 16V bias
};

struct FloatConvData : OpData {
  ConvGeometry g;    // the op's
  ConvGeometry run;  // what eval walks: g, or for 1x1 stride-1 unpadded filters one row of H x W pixels
  std::vector<Block> blocks;
  std::vector<float> storage;  // the packed blocks, from `packed` (64-byte aligned)
  float* packed = nullptr;
  std::vector<float> zeros;  // a zero row long enough for any tile's reads
  bool silu = false;         // write x * sigmoid(x) of each output x (take_output_silu)
  int step_index = -1;       // in kSteps, or -1
};

struct TileArgs {
  const float* const* a;  // per tap: where the tile's first pixel reads
  int32_t taps;
  int32_t in_c;
  const float* w;         // the block's packed weights
  float* out;             // first pixel's first channel of the block
  int32_t out_stride;     // floats from one output pixel to the next
  int32_t pixels;         // to store (<= R)
  __mmask16 last_mask;    // channels of the block's last vector
  float min, max;
  bool silu;
};

// One tile: R pixels x V vectors; pixel r of tap t reads a[t] + r * STEP + c.
template <int V, int R, int STEP>
__attribute__((target("avx512f"), always_inline)) inline void tile(const TileArgs& t) {
  __m512 acc[R][V];
  const float* w = t.w;
  const float* bias = w + static_cast<size_t>(t.taps) * t.in_c * V * kLanes;
  for (int v = 0; v < V; ++v) {
    const __m512 b = _mm512_load_ps(bias + v * kLanes);
    for (int r = 0; r < R; ++r) acc[r][v] = b;
  }
  for (int32_t k = 0; k < t.taps; ++k) {
    const float* p = t.a[k];
    for (int32_t c = 0; c < t.in_c; ++c, ++p, w += V * kLanes) {
      __m512 wv[V];
      for (int v = 0; v < V; ++v) wv[v] = _mm512_load_ps(w + v * kLanes);
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
        const __m512 x = _mm512_set1_ps(p[r * STEP]);
        for (int v = 0; v < V; ++v) acc[r][v] = _mm512_fmadd_ps(x, wv[v], acc[r][v]);
      }
    }
  }
  const __m512 lo = _mm512_set1_ps(t.min), hi = _mm512_set1_ps(t.max);
  if (t.silu) {
    const SiluConstants constants = silu_constants();
    for (int r = 0; r < R; ++r)
      for (int v = 0; v < V; ++v)
        acc[r][v] = silu_exact_lanes<true>(_mm512_min_ps(_mm512_max_ps(acc[r][v], lo), hi), constants);
  }
  for (int r = 0; r < R; ++r) {
    if (r >= t.pixels) break;
    float* o = t.out + static_cast<size_t>(r) * t.out_stride;
    for (int v = 0; v < V; ++v) {
      // With the SiLU, the clamp came before it (the convolution's output is what the SiLU reads).
      const __m512 y = t.silu ? acc[r][v] : _mm512_min_ps(_mm512_max_ps(acc[r][v], lo), hi);
      if (v + 1 < V)
        _mm512_storeu_ps(o + v * kLanes, y);
      else
        _mm512_mask_storeu_ps(o + v * kLanes, t.last_mask, y);
    }
  }
}

using TileFn = void (*)(const TileArgs&);

template <int V, int R, int STEP>
__attribute__((target("avx512f"))) void tile_fn(const TileArgs& t) {
  tile<V, R, STEP>(t);
}

template <int V, size_t... I>
constexpr std::array<TileFn, sizeof...(I)> stepped_table(std::index_sequence<I...>) {
  return {&tile_fn<V, tile_pixels(V), kSteps[I]>...};
}

TileFn stepped_tile(int v, int step_index) {
  static constexpr auto seq = std::make_index_sequence<kSteps.size()>{};
  static constexpr std::array<std::array<TileFn, kSteps.size()>, 4> table = {
      stepped_table<1>(seq), stepped_table<2>(seq), stepped_table<3>(seq), stepped_table<4>(seq)};
  return table[static_cast<size_t>(v - 1)][static_cast<size_t>(step_index)];
}

// Output pixels [ox_begin, ox_end) of row (n, oy), every block. A tile whose pixels all read
// inside the image's columns takes its taps' addresses in the input; any other (the padded
// edges, a last partial tile) first copies the columns it reads into a window, zeros outside
// the image, so that the same kernel runs with the same zeros XNNPACK reads from its zero buffer.
void run_row(const FloatConvData& d, const float* input, float* output, int32_t n, int32_t oy, int32_t ox_begin,
             int32_t ox_end) {
  const ConvGeometry& g = d.run;
  const float* image = input + static_cast<size_t>(n) * g.in_h * g.in_w * g.in_c;
  std::array<const float*, kMaxTaps> taps;
  alignas(64) std::array<float, kWindowFloats> window;
  for (const Block& b : d.blocks) {
    const int v = b.vectors;
    const int R = tile_pixels(v);
    const int32_t last = b.channels - (v - 1) * kLanes;
    TileArgs args{taps.data(), g.k_h * g.k_w, g.in_c, d.packed + b.weights, nullptr, g.out_c, 0,
                  static_cast<__mmask16>(last >= kLanes ? 0xFFFF : (1u << last) - 1), g.act.min, g.act.max,
                  d.silu};
    const TileFn kernel = stepped_tile(v, d.step_index);
    const int32_t span = (R - 1) * g.stride_w + (g.k_w - 1) * g.dil_w + 1;  // columns a tile reads
    for (int32_t ox0 = ox_begin; ox0 < ox_end; ox0 += R) {
      const int32_t count = std::min<int32_t>(R, ox_end - ox0);
      args.pixels = count;
      args.out = output + ((static_cast<size_t>(n) * g.out_h + oy) * g.out_w + ox0) * g.out_c + b.first_channel;
      const int32_t ix_first = ox0 * g.stride_w - g.pad_left;
      const bool inside = count == R && ix_first >= 0 && ix_first + span <= g.in_w;
      for (int32_t ky = 0, k = 0; ky < g.k_h; ++ky) {
        const int32_t iy = oy * g.stride_h - g.pad_top + ky * g.dil_h;
        const bool row_inside = iy >= 0 && iy < g.in_h;
        const float* row = image + static_cast<size_t>(row_inside ? iy : 0) * g.in_w * g.in_c;
        // Inside tiles read the image from column ix_first (>= 0); others their window.
        const float* base = inside ? row + static_cast<size_t>(ix_first) * g.in_c : window.data();
        if (row_inside && !inside) {
          float* w = window.data() + static_cast<size_t>(ky) * span * g.in_c;
          for (int32_t j = 0; j < span; ++j, w += g.in_c) {
            const int32_t ix = ix_first + j;
            if (ix >= 0 && ix < g.in_w)
              std::memcpy(w, row + static_cast<size_t>(ix) * g.in_c, sizeof(float) * g.in_c);
            else
              std::memset(w, 0, sizeof(float) * g.in_c);
          }
          base = window.data() + static_cast<size_t>(ky) * span * g.in_c;
        }
        for (int32_t kx = 0; kx < g.k_w; ++kx, ++k)
          taps[k] = row_inside ? base + static_cast<ptrdiff_t>(kx) * g.dil_w * g.in_c : d.zeros.data();
      }
      kernel(args);
    }
  }
}

// The geometry eval walks, and the row step's kernel.
void plan_rows(FloatConvData& d) {
  const ConvGeometry& g = d.g;
  d.run = g;
  if (g.k_h == 1 && g.k_w == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_top == 0 && g.pad_left == 0 &&
      g.in_h == g.out_h && g.in_w == g.out_w) {
    d.run.in_h = d.run.out_h = 1;
    d.run.in_w = d.run.out_w = g.in_h * g.in_w;
  }
  const int32_t step = g.stride_w * g.in_c;
  d.step_index = -1;
  for (size_t i = 0; i < kSteps.size(); ++i)
    if (kSteps[i] == step) d.step_index = static_cast<int>(i);
  d.zeros.assign(static_cast<size_t>(kMaxTilePixels) * std::max(step, g.in_c) + g.in_c, 0.0f);
}

Status prepare_conv(PrepareContext& ctx);

// Once a process: this kernel and XNNPACK's give the same bits on this CPU (XNNPACK picks its
// microkernels by CPU; the order above is its AVX-512 one), on a 3x3 SAME and a 1x1 convolution
// with two output blocks, a partial vector and edge tiles.
bool matches_xnnpack() {
  static const bool same = [] {
    graph::Op op;
    op.kind = graph::OpKind::kConv2d;
    op.attrs.padding = graph::Padding::kSame;
    return gives_xnnpacks_bits(prepare_conv, kFloatConv2d, xnn::kConv2d, op, {1, 7, 19, 12}, {21, 3, 3, 12}) &&
           gives_xnnpacks_bits(prepare_conv, kFloatConv2d, xnn::kConv2d, op, {1, 7, 19, 12}, {21, 1, 1, 12});
  }();
  return same;
}

Status prepare(PrepareContext& ctx) {
  if (__builtin_cpu_supports("avx512f") && !matches_xnnpack())
    return unsupported("{} (op {}): not XNNPACK's bits on this CPU (checked once a process)", ctx.op.name(),
                       ctx.op_index);
  return prepare_conv(ctx);
}

Status prepare_conv(PrepareContext& ctx) {
  const std::string where = fmt::format("{} (op {})", ctx.op.name(), ctx.op_index);
  if (!__builtin_cpu_supports("avx512f")) return unsupported("{}: no AVX-512", where);
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
  if (filter.shape[3] != input.shape[3]) return unsupported("{}: grouped convolution", where);
  // Plans free to move float bytes (no QUANTIZE after them) run KxK filters on oneDNN, faster
  // there (its 3x3 tiles read each input row for several outputs); this kernel's 1x1 ones are
  // as fast or faster (docs/RESULTS.md, session 12).
  if (!ctx.exact_float && (filter.shape[1] != 1 || filter.shape[2] != 1))
    return unsupported("{}: a {}x{} filter in a plan without exact floats: oneDNN's", where, filter.shape[1],
                       filter.shape[2]);
  auto d = std::make_unique<FloatConvData>();
  ConvGeometry& g = d->g;
  QDET_TRY(fill_conv_geometry(input, filter.shape[1], filter.shape[2], filter.shape[0], bias, ctx.op.attrs, &g));
  if (int64_t{g.out_h} * g.out_w * g.out_c == 0 || g.in_c == 0) return unsupported("{}: empty tensors", where);
  const int64_t taps = int64_t{g.k_h} * g.k_w;
  const int64_t span = int64_t{kMaxTilePixels - 1} * g.stride_w + int64_t{g.k_w - 1} * g.dil_w + 1;
  if (taps > kMaxTaps || g.k_h * span * g.in_c > kWindowFloats)
    return unsupported("{}: a {}x{} filter over {} channels is beyond the edge window", where, g.k_h, g.k_w, g.in_c);
  plan_rows(*d);
  if (d->step_index < 0)
    return unsupported("{}: stride x input channels {} has no compiled row step", where, int64_t{g.stride_w} * g.in_c);
  const int64_t vectors = (g.out_c + kLanes - 1) / kLanes;
  // Blocks of 4 vectors; the last 5 as 3 + 2, a last 1..3 as one block.
  for (int64_t first = 0; first < vectors;) {
    const int64_t left = vectors - first;
    const int64_t v = left >= 4 ? (left == 5 ? 3 : 4) : left;
    Block b;
    b.first_channel = static_cast<int32_t>(first * kLanes);
    b.vectors = static_cast<int32_t>(v);
    b.channels = static_cast<int32_t>(std::min<int64_t>(v * kLanes, g.out_c - first * kLanes));
    d->blocks.push_back(b);
    first += v;
  }
  size_t total = 0;
  for (Block& b : d->blocks) {
    b.weights = total;
    total += static_cast<size_t>((taps * g.in_c + 1) * b.vectors * kLanes);
  }
  d->storage.assign(total + kLanes, 0.0f);
  d->packed = d->storage.data() + (64 - reinterpret_cast<uintptr_t>(d->storage.data()) % 64) % 64 / sizeof(float);
  const float* w = filter.as<const float>();
  for (const Block& b : d->blocks) {
    float* dst = d->packed + b.weights;
    const int32_t width = b.vectors * kLanes;
    for (int64_t t = 0; t < taps; ++t)
      for (int32_t c = 0; c < g.in_c; ++c)
        for (int32_t j = 0; j < b.channels; ++j)
          dst[(t * g.in_c + c) * width + j] = w[((b.first_channel + j) * taps + t) * g.in_c + c];
    float* bias_dst = dst + taps * g.in_c * width;
    if (bias)
      for (int32_t j = 0; j < b.channels; ++j) bias_dst[j] = bias->as<const float>()[b.first_channel + j];
  }
  ctx.outputs[0]->shape = {g.batches, g.out_h, g.out_w, g.out_c};
  return keep_op_data(ctx, std::move(d));
}

Status eval(EvalContext& ctx) {
  const auto* d = op_data_as<FloatConvData>(ctx);
  const ConvGeometry& g = d->run;
  const float* input = ctx.inputs[0]->as<const float>();
  float* output = ctx.outputs[0]->as<float>();
  const int32_t rows = g.batches * g.out_h;
  const int32_t row_pixels = g.out_w;
  // Rows split in parts of 96 pixels (whole tiles of every block: 96 = 6 x 16 = 8 x 12 = ...),
  // so that threads share short images and long flattened rows too.
  constexpr int32_t kPartPixels = 96;
  const int32_t parts = (row_pixels + kPartPixels - 1) / kPartPixels;
  const int32_t part_pixels = kPartPixels;
  ref::parallel_for(ctx.threadpool, static_cast<size_t>(rows) * parts, [&](size_t item) {
    DenormalsOff denormals_off;
    const int32_t row = static_cast<int32_t>(item / parts), part = static_cast<int32_t>(item % parts);
    const int32_t begin = part * part_pixels, end = std::min(row_pixels, begin + part_pixels);
    if (begin < end) run_row(*d, input, output, row / g.out_h, row % g.out_h, begin, end);
  });
  return ok_status();
}

// A zero PAD before the convolution: more leading padding, the input unpadded; the padded
// positions are read from the zero row, as XNNPACK's re-created operator reads its zero buffer.
bool fold_input_pad(OpData* data, const Shape& unpadded, const SpatialPad& pad) {
  auto* d = static_cast<FloatConvData*>(data);
  if (!d || !add_input_pad(d->g, unpadded, pad)) return false;
  plan_rows(*d);
  return true;
}

bool take_output_silu(OpData* data) {
  auto* d = static_cast<FloatConvData*>(data);
  if (!d || !silu_exact_available()) return false;
  d->silu = true;
  return true;
}

}  // namespace

bool gives_xnnpacks_bits(Status (*prepare)(PrepareContext&), const Kernel& kernel, const Kernel& xnnpack,
                         const graph::Op& op, const Shape& input_shape, const Shape& filter_shape) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  const QuantParams no_quant;
  const int32_t out_c = op.kind == graph::OpKind::kDepthwiseConv2d ? filter_shape[3] : filter_shape[0];
  std::vector<float> x(static_cast<size_t>(num_elements(input_shape)) + kLanes),
      filter(static_cast<size_t>(num_elements(filter_shape))), bias(static_cast<size_t>(out_c));
  for (auto* v : {&x, &filter, &bias})
    for (float& f : *v) f = uniform(rng);
  x[3] = std::numeric_limits<float>::quiet_NaN();  // XNNPACK's clamp turns a NaN sum into its minimum
  x[50] = std::numeric_limits<float>::infinity();
  std::vector<float> outputs[2];
  for (int i = 0; i < 2; ++i) {
    TensorRef in{.id = 0, .dtype = DType::kFloat32, .shape = input_shape, .quant = &no_quant};
    TensorRef f{.id = 1, .dtype = DType::kFloat32, .shape = filter_shape, .quant = &no_quant,
                .data = reinterpret_cast<uint8_t*>(filter.data()), .is_constant = true};
    TensorRef b{.id = 2, .dtype = DType::kFloat32, .shape = {out_c}, .quant = &no_quant,
                .data = reinterpret_cast<uint8_t*>(bias.data()), .is_constant = true};
    TensorRef out{.id = 3, .dtype = DType::kFloat32, .quant = &no_quant};
    TensorRef* ins[3] = {&in, &f, &b};
    TensorRef* outs[1] = {&out};
    PrepareContext p{.op = op, .op_index = 0, .inputs = ins, .outputs = outs, .exact_float = true};
    if (!(i == 0 ? prepare(p) : xnnpack.prepare(p)).ok()) return false;
    in.data = reinterpret_cast<uint8_t*>(x.data());
    outputs[i].assign(static_cast<size_t>(out.num_elements()) + kLanes, 0.0f);
    out.data = reinterpret_cast<uint8_t*>(outputs[i].data());
    std::vector<uint8_t> scratch(p.scratch_bytes + 64);
    EvalContext e{.op = op, .inputs = ins, .outputs = outs, .op_data = p.op_data.get(),
                  .scratch = scratch.data() + (64 - reinterpret_cast<uintptr_t>(scratch.data()) % 64) % 64};
    if (!(i == 0 ? kernel : xnnpack).eval(e).ok()) return false;
  }
  return std::memcmp(outputs[0].data(), outputs[1].data(), outputs[0].size() * sizeof(float)) == 0;
}

const Kernel kFloatConv2d = {"simd", prepare, eval, fold_input_pad, nullptr, take_output_silu};

}  // namespace qdet::rt::simd
