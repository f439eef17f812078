// MIRROR_PAD for every dtype (TFLite mirror_pad.cc): pads each dim with its own values mirrored
// at the edges, REFLECT without repeating the edge value (a b c -> b a b c b), SYMMETRIC with
// it (a b c -> a a b c c). The paddings are a constant int32/int64 [rank, 2] input; a padding
// must be at most dim - 1 (REFLECT) or dim (SYMMETRIC). Each output dim maps to its input
// index through a table built at prepare.
#include <cstring>

#include "runtime/kernels/reference/common.h"

namespace qdet::rt::ref {
namespace {

struct MirrorPadData : OpData {
  std::vector<std::vector<int32_t>> source;  // per dim: output index -> input index
  std::vector<int64_t> in_strides;
  size_t element_bytes = 1;
};

Status prepare(PrepareContext& ctx) {
  QDET_TRY(check_arity(ctx, 2, 2, 1));
  const TensorRef& in = *ctx.inputs[0];
  QDET_TRY(expect_same_dtype(in, *ctx.outputs[0], "the output"));
  if (is_quantized(in) && !same_quantization(in, *ctx.outputs[0]))
    return invalid_argument("MIRROR_PAD needs the same scale and zero point in and out");
  QDET_ASSIGN_OR_RETURN(auto pads, read_constant_ints(ctx.inputs[1], "the paddings input"));
  const int rank = static_cast<int>(in.shape.size());
  if (rank > 16) return unsupported("MIRROR_PAD of more than 16 dims");
  if (pads.size() != static_cast<size_t>(2 * rank))
    return invalid_argument("paddings hold {} values, an input of rank {} needs {}", pads.size(), rank, 2 * rank);
  const bool symmetric = ctx.op.attrs.mirror_symmetric;
  auto d = std::make_unique<MirrorPadData>();
  Shape out;
  for (int i = 0; i < rank; ++i) {
    const int64_t n = in.shape[i], before = pads[2 * i], after = pads[2 * i + 1];
    const int64_t limit = symmetric ? n : n - 1;
    if (before < 0 || after < 0 || before > limit || after > limit)
      return invalid_argument("paddings {} and {} of dim {} (size {}) must be in [0, {}]", before, after, i, n, limit);
    std::vector<int32_t> src;
    for (int64_t o = 0; o < before + n + after; ++o) {
      int64_t k = o - before;
      if (k < 0) k = symmetric ? -k - 1 : -k;
      if (k >= n) k = symmetric ? 2 * n - 1 - k : 2 * n - 2 - k;
      src.push_back(static_cast<int32_t>(k));
    }
    out.push_back(static_cast<int32_t>(src.size()));
    d->source.push_back(std::move(src));
  }
  if (!checked_num_elements(out)) return invalid_argument("padded shape {} is too large", shape_to_string(out));
  d->in_strides = strides_of(in.shape);
  d->element_bytes = dtype_size(in.dtype);
  ctx.outputs[0]->shape = out;
  return keep_op_data(ctx, std::move(d));
}

Status eval(EvalContext& ctx) {
  const auto& d = *op_data_as<MirrorPadData>(ctx);
  const int rank = static_cast<int>(d.source.size());
  const uint8_t* in = ctx.inputs[0]->data;
  uint8_t* out = ctx.outputs[0]->data;
  const int64_t n = ctx.outputs[0]->num_elements();
  int64_t idx[16] = {};
  for (int64_t i = 0; i < n; ++i) {
    int64_t offset = 0;
    for (int k = 0; k < rank; ++k) offset += d.source[k][idx[k]] * d.in_strides[k];
    std::memcpy(out + i * d.element_bytes, in + offset * d.element_bytes, d.element_bytes);
    for (int k = rank - 1; k >= 0; --k) {
      if (++idx[k] < static_cast<int64_t>(d.source[k].size())) break;
      idx[k] = 0;
    }
  }
  return ok_status();
}

}  // namespace

const Kernel kMirrorPad = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
