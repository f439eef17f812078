// ARG_MAX and ARG_MIN (TFLite arg_min_max.cc, reference_ops::ArgMinMax): the index of the largest
// (smallest) value along the axis given by a constant int32/int64 input of one value; the first
// such index on ties. Inputs float32, int8, uint8, int32 (quantized values compare raw: the
// affine map keeps the order); the output is int32 or int64 (the options' output_type) with the
// axis removed.
#include "runtime/kernels/reference/common.h"

namespace qdet::rt::ref {
namespace {

struct ArgData : OpData {
  int64_t outer = 1, axis_size = 1, inner = 1;
};

Status prepare(PrepareContext& ctx) {
  QDET_TRY(check_arity(ctx, 2, 2, 1));
  const TensorRef& in = *ctx.inputs[0];
  TensorRef& out = *ctx.outputs[0];
  switch (in.dtype) {
    case DType::kFloat32: case DType::kInt8: case DType::kUInt8: case DType::kInt32: break;
    default: return no_kernel_for_dtype(in.dtype);
  }
  if (out.dtype != DType::kInt32 && out.dtype != DType::kInt64)
    return invalid_argument("the output must be int32 or int64, got {}", dtype_name(out.dtype));
  const int32_t declared = ctx.op.attrs.output_type;  // TFLite TensorType: 2 int32, 4 int64
  if ((declared == 2 && out.dtype != DType::kInt32) || (declared == 4 && out.dtype != DType::kInt64))
    return invalid_argument("output_type {} does not match the {} output", declared, dtype_name(out.dtype));
  QDET_ASSIGN_OR_RETURN(auto axis_v, read_constant_ints(ctx.inputs[1], "the axis input"));
  if (axis_v.size() != 1) return invalid_argument("the axis input must hold one value, has {}", axis_v.size());
  const int rank = static_cast<int>(in.shape.size());
  QDET_ASSIGN_OR_RETURN(int axis, normalize_axis(axis_v[0], rank));
  if (in.shape[axis] == 0) return invalid_argument("dim {} of the input is empty", axis);
  auto d = std::make_unique<ArgData>();
  for (int i = 0; i < axis; ++i) d->outer *= in.shape[i];
  d->axis_size = in.shape[axis];
  for (int i = axis + 1; i < rank; ++i) d->inner *= in.shape[i];
  Shape out_shape = in.shape;
  out_shape.erase(out_shape.begin() + axis);
  out.shape = out_shape;
  return keep_op_data(ctx, std::move(d));
}

template <typename T, typename Index, bool kMax>
void arg(const ArgData& d, const T* in, Index* out) {
  for (int64_t o = 0; o < d.outer; ++o)
    for (int64_t i = 0; i < d.inner; ++i) {
      const T* p = in + o * d.axis_size * d.inner + i;
      T best = p[0];
      Index best_index = 0;
      for (int64_t k = 1; k < d.axis_size; ++k) {
        const T v = p[k * d.inner];
        if (kMax ? v > best : v < best) {
          best = v;
          best_index = static_cast<Index>(k);
        }
      }
      out[o * d.inner + i] = best_index;
    }
}

template <typename T, bool kMax>
void arg_typed(const ArgData& d, const TensorRef& in, TensorRef& out) {
  if (out.dtype == DType::kInt32) arg<T, int32_t, kMax>(d, in.as<const T>(), out.as<int32_t>());
  else arg<T, int64_t, kMax>(d, in.as<const T>(), out.as<int64_t>());
}

template <bool kMax>
Status eval(EvalContext& ctx) {
  const auto& d = *op_data_as<ArgData>(ctx);
  const TensorRef& in = *ctx.inputs[0];
  TensorRef& out = *ctx.outputs[0];
  return with_element_type<float, int8_t, uint8_t, int32_t>(in.dtype, "ARG_MAX/ARG_MIN", [&](auto t) {
    arg_typed<decltype(t), kMax>(d, in, out);
  });
}

}  // namespace

const Kernel kArgMax = {"reference", prepare, eval<true>};
const Kernel kArgMin = {"reference", prepare, eval<false>};

}  // namespace qdet::rt::ref
