// Shared body of the elementwise binary ops (ADD, SUB, MUL, DIV): NumPy broadcasting, float32
// with fused activation, int32 without. Quantized inputs are left to the quantized kernels.
#pragma once

#include "runtime/kernels/reference/common.h"

namespace qdet::rt::ref {

struct BinaryData : OpData {
  BroadcastIndexer indexer;
  bool same_shape = false;
  ActivationRange act;
};

Status prepare_binary(PrepareContext& ctx, bool allow_int32);

template <typename T, typename Op>
Status eval_binary(EvalContext& ctx, Op op) {
  const auto& d = *op_data_as<BinaryData>(ctx);
  const T* a = ctx.inputs[0]->as<const T>();
  const T* b = ctx.inputs[1]->as<const T>();
  T* out = ctx.outputs[0]->as<T>();
  if constexpr (std::is_same_v<T, float>) {
    if (d.same_shape) {
      const int64_t n = d.indexer.num_elements();
      for (int64_t i = 0; i < n; ++i) out[i] = clamp_activation(op(a[i], b[i]), d.act);
      return ok_status();
    }
    d.indexer.for_each([&](int64_t i, const int64_t* off) {
      out[i] = clamp_activation(op(a[off[0]], b[off[1]]), d.act);
    });
  } else {
    d.indexer.for_each([&](int64_t i, const int64_t* off) { out[i] = op(a[off[0]], b[off[1]]); });
  }
  return ok_status();
}

}  // namespace qdet::rt::ref
