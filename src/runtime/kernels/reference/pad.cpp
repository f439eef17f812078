// PAD for every dtype: pads with 0, or with the output's zero point for quantized tensors
// (so the padding means real 0, as TFLite does).
#include <cstring>

#include "runtime/kernels/reference/pad.h"

namespace qdet::rt::ref {

Result<std::unique_ptr<PadData>> prepare_pad(PrepareContext& ctx) {
  const TensorRef& in = *ctx.inputs[0];
  QDET_TRY(expect_same_dtype(in, *ctx.outputs[0], "the output"));
  QDET_ASSIGN_OR_RETURN(auto pads, read_constant_ints(ctx.inputs[1], "the paddings input"));
  const int rank = static_cast<int>(in.shape.size());
  if (static_cast<int>(pads.size()) != 2 * rank)
    return invalid_argument("paddings has {} values, expected [{},2]", pads.size(), rank);
  if (rank > PadData::kMaxRank) return unsupported("PAD of more than {} dims", PadData::kMaxRank);
  auto d = std::make_unique<PadData>();
  d->rank = rank;
  d->element_bytes = dtype_size(in.dtype);
  d->in_shape = in.shape;
  std::vector<int64_t> out_dims(rank);
  for (int i = 0; i < rank; ++i) {
    if (pads[2 * i] < 0 || pads[2 * i + 1] < 0)
      return invalid_argument("negative padding {} {} for dim {}", pads[2 * i], pads[2 * i + 1], i);
    out_dims[i] = in.shape[i] + pads[2 * i] + pads[2 * i + 1];
  }
  QDET_ASSIGN_OR_RETURN(Shape out_shape, to_shape(out_dims, "padded shape"));
  const auto strides = strides_of(out_shape);
  for (int i = 0; i < rank; ++i) {
    d->out_strides[i] = strides[i] * static_cast<int64_t>(d->element_bytes);
    d->interior_offset += pads[2 * i] * d->out_strides[i];
  }
  ctx.outputs[0]->shape = out_shape;
  const TensorRef& out = *ctx.outputs[0];
  if (is_quantized(out) && out.zero_point() != 0) {
    const int32_t zp = out.zero_point();
    d->zero_value = false;
    if (out.dtype == DType::kInt8) d->value[0] = static_cast<uint8_t>(static_cast<int8_t>(zp));
    if (out.dtype == DType::kUInt8) d->value[0] = static_cast<uint8_t>(zp);
    if (out.dtype == DType::kInt16) {
      const auto v = static_cast<int16_t>(zp);
      std::memcpy(d->value, &v, 2);
    }
  }
  return d;
}

Status eval_pad(EvalContext& ctx) {
  const auto& d = *op_data_as<PadData>(ctx);
  TensorRef& out = *ctx.outputs[0];
  const int64_t n = out.num_elements();
  if (d.zero_value) {
    std::memset(out.data, 0, out.byte_size());
  } else {
    for (int64_t i = 0; i < n; ++i) std::memcpy(out.data + i * d.element_bytes, d.value, d.element_bytes);
  }
  const TensorRef& in = *ctx.inputs[0];
  if (in.num_elements() == 0) return ok_status();
  if (d.rank == 0) {
    std::memcpy(out.data, in.data, d.element_bytes);
    return ok_status();
  }
  const int inner = d.rank - 1;
  const size_t row_bytes = static_cast<size_t>(d.in_shape[inner]) * d.element_bytes;
  const int64_t rows = in.num_elements() / d.in_shape[inner];
  int64_t idx[PadData::kMaxRank] = {};
  int64_t offset = d.interior_offset;
  const uint8_t* src = in.data;
  for (int64_t r = 0; r < rows; ++r) {
    std::memcpy(out.data + offset, src, row_bytes);
    src += row_bytes;
    advance_index(idx, inner, d.in_shape, d.out_strides, offset);
  }
  return ok_status();
}

namespace {

Status prepare(PrepareContext& ctx) {
  QDET_TRY(check_arity(ctx, 2, 2, 1));
  QDET_ASSIGN_OR_RETURN(auto d, prepare_pad(ctx));
  return keep_op_data(ctx, std::move(d));
}

}  // namespace

const Kernel kPad = {"reference", prepare, eval_pad};

}  // namespace qdet::rt::ref
