// PADV2 for every dtype: pads with the constant_values input (a scalar of the input's dtype,
// already in the quantized domain for quantized tensors); absent: as PAD
// (prepare_pad's default).
#include <cstring>

#include "runtime/kernels/reference/pad.h"

namespace qdet::rt::ref {
namespace {

Status prepare(PrepareContext& ctx) {
  QDET_TRY(check_arity(ctx, 2, 3, 1));
  QDET_ASSIGN_OR_RETURN(auto d, prepare_pad(ctx));
  const TensorRef* value = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
  if (value) {
    QDET_TRY(expect_same_dtype(*ctx.inputs[0], *value, "the constant_values input"));
    if (value->num_elements() != 1)
      return invalid_argument("constant_values must hold one value, got {}", value->num_elements());
    if (!value->is_constant) return unsupported("constant_values must be a constant tensor");
    std::memcpy(d->value, value->data, d->element_bytes);
    d->zero_value = std::all_of(d->value, d->value + d->element_bytes, [](uint8_t b) { return b == 0; });
  }
  return keep_op_data(ctx, std::move(d));
}

}  // namespace

const Kernel kPadV2 = {"reference", prepare, eval_pad};

}  // namespace qdet::rt::ref
