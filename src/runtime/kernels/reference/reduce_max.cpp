// REDUCE_MAX (TFLite reduce.cc EvalGeneric kMax): the largest value over the axes of a constant
// int32 input, on float32, int8, uint8, int16 and int32; quantized inputs and outputs must share
// scale and zero point (TFLite checks it), and the raw values are compared.
#include "runtime/kernels/reference/reduce.h"

namespace qdet::rt::ref {
namespace {

struct ReduceMaxData : OpData {
  ReduceGeometry g;
};

Status prepare(PrepareContext& ctx) {
  QDET_TRY(check_arity(ctx, 2, 2, 1));
  const TensorRef& in = *ctx.inputs[0];
  switch (in.dtype) {
    case DType::kFloat32: case DType::kInt32: break;
    case DType::kInt8: case DType::kUInt8: case DType::kInt16:
      if (!same_quantization(in, *ctx.outputs[0]))
        return invalid_argument("REDUCE_MAX on {} needs the same scale and zero point in and out",
                                dtype_name(in.dtype));
      break;
    default: return no_kernel_for_dtype(in.dtype);
  }
  auto d = std::make_unique<ReduceMaxData>();
  QDET_ASSIGN_OR_RETURN(d->g, prepare_reduce(ctx));
  ctx.op_data = std::move(d);
  return ok_status();
}

template <typename T>
void reduce_max(const ReduceGeometry& g, const T* in, T* out, int64_t out_n) {
  for (int64_t i = 0; i < out_n; ++i) out[i] = std::numeric_limits<T>::lowest();
  for_each_reduced(g, [&](int64_t i, int64_t o) { out[o] = in[i] > out[o] ? in[i] : out[o]; });
}

Status eval(EvalContext& ctx) {
  const auto& g = op_data_as<ReduceMaxData>(ctx)->g;
  const TensorRef& in = *ctx.inputs[0];
  TensorRef& out = *ctx.outputs[0];
  const int64_t n = out.num_elements();
  return with_element_type<float, int8_t, uint8_t, int16_t, int32_t>(in.dtype, "REDUCE_MAX", [&](auto t) {
    using T = decltype(t);
    reduce_max(g, in.as<const T>(), out.as<T>(), n);
  });
}

}  // namespace

const Kernel kReduceMax = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
