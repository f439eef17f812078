// CONCATENATION for every dtype along `axis` (negative allowed): a byte copy of each input's
// slab per outer index. Quantized tensors are concatenated here only when every input shares
// the output's scale and zero point (otherwise a requantizing kernel must do it). A fused
// activation is applied for float32 only.
#include <cstring>

#include "runtime/kernels/reference/common.h"

namespace qdet::rt::ref {
namespace {

struct ConcatData : OpData {
  int64_t outer = 1;
  std::vector<size_t> slab_bytes;  // per input: axis dim * inner * element size
  bool clamp = false;
  ActivationRange act;
};

Status prepare(PrepareContext& ctx) {
  if (ctx.inputs.empty()) return invalid_argument("expects at least one input");
  QDET_TRY(check_arity(ctx, ctx.inputs.size(), ctx.inputs.size(), 1));
  const TensorRef& first = *ctx.inputs[0];
  TensorRef& out = *ctx.outputs[0];
  const int rank = static_cast<int>(first.shape.size());
  QDET_ASSIGN_OR_RETURN(int axis, normalize_axis(ctx.op.attrs.axis, rank));
  const bool quantized = is_quantized(out);
  for (size_t i = 0; i < ctx.inputs.size(); ++i) {
    const TensorRef& t = *ctx.inputs[i];
    QDET_TRY(expect_same_dtype(first, t, fmt::format("input {}", i).c_str()));
    if ((quantized || is_quantized(t)) && !same_quantization(t, out))
      return unsupported("input {} and the output have different quantization (needs requantization)", i);
  }
  QDET_TRY(expect_same_dtype(first, out, "the output"));
  auto d = std::make_unique<ConcatData>();
  const auto act = ctx.op.attrs.activation;
  if (act != graph::Activation::kNone) {
    if (first.dtype != DType::kFloat32)
      return unsupported("fused activation {} on {}", graph::activation_name(act), dtype_name(first.dtype));
    d->clamp = true;
    QDET_ASSIGN_OR_RETURN(d->act, activation_range(act));
  }
  Shape out_shape = first.shape;
  out_shape[axis] = 0;
  for (size_t i = 0; i < ctx.inputs.size(); ++i) {
    const Shape& s = ctx.inputs[i]->shape;
    if (static_cast<int>(s.size()) != rank)
      return invalid_argument("input {} has shape {}, input 0 {}", i, shape_to_string(s),
                              shape_to_string(first.shape));
    for (int k = 0; k < rank; ++k)
      if (k != axis && s[k] != first.shape[k])
        return invalid_argument("input {} has shape {}, input 0 {}: only dim {} may differ", i,
                                shape_to_string(s), shape_to_string(first.shape), axis);
    out_shape[axis] += s[axis];
  }
  int64_t inner = 1;
  for (int k = axis + 1; k < rank; ++k) inner *= first.shape[k];
  for (int k = 0; k < axis; ++k) d->outer *= first.shape[k];
  for (const TensorRef* t : ctx.inputs)
    d->slab_bytes.push_back(static_cast<size_t>(t->shape[axis] * inner) * dtype_size(t->dtype));
  out.shape = out_shape;
  return keep_op_data(ctx, std::move(d));
}

Status eval(EvalContext& ctx) {
  const auto& d = *op_data_as<ConcatData>(ctx);
  uint8_t* out = ctx.outputs[0]->data;
  for (int64_t o = 0; o < d.outer; ++o)
    for (size_t i = 0; i < ctx.inputs.size(); ++i) {
      std::memcpy(out, ctx.inputs[i]->data + o * d.slab_bytes[i], d.slab_bytes[i]);
      out += d.slab_bytes[i];
    }
  if (d.clamp) {
    float* f = ctx.outputs[0]->as<float>();
    const int64_t n = ctx.outputs[0]->num_elements();
    for (int64_t i = 0; i < n; ++i) f[i] = clamp_activation(f[i], d.act);
  }
  return ok_status();
}

}  // namespace

const Kernel kConcatenation = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
