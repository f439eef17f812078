#include "runtime/slice_concat.h"

#include <immintrin.h>

#include <algorithm>
#include <array>

#include "runtime/kernels/reference/common.h"
#include "runtime/kernels/reference/strided_copy.h"

namespace qdet::rt {
namespace {

using graph::OpKind;

// One slice's grid in the source: rows start_h + i * stride_h, columns start_w + j * stride_w.
struct Grid {
  int64_t start_h = 0, stride_h = 1, start_w = 0, stride_w = 1;
};

// Output pixels of a few bytes (8-bit RGB: 3 bytes a grid, 12 an output pixel) copied one at a
// time cost a few cycles each. With AVX-512 VBMI, a run of `group` output pixels (a whole number
// of 64-byte vectors) is instead gathered from the source rows it reads (at most two: Focus
// reads rows 2y and 2y + 1) by one VPERMT2B a vector: output byte i of vector v is byte
// index[v][i] of the 128 bytes at `offset[v]` in the first row (0-63) and in the second
// (64-127). Planned at prepare; the pixels after the last whole group are copied as before.
struct ByteGather {
  int64_t group = 0;        // output pixels a step; 0: not planned
  int64_t group_bytes = 0;  // the source bytes a step advances in each row
  int64_t rows[2] = {0, 0}; // start_h of the first and second row read
  std::vector<int64_t> offset;                     // a vector's window in the rows, from the step's start
  std::vector<std::array<uint8_t, 64>> index;      // a vector's bytes: window byte, + 64 for the second row
};

class SliceConcatData : public OpData {
 public:
  std::vector<Grid> grids;
  int64_t batches = 0, in_h = 0, in_w = 0, channels = 0;  // the source
  int64_t out_h = 0, out_w = 0;
  size_t element_bytes = 1;
  ByteGather gather;
};

// The gather for `d` when it applies (see ByteGather): one-byte elements, every grid with the
// same strides, at most two distinct start rows, and each vector's bytes within a 64-byte window
// of each row.
ByteGather plan_byte_gather(const SliceConcatData& d) {
  ByteGather g;
  const int64_t pixel = d.channels * static_cast<int64_t>(d.element_bytes);
  const int64_t out_pixel = pixel * static_cast<int64_t>(d.grids.size());
  if (d.element_bytes != 1 || d.grids.empty() || out_pixel > 64 || !__builtin_cpu_supports("avx512bw") ||
      !__builtin_cpu_supports("avx512vbmi"))
    return g;
  const Grid& first = d.grids[0];
  int64_t group = 1;
  while ((group * out_pixel) % 64 != 0) ++group;
  if (group > d.out_w || group * first.stride_w * pixel > (int64_t{1} << 20)) return g;
  g.rows[0] = g.rows[1] = first.start_h;
  for (const Grid& k : d.grids) {
    if (k.stride_h != first.stride_h || k.stride_w != first.stride_w) return ByteGather{};
    if (k.start_h != g.rows[0]) {
      if (g.rows[1] != g.rows[0] && k.start_h != g.rows[1]) return ByteGather{};
      g.rows[1] = k.start_h;
    }
  }
  const int64_t vectors = group * out_pixel / 64;
  for (int64_t v = 0; v < vectors; ++v) {
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    std::array<int64_t, 64> source{};
    std::array<bool, 64> second{};
    for (int64_t i = 0; i < 64; ++i) {
      const int64_t byte = v * 64 + i, j = byte / out_pixel, k = (byte % out_pixel) / pixel, c = byte % pixel;
      const Grid& gk = d.grids[static_cast<size_t>(k)];
      source[static_cast<size_t>(i)] = (gk.start_w + j * gk.stride_w) * pixel + c;
      second[static_cast<size_t>(i)] = gk.start_h != g.rows[0];
      lo = std::min(lo, source[static_cast<size_t>(i)]);
      hi = std::max(hi, source[static_cast<size_t>(i)]);
    }
    if (hi - lo >= 64) return ByteGather{};
    std::array<uint8_t, 64> index{};
    for (size_t i = 0; i < 64; ++i)
      index[i] = static_cast<uint8_t>(source[i] - lo + (second[i] ? 64 : 0));
    g.offset.push_back(lo);
    g.index.push_back(index);
  }
  g.group = group;
  g.group_bytes = group * first.stride_w * pixel;
  return g;
}

// Output pixels [0, whole groups) of one output row by the gather; returns how many it wrote.
// Loads stop at the end of each source row (masked), so nothing past the tensor is read.
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) int64_t gather_row(const ByteGather& g, const uint8_t* row0,
                                                                          const uint8_t* row1, int64_t row_bytes,
                                                                          uint8_t* out, int64_t out_w) {
  const int64_t groups = out_w / g.group;
  const size_t vectors = g.offset.size();
  for (int64_t s = 0; s < groups; ++s, out += static_cast<int64_t>(vectors) * 64) {
    for (size_t v = 0; v < vectors; ++v) {
      const int64_t at = s * g.group_bytes + g.offset[v];
      const int64_t left = row_bytes - at;
      const __mmask64 mask = left >= 64 ? ~__mmask64{0} : (left <= 0 ? 0 : (__mmask64{1} << left) - 1);
      const __m512i a = _mm512_maskz_loadu_epi8(mask, row0 + at);
      const __m512i b = _mm512_maskz_loadu_epi8(mask, row1 + at);
      const __m512i index = _mm512_loadu_si512(g.index[v].data());
      _mm512_storeu_si512(out + v * 64, _mm512_permutex2var_epi8(a, index, b));
    }
  }
  return groups * g.group;
}

// STRIDED_SLICE's start of one dim for a positive stride (TFLite: a negative index counts from
// the end, then clamped to [0, size]; begin_mask takes 0).
int64_t slice_start(int64_t begin, bool masked, int64_t size) {
  if (masked) return 0;
  if (begin < 0) begin += size;
  return std::clamp<int64_t>(begin, 0, size);
}

int64_t slice_stop(int64_t end, bool masked, int64_t size) {
  if (masked) return size;
  if (end < 0) end += size;
  return std::clamp<int64_t>(end, 0, size);
}

// The grid of slice op `index` over `source` [N, H, W, C], or nullopt when it is not a plain
// strided grid taking every image and channel.
std::optional<Grid> slice_grid(const graph::Graph& g, size_t index, const std::vector<TensorRef>& tensors) {
  const graph::Op& op = g.ops[index];
  if (op.kind != OpKind::kStridedSlice || op.inputs.size() != 4 || op.outputs.size() != 1) return std::nullopt;
  const graph::OpAttrs& a = op.attrs;
  if (a.ellipsis_mask || a.new_axis_mask || a.shrink_axis_mask || a.offset) return std::nullopt;
  const TensorRef& x = tensors[op.inputs[0]];
  const TensorRef& out = tensors[op.outputs[0]];
  if (x.shape.size() != 4 || out.shape.size() != 4) return std::nullopt;
  int32_t v[3][4];
  for (int k = 0; k < 3; ++k) {
    if (op.inputs[1 + k] < 0) return std::nullopt;
    const TensorRef& t = tensors[op.inputs[1 + k]];
    if (!t.is_constant || !t.data || t.dtype != DType::kInt32 || t.num_elements() != 4) return std::nullopt;
    std::copy_n(t.as<const int32_t>(), 4, v[k]);
  }
  const int32_t* begin = v[0];
  const int32_t* end = v[1];
  const int32_t* stride = v[2];
  for (int d : {0, 3}) {  // every image, every channel
    if (stride[d] != 1 || slice_start(begin[d], (a.begin_mask >> d) & 1, x.shape[d]) != 0 ||
        slice_stop(end[d], (a.end_mask >> d) & 1, x.shape[d]) != x.shape[d] || out.shape[d] != x.shape[d])
      return std::nullopt;
  }
  Grid grid;
  int64_t* starts[2] = {&grid.start_h, &grid.start_w};
  int64_t* strides[2] = {&grid.stride_h, &grid.stride_w};
  for (int d : {1, 2}) {
    if (stride[d] <= 0) return std::nullopt;
    const int64_t start = slice_start(begin[d], (a.begin_mask >> d) & 1, x.shape[d]);
    const int64_t stop = slice_stop(end[d], (a.end_mask >> d) & 1, x.shape[d]);
    const int64_t count = stop > start ? (stop - start + stride[d] - 1) / stride[d] : 0;
    if (count != out.shape[d] || count == 0) return std::nullopt;  // the kernel's own shape
    *starts[d - 1] = start;
    *strides[d - 1] = stride[d];
  }
  return grid;
}

Status slice_concat_prepare(PrepareContext& ctx) {
  if (ctx.inputs.empty() || ctx.outputs.empty() || !ctx.inputs[0]) return invalid_argument("slice concat: no input");
  return ok_status();
}

Status slice_concat_eval(EvalContext& ctx) {
  const auto& d = *static_cast<const SliceConcatData*>(ctx.op_data);
  const uint8_t* src = ctx.inputs[0]->data;
  uint8_t* dst = ctx.outputs[0]->data;
  const int64_t eb = static_cast<int64_t>(d.element_bytes);
  const int64_t pixel = d.channels * eb, out_pixel = pixel * static_cast<int64_t>(d.grids.size());
  const size_t rows = static_cast<size_t>(d.batches * d.out_h);
  ref::parallel_for(rows > 64 ? ctx.threadpool : nullptr, rows, [&](size_t row) {
    const int64_t n = static_cast<int64_t>(row) / d.out_h, oy = static_cast<int64_t>(row) % d.out_h;
    uint8_t* out_row = dst + static_cast<int64_t>(row) * d.out_w * out_pixel;
    int64_t done = 0;  // output pixels of the row written by the gather
    if (d.gather.group > 0) {
      const int64_t row_bytes = d.in_w * pixel;
      const int64_t stride_h = d.grids[0].stride_h;
      done = gather_row(d.gather, src + (n * d.in_h + d.gather.rows[0] + oy * stride_h) * row_bytes,
                        src + (n * d.in_h + d.gather.rows[1] + oy * stride_h) * row_bytes, row_bytes, out_row, d.out_w);
    }
    for (size_t k = 0; k < d.grids.size() && done < d.out_w; ++k) {
      const Grid& gk = d.grids[k];
      const uint8_t* in_row =
          src + ((n * d.in_h + gk.start_h + oy * gk.stride_h) * d.in_w + gk.start_w + done * gk.stride_w) * pixel;
      ref::copy_rows(out_row + done * out_pixel + static_cast<int64_t>(k) * pixel, out_pixel, in_row,
                     gk.stride_w * pixel, d.out_w - done, static_cast<size_t>(pixel));
    }
  });
  return ok_status();
}

}  // namespace

