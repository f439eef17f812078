// The reductions' shared geometry (reduce.h) and the float/int32 kernels of SUM, MEAN and
// REDUCE_MAX (TFLite reduce.cc EvalGeneric, reference_ops::Mean): each walks the input in order
// and folds every element into its output. Quantized MEAN and SUM: quantized/reduce_quantized.cpp.
#include <limits>

#include "runtime/kernels/reference/reduce.h"

namespace qdet::rt::ref {

Result<ReduceGeometry> prepare_reduce(PrepareContext& ctx) {
  QDET_ASSIGN_OR_RETURN(const TensorRef& in, same_dtype_input(ctx, 2, 2));
  QDET_TRY(expect_dtype(*ctx.inputs[1], DType::kInt32, "the axis input"));
  ReduceGeometry g;
  QDET_ASSIGN_OR_RETURN(g.axes, read_constant_ints(ctx.inputs[1], "the axis input"));
  const int rank = static_cast<int>(in.shape.size());
  if (rank > 16) return unsupported("reduction over more than 16 dims");
  g.in_shape = in.shape;
  g.reduced.assign(rank, false);
  for (int64_t a : g.axes) {
    QDET_ASSIGN_OR_RETURN(int axis, normalize_axis(a, rank));
    g.reduced[axis] = true;
  }
  Shape out_shape, kept;
  for (int i = 0; i < rank; ++i) {
    if (g.reduced[i]) {
      g.reduce_count *= in.shape[i];
      if (ctx.op.attrs.keep_dims) out_shape.push_back(1);
    } else {
      out_shape.push_back(in.shape[i]);
      kept.push_back(in.shape[i]);
    }
  }
  const auto kept_strides = strides_of(kept);
  for (int i = 0, k = 0; i < rank; ++i) g.out_stride.push_back(g.reduced[i] ? 0 : kept_strides[k++]);
  ctx.outputs[0]->shape = out_shape;
  return g;
}

bool is_mean_over_hw(const ReduceGeometry& g, bool keep_dims) {
  return keep_dims && g.in_shape.size() == 4 && g.axes.size() == 2 &&
         ((g.axes[0] == 1 && g.axes[1] == 2) || (g.axes[0] == 2 && g.axes[1] == 1));
}

namespace {

struct ReduceData : OpData {
  ReduceGeometry g;
};

Status keep_geometry(PrepareContext& ctx) {
  auto d = std::make_unique<ReduceData>();
  QDET_ASSIGN_OR_RETURN(d->g, prepare_reduce(ctx));
  return keep_op_data(ctx, std::move(d));
}

// out[o] = init, then out[o] = fold(out[o], x) for each input element x of output o, in order.
template <typename T, typename Fold>
void reduce(const ReduceGeometry& g, const T* in, T* out, int64_t out_n, T init, Fold fold) {
  for (int64_t i = 0; i < out_n; ++i) out[i] = init;
  for_each_reduced(g, [&](int64_t i, int64_t o) { out[o] = fold(out[o], in[i]); });
}

template <typename T>
T plus(T acc, T x) { return acc + x; }

// SUM, float32 and int32: the sum over the axes.
Status sum_prepare(PrepareContext& ctx) {
  if (!ctx.inputs.empty() && ctx.inputs[0] && ctx.inputs[0]->dtype != DType::kFloat32 &&
      ctx.inputs[0]->dtype != DType::kInt32)
    return no_kernel_for_dtype(ctx.inputs[0]->dtype);
  return keep_geometry(ctx);
}

Status sum_eval(EvalContext& ctx) {
  const auto& g = op_data_as<ReduceData>(ctx)->g;
  const int64_t n = ctx.outputs[0]->num_elements();
  return with_typed_io<float, int32_t>(ctx, "SUM", [&]<typename T>(const T* in, T* out) {
    reduce(g, in, out, n, T{}, plus<T>);
  });
}

// MEAN, float32: the sum over the axes divided by the number of reduced elements.
Status mean_prepare(PrepareContext& ctx) {
  if (!ctx.inputs.empty() && ctx.inputs[0] && ctx.inputs[0]->dtype != DType::kFloat32)
    return no_kernel_for_dtype(ctx.inputs[0]->dtype);
  return keep_geometry(ctx);
}

Status mean_eval(EvalContext& ctx) {
  const auto& g = op_data_as<ReduceData>(ctx)->g;
  float* out = ctx.outputs[0]->as<float>();
  const int64_t out_n = ctx.outputs[0]->num_elements();
  reduce(g, ctx.inputs[0]->as<const float>(), out, out_n, 0.0f, plus<float>);
  if (g.reduce_count > 0)
    for (int64_t i = 0; i < out_n; ++i) out[i] /= static_cast<float>(g.reduce_count);
  return ok_status();
}

// REDUCE_MAX on float32, int8, uint8, int16 and int32; quantized inputs and outputs must share
// scale and zero point (TFLite checks it), and the raw values are compared.
Status reduce_max_prepare(PrepareContext& ctx) {
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
  return keep_geometry(ctx);
}

Status reduce_max_eval(EvalContext& ctx) {
  const auto& g = op_data_as<ReduceData>(ctx)->g;
  const int64_t n = ctx.outputs[0]->num_elements();
  return with_typed_io<float, int8_t, uint8_t, int16_t, int32_t>(ctx, "REDUCE_MAX", [&]<typename T>(const T* in, T* out) {
    reduce(g, in, out, n, std::numeric_limits<T>::lowest(), [](T acc, T x) { return x > acc ? x : acc; });
  });
}

}  // namespace

const Kernel kSumFloat = {"reference", sum_prepare, sum_eval};
const Kernel kMeanFloat = {"reference", mean_prepare, mean_eval};
const Kernel kReduceMax = {"reference", reduce_max_prepare, reduce_max_eval};

}  // namespace qdet::rt::ref
