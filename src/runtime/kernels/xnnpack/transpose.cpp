// TRANSPOSE as a tiled, batched 2-D transpose (a "copy" kernel, any dtype of 1, 2, 4 or 8
// bytes). Most detector transposes are NHWC<->NCHW or [B,A,C]<->[B,C,A] layout changes: after
// dropping size-1 dims and merging axes that stay adjacent and in order, the permutation is
// [1,0] on [rows, cols] or [0,2,1] on [batch, rows, cols]. Other permutations (and the
// identity, which the merge reduces to a plain copy) are handled too when they reduce to
// those forms; anything else is left to the reference kernel.
#include <pthreadpool.h>

#include <algorithm>
#include <cstring>

#include "runtime/kernels/xnnpack/kernels.h"
#include "runtime/kernels/xnnpack/xnn_common.h"

namespace qdet::rt::xnn {
namespace {

constexpr size_t kTile = 32;  // 32x32 elements: a tile of floats is 4 KiB in and out

struct TransposeData : OpData {
  size_t batch = 1, rows = 1, cols = 1;  // input [batch, rows, cols] -> [batch, cols, rows]
  size_t element_bytes = 4;
  bool plain_copy = false;
};

template <typename T>
void transpose_tile(const T* in, T* out, size_t rows, size_t cols, size_t r0, size_t c0) {
  const size_t r1 = std::min(r0 + kTile, rows), c1 = std::min(c0 + kTile, cols);
  for (size_t c = c0; c < c1; ++c) {
    T* o = out + c * rows;
    for (size_t r = r0; r < r1; ++r) o[r] = in[r * cols + c];
  }
}

struct TileJob {
  const TransposeData* d;
  const uint8_t* in;
  uint8_t* out;
  size_t row_tiles, col_tiles;
};

template <typename T>
void run_tile(void* context, size_t index) {
  const TileJob& job = *static_cast<const TileJob*>(context);
  const TransposeData& d = *job.d;
  const size_t per_batch = job.row_tiles * job.col_tiles;
  const size_t b = index / per_batch, t = index % per_batch;
  const size_t plane = d.rows * d.cols;
  const T* in = reinterpret_cast<const T*>(job.in) + b * plane;
  T* out = reinterpret_cast<T*>(job.out) + b * plane;
  transpose_tile(in, out, d.rows, d.cols, (t / job.col_tiles) * kTile,
                 (t % job.col_tiles) * kTile);
}

// Few rows (a channel shuffle's [2, C] -> [C, 2] on every pixel): whole planes interleaved, R a
// constant so the compiler vectorizes the zip; tiles of 32 would be mostly empty here.
constexpr size_t kPlanesPerTask = 64;

template <typename T, size_t R>
void interleave_planes(void* context, size_t task) {
  const TileJob& job = *static_cast<const TileJob*>(context);
  const TransposeData& d = *job.d;
  const size_t cols = d.cols, plane = R * cols;
  const size_t b1 = std::min(d.batch, (task + 1) * kPlanesPerTask);
  for (size_t b = task * kPlanesPerTask; b < b1; ++b) {
    const T* in = reinterpret_cast<const T*>(job.in) + b * plane;
    T* out = reinterpret_cast<T*>(job.out) + b * plane;
    for (size_t c = 0; c < cols; ++c)
      for (size_t r = 0; r < R; ++r) out[c * R + r] = in[r * cols + c];
  }
}

template <typename T>
void (*interleave_for(size_t rows))(void*, size_t) {
  switch (rows) {
    case 2: return interleave_planes<T, 2>;
    case 3: return interleave_planes<T, 3>;
    case 4: return interleave_planes<T, 4>;
    default: return nullptr;
  }
}

Status transpose_prepare(PrepareContext& ctx) {
  if (ctx.inputs.size() != 2 || ctx.outputs.size() != 1 || ctx.inputs[0] == nullptr ||
      ctx.inputs[1] == nullptr)
    return unsupported("{}: expects input, perm and one output", op_label(ctx));
  const TensorRef& in = *ctx.inputs[0];
  const TensorRef& perm_t = *ctx.inputs[1];
  const TensorRef& out = *ctx.outputs[0];
  if (in.dtype != out.dtype || (in.dtype != DType::kFloat32 && !(*in.quant == *out.quant)))
    return unsupported("{}: output differs in dtype or quantization from input", op_label(ctx));
  const size_t element = dtype_size(in.dtype);
  if (element != 1 && element != 2 && element != 4 && element != 8)
    return unsupported("{}: {}-byte elements", op_label(ctx), element);
  const int rank = static_cast<int>(in.shape.size());
  if (!perm_t.is_constant || perm_t.data == nullptr || perm_t.num_elements() != rank ||
      (perm_t.dtype != DType::kInt32 && perm_t.dtype != DType::kInt64))
    return unsupported("{}: perm must be a constant int32/int64 of {} values", op_label(ctx),
                       rank);
  std::vector<int> perm(rank);
  std::vector<bool> seen(rank, false);
  for (int i = 0; i < rank; ++i) {
    const int64_t p = perm_t.dtype == DType::kInt32 ? perm_t.as<const int32_t>()[i]
                                                    : perm_t.as<const int64_t>()[i];
    if (p < 0 || p >= rank || seen[p])
      return unsupported("{}: perm is not a permutation", op_label(ctx));
    seen[p] = true;
    perm[i] = static_cast<int>(p);
  }
  if (in.num_elements() == 0) return unsupported("{}: empty tensor", op_label(ctx));

  Shape out_shape(rank);
  for (int i = 0; i < rank; ++i) out_shape[i] = in.shape[perm[i]];

  // Drop size-1 input axes, then merge runs of output axes that are consecutive input axes.
  std::vector<int> kept;  // output order, input axis ids
  for (int i = 0; i < rank; ++i)
    if (in.shape[perm[i]] != 1) kept.push_back(perm[i]);
  std::vector<std::pair<int, size_t>> groups;  // (first input axis, merged size), output order
  int last_axis = -1;
  for (int axis : kept) {
    bool adjacent = !groups.empty() && axis > last_axis;
    for (int a = last_axis + 1; adjacent && a < axis; ++a)
      if (in.shape[a] != 1) adjacent = false;
    if (adjacent)
      groups.back().second *= static_cast<size_t>(in.shape[axis]);
    else
      groups.push_back({axis, static_cast<size_t>(in.shape[axis])});
    last_axis = axis;
  }
  auto data = std::make_unique<TransposeData>();
  data->element_bytes = element;
  // Input order of the groups: sort by first input axis.
  std::vector<size_t> order(groups.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return groups[a].first < groups[b].first; });
  if (groups.size() <= 1) {
    data->plain_copy = true;
  } else if (groups.size() == 2 && order[0] == 1) {
    data->rows = groups[1].second;  // input [g1, g0] -> output [g0, g1]
    data->cols = groups[0].second;
  } else if (groups.size() == 3 && order[0] == 0 && order[1] == 2) {
    data->batch = groups[0].second;  // input [g0, g2, g1] -> output [g0, g1, g2]
    data->rows = groups[2].second;
    data->cols = groups[1].second;
  } else {
    return unsupported("{}: permutation is not a batched 2-D transpose", op_label(ctx));
  }
  return finish_prepare(ctx, std::move(data), out_shape);
}

Status transpose_eval(EvalContext& ctx) {
  const auto& d = *op_data_as<TransposeData>(ctx);
  const uint8_t* in = ctx.inputs[0]->data;
  uint8_t* out = ctx.outputs[0]->data;
  if (d.plain_copy) {
    std::memcpy(out, in, ctx.inputs[0]->byte_size());
    return ok_status();
  }
  TileJob job{&d, in, out, (d.rows + kTile - 1) / kTile, (d.cols + kTile - 1) / kTile};
  size_t tiles = d.batch * job.row_tiles * job.col_tiles;
  void (*fn)(void*, size_t) = nullptr;
  switch (d.element_bytes) {
    case 1: fn = interleave_for<uint8_t>(d.rows); break;
    case 2: fn = interleave_for<uint16_t>(d.rows); break;
    case 4: fn = interleave_for<uint32_t>(d.rows); break;
    default: fn = interleave_for<uint64_t>(d.rows); break;
  }
  if (fn != nullptr) {
    tiles = (d.batch + kPlanesPerTask - 1) / kPlanesPerTask;
  } else {
    switch (d.element_bytes) {
      case 1: fn = run_tile<uint8_t>; break;
      case 2: fn = run_tile<uint16_t>; break;
      case 4: fn = run_tile<uint32_t>; break;
      default: fn = run_tile<uint64_t>; break;
    }
  }
  // Tiles write disjoint outputs: the result does not depend on the thread count.
  if (ctx.threadpool != nullptr && tiles > 1)
    pthreadpool_parallelize_1d(ctx.threadpool, fn, &job, tiles, /*flags=*/0);
  else
    for (size_t t = 0; t < tiles; ++t) fn(&job, t);
  return ok_status();
}

}  // namespace

const Kernel kTranspose = {"copy", transpose_prepare, transpose_eval};

}  // namespace qdet::rt::xnn
