#include "runtime/kernels/reference/quantized/quantized_common.h"

#include <cmath>

namespace qdet::rt::quantized {

Status check_per_tensor_quant(const TensorRef& t, const std::string& what) {
  const QuantParams& q = *t.quant;
  if (q.scale.size() != 1)
    return unsupported("{} ({}) must have one scale (per-tensor quantization), has {}", what,
                       dtype_name(t.dtype), q.scale.size());
  if (!(q.scale[0] > 0.0f) || !std::isfinite(q.scale[0]))
    return invalid_argument("{}: scale {} must be positive and finite", what, q.scale[0]);
  const int64_t zp = q.zero_point.empty() ? 0 : q.zero_point[0];
  if (zp < dtype_qmin(t.dtype) || zp > dtype_qmax(t.dtype))
    return invalid_argument("{}: zero point {} is outside the {} range", what, zp,
                            dtype_name(t.dtype));
  return ok_status();
}

Result<const TensorRef*> required_input(const PrepareContext& ctx, size_t i,
                                        const std::string& op_name) {
  if (i >= ctx.inputs.size() || ctx.inputs[i] == nullptr)
    return invalid_argument("{}: input {} is missing ({} inputs given)", op_name, i,
                            ctx.inputs.size());
  return static_cast<const TensorRef*>(ctx.inputs[i]);
}

const TensorRef* optional_input(const PrepareContext& ctx, size_t i) {
  return i < ctx.inputs.size() ? ctx.inputs[i] : nullptr;
}

Result<std::reference_wrapper<TensorRef>> single_output(const PrepareContext& ctx, const std::string& op_name) {
  if (ctx.outputs.size() != 1 || ctx.outputs[0] == nullptr)
    return invalid_argument("{}: expects 1 output, got {}", op_name, ctx.outputs.size());
  return std::ref(*ctx.outputs[0]);
}

Result<ElementwiseTensors> elementwise_tensors(const PrepareContext& ctx, const std::string& op,
                                               bool (*accepts)(DType)) {
  QDET_ASSIGN_OR_RETURN(const TensorRef* in, required_input(ctx, 0, op));
  QDET_ASSIGN_OR_RETURN(TensorRef& out, single_output(ctx, op));
  if (!accepts(in->dtype))
    return unsupported("{}: quantized kernel does not handle {}", op, dtype_name(in->dtype));
  if (out.dtype != in->dtype)
    return unsupported("{}: output dtype {} differs from input dtype {}", op, dtype_name(out.dtype),
                       dtype_name(in->dtype));
  QDET_TRY(check_per_tensor_quant(*in, op + " input"));
  QDET_TRY(check_per_tensor_quant(out, op + " output"));
  return ElementwiseTensors{*in, out};
}

Result<BroadcastPlan> make_broadcast_plan(const Shape& a, const Shape& b, Shape* out_shape,
                                          const std::string& op_name) {
  constexpr int R = kMaxBroadcastRank;
  const int rank = static_cast<int>(std::max(a.size(), b.size()));
  if (rank > R)
    return unsupported("{}: broadcasting supports rank <= {}, got {} and {}", op_name, R,
                       shape_to_string(a), shape_to_string(b));
  BroadcastPlan plan;
  plan.rank = rank;
  plan.same_shape = a == b;
  std::array<int32_t, R> da{}, db{};
  da.fill(1);
  db.fill(1);
  for (size_t i = 0; i < a.size(); ++i) da[R - a.size() + i] = a[i];
  for (size_t i = 0; i < b.size(); ++i) db[R - b.size() + i] = b[i];
  out_shape->assign(static_cast<size_t>(rank), 0);
  for (int d = 0; d < R; ++d) {
    if (da[d] != db[d] && da[d] != 1 && db[d] != 1)
      return invalid_argument("{}: shapes {} and {} do not broadcast", op_name,
                              shape_to_string(a), shape_to_string(b));
    // A dim of 0 wins over 1 (numpy): the output is empty.
    plan.out_dims[d] = (da[d] == 1) ? db[d] : da[d];
    if (d >= R - rank) (*out_shape)[static_cast<size_t>(d - (R - rank))] = plan.out_dims[d];
  }
  int64_t sa = 1, sb = 1;
  for (int d = R - 1; d >= 0; --d) {
    plan.stride1[d] = (da[d] == 1 && plan.out_dims[d] != 1) ? 0 : sa;
    plan.stride2[d] = (db[d] == 1 && plan.out_dims[d] != 1) ? 0 : sb;
    sa *= da[d];
    sb *= db[d];
  }
  return plan;
}

Result<BinaryTensors> binary_tensors(const PrepareContext& ctx, const std::string& op, bool (*accepts)(DType),
                                     BinaryOperands* operands) {
  QDET_ASSIGN_OR_RETURN(const TensorRef* in1, required_input(ctx, 0, op));
  QDET_ASSIGN_OR_RETURN(const TensorRef* in2, required_input(ctx, 1, op));
  QDET_ASSIGN_OR_RETURN(TensorRef& out, single_output(ctx, op));
  const DType t = in1->dtype;
  if (!accepts(t)) return unsupported("{}: quantized kernel does not handle {}", op, dtype_name(t));
  if (in2->dtype != t || out.dtype != t)
    return unsupported("{}: mixed dtypes {}, {} -> {}", op, dtype_name(t), dtype_name(in2->dtype),
                       dtype_name(out.dtype));
  QDET_TRY(check_per_tensor_quant(*in1, op + " input 1"));
  QDET_TRY(check_per_tensor_quant(*in2, op + " input 2"));
  QDET_TRY(check_per_tensor_quant(out, op + " output"));
  QDET_ASSIGN_OR_RETURN(operands->plan, make_broadcast_plan(in1->shape, in2->shape, &out.shape, op));
  operands->input1_offset = -in1->zero_point();
  operands->input2_offset = -in2->zero_point();
  operands->output_offset = out.zero_point();
  return BinaryTensors{*in1, *in2, out};
}

}  // namespace qdet::rt::quantized
