// MAX_POOL_2D with large windows (SPP's 5x5, 9x9 and 13x13 at stride 1) as two passes: the
// maximum over each window's columns, then over its rows. A k x k window then costs 2k
// comparisons an output instead of k^2; the maximum of maxima is the maximum, so the bytes are
// the reference kernel's and XNNPACK's. Padded positions are skipped (TFLite ignores them).
// float32, and int8 / uint8 with the same parameters in and out; the fused activation clamps
// last (float: its range; quantized: the range TFLite derives from the output's parameters).
#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>

#include "base/simd_clones.h"
#include "runtime/kernel_util.h"
#include "runtime/kernels/reference/common.h"
#include "runtime/kernels/simd/kernels.h"
#include "runtime/quantization_util.h"

namespace qdet::rt::simd {
namespace {

// Windows smaller than this many taps stay with XNNPACK (its direct kernel is as fast there).
constexpr int32_t kMinTaps = 16;

struct PoolData : OpData {
  int32_t batches = 0, in_h = 0, in_w = 0, channels = 0, out_h = 0, out_w = 0;
  int32_t k_h = 0, k_w = 0, pad_top = 0, pad_left = 0;
  float lo = 0, hi = 0;          // float32: the activation's range
  int32_t qlo = 0, qhi = 0;      // int8 / uint8
  DType dtype = DType::kFloat32;
  size_t threads = 1;            // accumulator rows in the scratch
};

template <typename T>
QDET_SIMD_CLONES void max_into(T* __restrict acc, const T* __restrict x, int32_t n) {
  for (int32_t c = 0; c < n; ++c) acc[c] = std::max(acc[c], x[c]);
}

template <typename T>
QDET_SIMD_CLONES void clamp_row(T* __restrict out, const T* __restrict in, int32_t n, T lo, T hi) {
  for (int32_t c = 0; c < n; ++c) out[c] = std::min(std::max(in[c], lo), hi);
}

// Columns: rows[y][ox] = max over the window's columns inside the input, for every input row y
// of image b in [y0, y1).
template <typename T>
void column_pass(const PoolData& d, const T* in_b, T* rows, int32_t y0, int32_t y1) {
  const int32_t c = d.channels;
  for (int32_t y = y0; y < y1; ++y)
    for (int32_t ox = 0; ox < d.out_w; ++ox) {
      const int32_t x0 = std::max(0, ox - d.pad_left), x1 = std::min(d.in_w, ox - d.pad_left + d.k_w);
      T* acc = rows + (static_cast<size_t>(y) * d.out_w + ox) * c;
      std::fill(acc, acc + c, std::numeric_limits<T>::lowest());
      for (int32_t x = x0; x < x1; ++x) max_into(acc, in_b + (static_cast<size_t>(y) * d.in_w + x) * c, c);
    }
}

// Rows: out[oy][ox] = max over the window's rows of `rows`, clamped.
template <typename T>
void row_pass(const PoolData& d, const T* rows, T* out_b, int32_t oy, T* acc, T lo, T hi) {
  const int32_t c = d.channels;
  const int32_t y0 = std::max(0, oy - d.pad_top), y1 = std::min(d.in_h, oy - d.pad_top + d.k_h);
  const size_t row = static_cast<size_t>(d.out_w) * c;
  std::fill(acc, acc + row, std::numeric_limits<T>::lowest());
  for (int32_t y = y0; y < y1; ++y) max_into(acc, rows + y * row, static_cast<int32_t>(row));
  clamp_row(out_b + static_cast<size_t>(oy) * row, acc, static_cast<int32_t>(row), lo, hi);
}

template <typename T>
Status run(EvalContext& ctx, T lo, T hi) {
  const auto& d = *op_data_as<PoolData>(ctx);
  const T* in = ctx.inputs[0]->as<const T>();
  T* out = ctx.outputs[0]->as<T>();
  T* rows = reinterpret_cast<T*>(ctx.scratch);  // [in_h][out_w][c], then one output row per thread
  const size_t image_rows = static_cast<size_t>(d.in_h) * d.out_w * d.channels;
  const size_t out_row = static_cast<size_t>(d.out_w) * d.channels;
  const size_t threads =
      std::min(d.threads, ctx.threadpool ? static_cast<size_t>(pthreadpool_get_threads_count(ctx.threadpool)) : 1);
  for (int32_t b = 0; b < d.batches; ++b) {
    const T* in_b = in + static_cast<size_t>(b) * d.in_h * d.in_w * d.channels;
    T* out_b = out + static_cast<size_t>(b) * d.out_h * out_row;
    ref::parallel_for(ctx.threadpool, static_cast<size_t>(d.in_h),
                      [&](size_t y) { column_pass(d, in_b, rows, static_cast<int32_t>(y), static_cast<int32_t>(y) + 1); });
    // Output rows in `threads` contiguous parts, each with its own accumulator row.
    ref::parallel_for(ctx.threadpool, threads, [&](size_t t) {
      T* acc = rows + image_rows + t * out_row;
      for (size_t oy = d.out_h * t / threads; oy < d.out_h * (t + 1) / threads; ++oy)
        row_pass(d, rows, out_b, static_cast<int32_t>(oy), acc, lo, hi);
    });
  }
  return ok_status();
}

Status prepare(PrepareContext& ctx) {
  if (ctx.inputs.size() != 1 || ctx.outputs.size() != 1 || !ctx.inputs[0]) return unsupported("one input");
  const TensorRef& in = *ctx.inputs[0];
  TensorRef& out = *ctx.outputs[0];
  const graph::OpAttrs& a = ctx.op.attrs;
  if (in.shape.size() != 4 || in.num_elements() == 0 || out.dtype != in.dtype) return unsupported("4-D input");
  if (a.stride_h != 1 || a.stride_w != 1 || a.filter_h * a.filter_w < kMinTaps || a.filter_h < 1 || a.filter_w < 1)
    return unsupported("stride 1 and at least {} taps", kMinTaps);
  auto d = std::make_unique<PoolData>();
  d->dtype = in.dtype;
  if (in.dtype == DType::kFloat32) {
    auto r = activation_range(a.activation);
    if (!r.ok()) return unsupported("{}", r.status().message());
    d->lo = r->min;
    d->hi = r->max;
  } else if (in.dtype == DType::kInt8 || in.dtype == DType::kUInt8) {
    if (!in.quant || !out.quant || in.quant->scale.size() != 1 || !(*in.quant == *out.quant))
      return unsupported("the same per-tensor parameters in and out");
    auto r = activation_range_quantized(a.activation, out.dtype, out.scale(), out.zero_point());
    if (!r.ok()) return unsupported("{}", r.status().message());
    d->qlo = r->min;
    d->qhi = r->max;
  } else {
    return unsupported("float32, int8 or uint8");
  }
  QDET_ASSIGN_OR_RETURN(Padding1d ph, compute_padding(a.padding, in.shape[1], a.filter_h, 1, 1, "height"));
  QDET_ASSIGN_OR_RETURN(Padding1d pw, compute_padding(a.padding, in.shape[2], a.filter_w, 1, 1, "width"));
  if (ph.out <= 0 || pw.out <= 0) return unsupported("empty output");
  d->batches = in.shape[0];
  d->in_h = in.shape[1];
  d->in_w = in.shape[2];
  d->channels = in.shape[3];
  d->out_h = ph.out;
  d->out_w = pw.out;
  d->k_h = a.filter_h;
  d->k_w = a.filter_w;
  d->pad_top = ph.before;
  d->pad_left = pw.before;
  const size_t row = static_cast<size_t>(d->out_w) * d->channels;
  d->threads = static_cast<size_t>(std::max(1, ctx.num_threads));
  ctx.scratch_bytes = (static_cast<size_t>(d->in_h) + d->threads) * row * dtype_size(in.dtype);
  out.shape = {d->batches, d->out_h, d->out_w, d->channels};
  ctx.op_data = std::move(d);
  return ok_status();
}

Status eval(EvalContext& ctx) {
  const auto& d = *op_data_as<PoolData>(ctx);
  switch (d.dtype) {
    case DType::kFloat32: return run<float>(ctx, d.lo, d.hi);
    case DType::kInt8: return run<int8_t>(ctx, static_cast<int8_t>(d.qlo), static_cast<int8_t>(d.qhi));
    default: return run<uint8_t>(ctx, static_cast<uint8_t>(d.qlo), static_cast<uint8_t>(d.qhi));
  }
}

}  // namespace

const Kernel kSeparableMaxPool2d = {"simd", prepare, eval};

}  // namespace qdet::rt::simd