std::optional<SliceConcat> find_slice_concat(const graph::Graph& g, int32_t concat_op,
                                             const std::vector<TensorRef>& tensors,
                                             const std::vector<int32_t>& producers,
                                             const std::vector<std::vector<int32_t>>& consumers) {
  const graph::Op& concat = g.ops[static_cast<size_t>(concat_op)];
  if (concat.kind != OpKind::kConcatenation || concat.inputs.size() < 2 || concat.outputs.size() != 1 ||
      concat.attrs.activation != graph::Activation::kNone)
    return std::nullopt;
  const TensorRef& out = tensors[concat.outputs[0]];
  if (out.shape.size() != 4 || (concat.attrs.axis != 3 && concat.attrs.axis != -1)) return std::nullopt;
  SliceConcat found;
  found.concat_op = concat_op;
  auto data = std::make_unique<SliceConcatData>();
  for (int32_t id : concat.inputs) {
    if (id < 0 || producers[id] < 0 || consumers[id].size() != 1 ||
        std::find(g.outputs.begin(), g.outputs.end(), id) != g.outputs.end())
      return std::nullopt;
    const int32_t slice = producers[id];
    const auto grid = slice_grid(g, static_cast<size_t>(slice), tensors);
    if (!grid) return std::nullopt;
    const int32_t source = g.ops[slice].inputs[0];
    if (found.source >= 0 && source != found.source) return std::nullopt;
    found.source = source;
    found.slice_ops.push_back(slice);
    data->grids.push_back(*grid);
  }
  const TensorRef& x = tensors[found.source];
  const graph::Tensor& gx = g.tensors[found.source];
  const graph::Tensor& gout = g.tensors[concat.outputs[0]];
  if (x.dtype != out.dtype || gx.quant.scale != gout.quant.scale || gx.quant.zero_point != gout.quant.zero_point)
    return std::nullopt;
  const Shape& first = tensors[concat.inputs[0]].shape;
  const int64_t k = static_cast<int64_t>(concat.inputs.size());
  if (out.shape != Shape{x.shape[0], first[1], first[2], static_cast<int32_t>(x.shape[3] * k)}) return std::nullopt;
  for (int32_t id : concat.inputs)
    if (tensors[id].shape != first) return std::nullopt;
  data->batches = x.shape[0];
  data->in_h = x.shape[1];
  data->in_w = x.shape[2];
  data->channels = x.shape[3];
  data->out_h = first[1];
  data->out_w = first[2];
  data->element_bytes = dtype_size(x.dtype);
  data->gather = plan_byte_gather(*data);
  found.data = std::move(data);
  return found;
}

const Kernel kSliceConcatKernel = {"copy", slice_concat_prepare, slice_concat_eval};

}  // namespace qdet::rt
