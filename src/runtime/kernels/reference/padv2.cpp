// PADV2 for every dtype: pads with the constant_values input (a scalar of the input's dtype,
// already in the quantized domain for quantized tensors); absent: as PAD.
#include <cstring>

#include "runtime/kernels/reference/pad.h"

namespace qdet::rt::ref {
namespace {

Status prepare(PrepareContext& ctx) {
  QDET_TRY(check_arity(ctx, 2, 3, 1));
  QDET_ASSIGN_OR_RETURN(auto d, prepare_pad(ctx));
  const TensorRef* value = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
  const TensorRef& out = *ctx.outputs[0];
  if (value) {
    QDET_TRY(expect_same_dtype(*ctx.inputs[0], *value, "the constant_values input"));
    if (value->num_elements() != 1)
      return invalid_argument("constant_values must hold one value, got {}", value->num_elements());
    if (!value->is_constant) return unsupported("constant_values must be a constant tensor");
    std::memcpy(d->value, value->data, d->element_bytes);
    d->zero_value = std::all_of(d->value, d->value + d->element_bytes, [](uint8_t b) { return b == 0; });
  } else if (is_quantized(out) && out.zero_point() != 0) {
    const int32_t zp = out.zero_point();
    d->zero_value = false;
    if (out.dtype == DType::kInt8) d->value[0] = static_cast<uint8_t>(static_cast<int8_t>(zp));
    if (out.dtype == DType::kUInt8) d->value[0] = static_cast<uint8_t>(zp);
    if (out.dtype == DType::kInt16) {
      const auto v = static_cast<int16_t>(zp);
      std::memcpy(d->value, &v, 2);
    }
  }
  ctx.op_data = std::move(d);
  return ok_status();
}

}  // namespace

const Kernel kPadV2 = {"reference", prepare, eval_pad};

}  // namespace qdet::rt::ref
