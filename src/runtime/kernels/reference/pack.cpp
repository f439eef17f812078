// PACK and UNPACK for every dtype (TFLite pack.cc / unpack.cc). PACK stacks values_count inputs
// of one shape along a new axis in [-(rank+1), rank]; UNPACK splits its input along `axis` into
// its num outputs (num = that dim). Seen as [outer, N, inner], output k of UNPACK (input k of
// PACK) is the slice [:, k, :]. Quantized tensors must all share the parameters (TFLite checks
// it: no requantization).
#include <cstring>

#include "runtime/kernels/reference/common.h"

namespace qdet::rt::ref {
namespace {

struct PackData : OpData {
  int64_t outer = 1, slice_bytes = 0;  // slice: inner elements of one input / output
};

Status check_same_params(const TensorRef& a, const TensorRef& b, const char* op) {
  QDET_TRY(expect_same_dtype(a, b, "every input and output"));
  if (is_quantized(a) && !same_quantization(a, b))
    return invalid_argument("{} needs one scale and zero point for all its tensors", op);
  return ok_status();
}

void fill_layout(PackData& d, const Shape& shape, int axis, DType dtype) {
  int64_t inner = 1;
  for (int i = 0; i < axis; ++i) d.outer *= shape[i];
  for (size_t i = axis; i < shape.size(); ++i) inner *= shape[i];
  d.slice_bytes = inner * static_cast<int64_t>(dtype_size(dtype));
}

Status pack_prepare(PrepareContext& ctx) {
  const int32_t n = ctx.op.attrs.values_count;
  if (n < 1) return invalid_argument("values_count {} must be >= 1", n);
  QDET_TRY(check_arity(ctx, static_cast<size_t>(n), static_cast<size_t>(n), 1));
  const TensorRef& in0 = *ctx.inputs[0];
  for (size_t k = 1; k < ctx.inputs.size(); ++k) {
    if (ctx.inputs[k]->shape != in0.shape)
      return invalid_argument("input {} has shape {}, input 0 {}", k, shape_to_string(ctx.inputs[k]->shape),
                              shape_to_string(in0.shape));
    QDET_TRY(check_same_params(in0, *ctx.inputs[k], "PACK"));
  }
  QDET_TRY(check_same_params(in0, *ctx.outputs[0], "PACK"));
  const int rank = static_cast<int>(in0.shape.size());
  QDET_ASSIGN_OR_RETURN(int axis, normalize_axis(ctx.op.attrs.axis, rank + 1));
  auto d = std::make_unique<PackData>();
  fill_layout(*d, in0.shape, axis, in0.dtype);
  Shape out = in0.shape;
  out.insert(out.begin() + axis, n);
  ctx.outputs[0]->shape = out;
  return keep_op_data(ctx, std::move(d));
}

Status pack_eval(EvalContext& ctx) {
  const auto& d = *op_data_as<PackData>(ctx);
  uint8_t* out = ctx.outputs[0]->data;
  const size_t n = ctx.inputs.size();
  for (int64_t o = 0; o < d.outer; ++o)
    for (size_t k = 0; k < n; ++k, out += d.slice_bytes)
      std::memcpy(out, ctx.inputs[k]->data + o * d.slice_bytes, static_cast<size_t>(d.slice_bytes));
  return ok_status();
}

Status unpack_prepare(PrepareContext& ctx) {
  QDET_TRY(check_arity(ctx, 1, 1, ctx.outputs.size()));
  const TensorRef& in = *ctx.inputs[0];
  const int rank = static_cast<int>(in.shape.size());
  if (rank < 1) return invalid_argument("UNPACK needs an input of rank >= 1");
  QDET_ASSIGN_OR_RETURN(int axis, normalize_axis(ctx.op.attrs.axis, rank));
  if (static_cast<size_t>(in.shape[axis]) != ctx.outputs.size())
    return invalid_argument("{} outputs for dim {} of size {}", ctx.outputs.size(), axis, in.shape[axis]);
  Shape out = in.shape;
  out.erase(out.begin() + axis);
  for (TensorRef* o : ctx.outputs) {
    QDET_TRY(check_same_params(in, *o, "UNPACK"));
    o->shape = out;
  }
  auto d = std::make_unique<PackData>();
  fill_layout(*d, out, axis, in.dtype);
  return keep_op_data(ctx, std::move(d));
}

Status unpack_eval(EvalContext& ctx) {
  const auto& d = *op_data_as<PackData>(ctx);
  const uint8_t* in = ctx.inputs[0]->data;
  const size_t n = ctx.outputs.size();
  for (int64_t o = 0; o < d.outer; ++o)
    for (size_t k = 0; k < n; ++k, in += d.slice_bytes)
      std::memcpy(ctx.outputs[k]->data + o * d.slice_bytes, in, static_cast<size_t>(d.slice_bytes));
  return ok_status();
}

}  // namespace

const Kernel kPack = {"reference", pack_prepare, pack_eval};
const Kernel kUnpack = {"reference", unpack_prepare, unpack_eval};

}  // namespace qdet::rt::ref
