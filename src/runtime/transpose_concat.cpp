#include "runtime/transpose_concat.h"

#include <algorithm>
#include <cstring>

#include "runtime/kernels/reference/common.h"

namespace qdet::rt {
namespace {

using graph::OpKind;

struct TransposeConcatData : OpData {
  int64_t batches = 0, rows = 0;       // output [batches, rows, row_bytes / element]
  size_t row_bytes = 0;                // C elements
  std::vector<int64_t> level_rows;     // H * W of each level
};

// The constant permutation of TRANSPOSE op `op`, or empty.
std::vector<int64_t> permutation(const graph::Op& op, const std::vector<TensorRef>& tensors) {
  if (op.kind != OpKind::kTranspose || op.inputs.size() != 2 || op.outputs.size() != 1 || op.inputs[1] < 0) return {};
  const TensorRef& p = tensors[op.inputs[1]];
  if (!p.is_constant || !p.data || p.num_elements() > 8) return {};
  std::vector<int64_t> v;
  for (int64_t i = 0; i < p.num_elements(); ++i) {
    if (p.dtype == DType::kInt32) v.push_back(p.as<const int32_t>()[i]);
    else if (p.dtype == DType::kInt64) v.push_back(p.as<const int64_t>()[i]);
    else return {};
  }
  return v;
}

// `id`'s producer when `id` is read only by `reader` and is no graph output, else -1.
int32_t sole_producer(const graph::Graph& g, int32_t id, int32_t reader, const std::vector<int32_t>& producers,
                      const std::vector<std::vector<int32_t>>& consumers) {
  return g.read_only_by(id, reader, consumers) ? producers[id] : -1;
}

bool same_values(const graph::Graph& g, int32_t a, int32_t b) {
  const graph::Tensor& x = g.tensors[a];
  const graph::Tensor& y = g.tensors[b];
  return x.dtype == y.dtype && x.quant.scale == y.quant.scale && x.quant.zero_point == y.quant.zero_point;
}

Status fused_prepare(PrepareContext&) { return internal_error("transpose-concat: planned, not prepared"); }

Status fused_eval(EvalContext& ctx) {
  const auto& d = *static_cast<const TransposeConcatData*>(ctx.op_data);
  uint8_t* out = ctx.outputs[0]->data;
  for (int64_t n = 0; n < d.batches; ++n) {
    uint8_t* dst = out + static_cast<size_t>(n * d.rows) * d.row_bytes;
    for (size_t i = 0; i < d.level_rows.size(); ++i) {
      const size_t bytes = static_cast<size_t>(d.level_rows[i]) * d.row_bytes;
      std::memcpy(dst, ctx.inputs[i]->data + static_cast<size_t>(n) * bytes, bytes);
      dst += bytes;
    }
  }
  return ok_status();
}

}  // namespace

std::optional<TransposeConcat> find_transpose_concat(const graph::Graph& g, int32_t last_op,
                                                     const std::vector<TensorRef>& tensors,
                                                     const std::vector<int32_t>& producers,
                                                     const std::vector<std::vector<int32_t>>& consumers) {
  const graph::Op& last = g.ops[last_op];
  if (permutation(last, tensors) != std::vector<int64_t>{0, 2, 1}) return std::nullopt;
  const int32_t joined = last.inputs[0];
  const int32_t concat_op = sole_producer(g, joined, last_op, producers, consumers);
  if (concat_op < 0) return std::nullopt;
  const graph::Op& concat = g.ops[concat_op];
  const TensorRef& c = tensors[joined];
  if (concat.kind != OpKind::kConcatenation || concat.inputs.size() < 2 || c.shape.size() != 3 ||
      (concat.attrs.axis != 2 && concat.attrs.axis != -1) || concat.attrs.activation != graph::Activation::kNone)
    return std::nullopt;
  const TensorRef& out = tensors[last.outputs[0]];
  const int64_t batches = c.shape[0], channels = c.shape[1];
  if (out.shape != Shape{c.shape[0], c.shape[2], c.shape[1]} || !same_values(g, joined, last.outputs[0]))
    return std::nullopt;
  TransposeConcat found;
  found.last_op = last_op;
  found.fused_ops.push_back(concat_op);
  auto data = std::make_unique<TransposeConcatData>();
  for (int32_t flat : concat.inputs) {
    const int32_t reshape_op = sole_producer(g, flat, concat_op, producers, consumers);
    if (reshape_op < 0 || g.ops[reshape_op].kind != OpKind::kReshape || g.ops[reshape_op].inputs.empty())
      return std::nullopt;
    const int32_t nchw = g.ops[reshape_op].inputs[0];
    const int32_t transpose_op = sole_producer(g, nchw, reshape_op, producers, consumers);
    if (transpose_op < 0 || permutation(g.ops[transpose_op], tensors) != std::vector<int64_t>{0, 3, 1, 2})
      return std::nullopt;
    const int32_t source = g.ops[transpose_op].inputs[0];
    const Shape& x = tensors[source].shape;
    const Shape& f = tensors[flat].shape;
    if (source < 0 || x.size() != 4 || x[0] != batches || x[3] != channels || f.size() != 3 || f[0] != batches ||
        f[1] != channels || f[2] != static_cast<int64_t>(x[1]) * x[2] || !same_values(g, source, joined) ||
        !same_values(g, nchw, joined) || !same_values(g, flat, joined))
      return std::nullopt;
    found.fused_ops.push_back(transpose_op);
    found.fused_ops.push_back(reshape_op);
    found.sources.push_back(source);
    data->level_rows.push_back(f[2]);
  }
  data->batches = batches;
  data->rows = c.shape[2];
  data->row_bytes = static_cast<size_t>(channels) * dtype_size(c.dtype);
  found.data = std::move(data);
  return found;
}

const Kernel kTransposeConcatKernel = {"copy", fused_prepare, fused_eval};

}  // namespace qdet::rt
