#include "runtime/slice_concat.h"

#include <algorithm>

#include "runtime/kernels/reference/common.h"
#include "runtime/kernels/reference/strided_copy.h"

namespace qdet::rt {
namespace {

using graph::OpKind;

// One slice's grid in the source: rows start_h + i * stride_h, columns start_w + j * stride_w.
struct Grid {
  int64_t start_h = 0, stride_h = 1, start_w = 0, stride_w = 1;
};

class SliceConcatData : public OpData {
 public:
  std::vector<Grid> grids;
  int64_t batches = 0, in_h = 0, in_w = 0, channels = 0;  // the source
  int64_t out_h = 0, out_w = 0;
  size_t element_bytes = 1;
};

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
    for (size_t k = 0; k < d.grids.size(); ++k) {
      const Grid& gk = d.grids[k];
      const uint8_t* in_row = src + ((n * d.in_h + gk.start_h + oy * gk.stride_h) * d.in_w + gk.start_w) * pixel;
      ref::copy_rows(out_row + static_cast<int64_t>(k) * pixel, out_pixel, in_row, gk.stride_w * pixel, d.out_w,
                     static_cast<size_t>(pixel));
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
  found.data = std::move(data);
  return found;
}

const Kernel kSliceConcatKernel = {"copy", slice_concat_prepare, slice_concat_eval};

}  // namespace qdet::rt
