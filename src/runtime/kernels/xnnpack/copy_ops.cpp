// Data-movement ops that XNNPACK 2022-02 has no operator for, done as row copies (memcpy):
// CONCATENATION (any dtype, same quantization everywhere) and RESIZE_NEAREST_NEIGHBOR (any
// dtype, index tables built in prepare). They are exact by construction (bytes are copied),
// so they live beside the XNNPACK kernels as the "copy" fast path; threads split the outer
// rows, so results do not depend on the thread count.
#include <pthreadpool.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "runtime/kernels/reference/resize.h"
#include "runtime/kernels/reference/strided_copy.h"
#include "runtime/kernels/xnnpack/kernels.h"
#include "runtime/kernels/xnnpack/xnn_common.h"

namespace qdet::rt::xnn {
namespace {

// Below this many bytes per op, threads cost more than they save.
constexpr size_t kParallelBytes = 64 * 1024;

template <typename Fn>
void parallel_rows(pthreadpool_t pool, size_t rows, size_t total_bytes, Fn& fn) {
  if (pool == nullptr || rows < 2 || total_bytes < kParallelBytes) {
    for (size_t r = 0; r < rows; ++r) fn(r);
    return;
  }
  auto thunk = [](void* context, size_t r) { (*static_cast<Fn*>(context))(r); };
  pthreadpool_parallelize_1d(pool, thunk, &fn, rows, /*flags=*/0);
}

// fn(first, count) over [0, rows) in a few blocks a thread (rows may be many and short).
template <typename Fn>
void parallel_blocks(pthreadpool_t pool, size_t rows, size_t total_bytes, Fn& fn) {
  const size_t threads = pool != nullptr ? pthreadpool_get_threads_count(pool) : 1;
  if (threads < 2 || rows < 2 || total_bytes < kParallelBytes) {
    fn(size_t{0}, rows);
    return;
  }
  const size_t block = std::max<size_t>(1, rows / (4 * threads));
  auto thunk = [](void* context, size_t first, size_t count) { (*static_cast<Fn*>(context))(first, count); };
  pthreadpool_parallelize_1d_tile_1d(pool, thunk, &fn, rows, block, /*flags=*/0);
}

bool same_quant(const TensorRef& a, const TensorRef& b) {
  return a.quant == b.quant || (a.quant != nullptr && b.quant != nullptr &&
                                a.quant->scale == b.quant->scale &&
                                a.quant->zero_point == b.quant->zero_point);
}

// ---- CONCATENATION ------------------------------------------------------------------------

struct ConcatData : OpData {
  size_t outer = 0;                 // product of dims before the axis
  std::vector<size_t> input_bytes;  // bytes of one outer row of each input
  size_t output_row_bytes = 0;
  // Every input's row is short (a few channels of a pixel): each input is copied in one pass of
  // fixed-size moves (ref::copy_rows) instead of a memcpy per row and input.
  bool short_rows = false;
};

Status concat_prepare(PrepareContext& ctx) {
  if (ctx.inputs.empty() || ctx.outputs.size() != 1)
    return unsupported("{}: expects inputs and one output", op_label(ctx));
  const TensorRef& out = *ctx.outputs[0];
  const TensorRef* first = ctx.inputs[0];
  if (first == nullptr) return unsupported("{}: input 0 is absent", op_label(ctx));
  const int rank = static_cast<int>(first->shape.size());
  int axis = ctx.op.attrs.axis;
  if (axis < 0) axis += rank;
  if (rank == 0 || axis < 0 || axis >= rank)
    return unsupported("{}: axis {} out of range for rank {}", op_label(ctx), ctx.op.attrs.axis,
                       rank);
  if (ctx.op.attrs.activation != graph::Activation::kNone)
    return unsupported("{}: fused activation left to the reference kernel", op_label(ctx));
  Shape out_shape = first->shape;
  out_shape[axis] = 0;
  for (size_t i = 0; i < ctx.inputs.size(); ++i) {
    const TensorRef* t = ctx.inputs[i];
    if (t == nullptr || t->dtype != out.dtype || !same_quant(*t, out))
      return unsupported("{}: input {} differs in dtype or quantization from the output",
                         op_label(ctx), i);
    if (t->shape.size() != first->shape.size())
      return unsupported("{}: input {} has rank {}, not {}", op_label(ctx), i, t->shape.size(),
                         rank);
    for (int d = 0; d < rank; ++d)
      if (d != axis && t->shape[d] != first->shape[d])
        return unsupported("{}: input {} shape {} does not match {}", op_label(ctx), i,
                           shape_to_string(t->shape), shape_to_string(first->shape));
    out_shape[axis] += t->shape[axis];
  }
  auto data = std::make_unique<ConcatData>();
  data->outer = 1;
  for (int d = 0; d < axis; ++d) data->outer *= static_cast<size_t>(first->shape[d]);
  const size_t elem = dtype_size(out.dtype);
  for (const TensorRef* t : ctx.inputs) {
    size_t row = elem;
    for (int d = axis; d < rank; ++d) row *= static_cast<size_t>(t->shape[d]);
    data->input_bytes.push_back(row);
    data->output_row_bytes += row;
  }
  data->short_rows = std::all_of(data->input_bytes.begin(), data->input_bytes.end(), ref::has_short_rows);
  return finish_prepare(ctx, std::move(data), out_shape);
}

Status concat_eval(EvalContext& ctx) {
  const auto& d = *op_data_as<ConcatData>(ctx);
  uint8_t* out = ctx.outputs[0]->data;
  const auto out_row = static_cast<int64_t>(d.output_row_bytes);
  auto rows = [&](size_t first, size_t count) {
    uint8_t* dst = out + first * d.output_row_bytes;
    if (d.short_rows) {
      for (size_t i = 0; i < d.input_bytes.size(); ++i) {
        const size_t n = d.input_bytes[i];
        ref::copy_rows(dst, out_row, ctx.inputs[i]->data + first * n, static_cast<int64_t>(n),
                       static_cast<int64_t>(count), n);
        dst += n;
      }
      return;
    }
    for (size_t r = first; r < first + count; ++r)
      for (size_t i = 0; i < d.input_bytes.size(); ++i) {
        const size_t n = d.input_bytes[i];
        std::memcpy(dst, ctx.inputs[i]->data + r * n, n);
        dst += n;
      }
  };
  parallel_blocks(ctx.threadpool, d.outer, d.outer * d.output_row_bytes, rows);
  return ok_status();
}

// ---- RESIZE_NEAREST_NEIGHBOR --------------------------------------------------------------

struct ResizeNearestData : OpData, ResizeSizes {
  size_t pixel_bytes = 0;
  std::vector<int32_t> src_y, src_x;
};

Status resize_nearest_prepare(PrepareContext& ctx) {
  auto data = std::make_unique<ResizeNearestData>();
  QDET_ASSIGN_OR_RETURN(Shape out_shape, resize_sizes(ctx, data.get()));
  const TensorRef& input = *ctx.inputs[0];
  const TensorRef& out = *ctx.outputs[0];
  if (input.dtype != out.dtype || !same_quant(input, out))
    return unsupported("{}: output differs in dtype or quantization from input", op_label(ctx));
  const int32_t out_h = out_shape[1], out_w = out_shape[2];
  const graph::OpAttrs& a = ctx.op.attrs;
  data->pixel_bytes = static_cast<size_t>(input.shape[3]) * dtype_size(input.dtype);
  for (int32_t y = 0; y < out_h; ++y)
    data->src_y.push_back(
        ref::nearest_source(y, input.shape[1], out_h, a.align_corners, a.half_pixel_centers));
  for (int32_t x = 0; x < out_w; ++x)
    data->src_x.push_back(
        ref::nearest_source(x, input.shape[2], out_w, a.align_corners, a.half_pixel_centers));
  return finish_prepare(ctx, std::move(data), std::move(out_shape));
}

Status resize_nearest_eval(EvalContext& ctx) {
  const auto& d = *op_data_as<ResizeNearestData>(ctx);
  const uint8_t* in = ctx.inputs[0]->data;
  uint8_t* out = ctx.outputs[0]->data;
  const size_t in_row = d.in_w * d.pixel_bytes, out_row = d.out_w * d.pixel_bytes;
  // One task per output row: gather its pixels from the source row.
  auto row = [&](size_t r) {
    const size_t b = r / d.out_h, y = r % d.out_h;
    const uint8_t* src = in + (b * d.in_h + static_cast<size_t>(d.src_y[y])) * in_row;
    uint8_t* dst = out + r * out_row;
    for (size_t x = 0; x < d.out_w; ++x)
      std::memcpy(dst + x * d.pixel_bytes, src + static_cast<size_t>(d.src_x[x]) * d.pixel_bytes,
                  d.pixel_bytes);
  };
  parallel_rows(ctx.threadpool, d.batch * d.out_h, d.batch * d.out_h * out_row, row);
  return ok_status();
}

}  // namespace

const Kernel kConcatenation = {"copy", concat_prepare, concat_eval};
const Kernel kResizeNearestNeighbor = {"copy", resize_nearest_prepare, resize_nearest_eval};

}  // namespace qdet::rt::xnn
