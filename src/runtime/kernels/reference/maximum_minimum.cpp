// MAXIMUM and MINIMUM (TFLite maximum_minimum.cc, reference_ops::MaximumMinimumBroadcastSlow):
// elementwise with NumPy broadcasting on float32, int8, uint8, int16, int32; quantized values
// are compared raw (TFLite does not requantize: the quantizer gives both inputs the output's
// parameters). max(a, b) = a > b ? a : b, min(a, b) = a < b ? a : b.
#include "runtime/kernels/reference/common.h"

namespace qdet::rt::ref {
namespace {

struct MaxMinData : OpData {
  BroadcastIndexer indexer;
};

Status prepare(PrepareContext& ctx) {
  QDET_TRY(check_arity(ctx, 2, 2, 1));
  const TensorRef& a = *ctx.inputs[0];
  const TensorRef& b = *ctx.inputs[1];
  TensorRef& out = *ctx.outputs[0];
  switch (a.dtype) {
    case DType::kFloat32: case DType::kInt8: case DType::kUInt8: case DType::kInt16: case DType::kInt32: break;
    default: return no_kernel_for_dtype(a.dtype);
  }
  QDET_TRY(expect_same_dtype(a, b, "the second input"));
  QDET_TRY(expect_same_dtype(a, out, "the output"));
  auto d = std::make_unique<MaxMinData>();
  QDET_ASSIGN_OR_RETURN(out.shape, broadcast_shapes(a.shape, b.shape));
  QDET_ASSIGN_OR_RETURN(d->indexer, BroadcastIndexer::create(out.shape, {a.shape, b.shape}));
  return keep_op_data(ctx, std::move(d));
}

template <typename T, bool kMax>
void apply(const MaxMinData& d, const T* a, const T* b, T* out) {
  d.indexer.for_each([&](int64_t i, const int64_t* off) {
    const T x = a[off[0]], y = b[off[1]];
    out[i] = kMax ? (x > y ? x : y) : (x < y ? x : y);
  });
}

template <bool kMax>
Status eval(EvalContext& ctx) {
  const auto& d = *op_data_as<MaxMinData>(ctx);
  return with_typed_binary_io<float, int8_t, uint8_t, int16_t, int32_t>(
      ctx, "MAXIMUM/MINIMUM", [&]<typename T>(const T* a, const T* b, T* out) { apply<T, kMax>(d, a, b, out); });
}

}  // namespace

const Kernel kMaximum = {"reference", prepare, eval<true>};
const Kernel kMinimum = {"reference", prepare, eval<false>};

}  // namespace qdet::rt::ref
