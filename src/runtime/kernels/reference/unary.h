// Shared body of the float32 elementwise unary ops (LOGISTIC, EXP, TANH, RELU...): same shape
// in and out; quantized inputs are left to the quantized kernels.
#pragma once

#include "runtime/kernels/reference/common.h"

namespace qdet::rt::ref {

Status prepare_unary_float(PrepareContext& ctx);

template <typename Fn>
Status eval_unary_float(EvalContext& ctx, Fn fn) {
  const float* in = ctx.inputs[0]->as<const float>();
  float* out = ctx.outputs[0]->as<float>();
  const int64_t n = ctx.outputs[0]->num_elements();
  for (int64_t i = 0; i < n; ++i) out[i] = fn(in[i]);
  return ok_status();
}

// The eval of a float32 elementwise op computing fn(x), as a kernel's eval function:
// `const Kernel kExpFloat = {"reference", prepare_unary_float, unary_float_eval<exp_of>};`
template <float (*fn)(float)>
Status unary_float_eval(EvalContext& ctx) {
  return eval_unary_float(ctx, fn);
}

}  // namespace qdet::rt::ref
