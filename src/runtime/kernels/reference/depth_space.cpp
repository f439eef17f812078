// DEPTH_TO_SPACE and SPACE_TO_DEPTH (TFLite reference_ops, NHWC) for every dtype: strided copies.
//   DEPTH_TO_SPACE: out[b, h*bs + dy, w*bs + dx, c] = in[b, h, w, (dy*bs + dx) * C_out + c];
//   SPACE_TO_DEPTH: out[b, h, w, (dy*bs + dx) * C_in + c] = in[b, h*bs + dy, w*bs + dx, c].
// block_size >= 1 from the options; the channels (DEPTH_TO_SPACE) or the height and width
// (SPACE_TO_DEPTH) must divide by it. Quantized tensors keep their parameters (TFLite checks
// that input and output share them).
#include <array>

#include "runtime/kernels/reference/common.h"
#include "runtime/kernels/reference/strided_copy.h"

namespace qdet::rt::ref {
namespace {

Status check_common(PrepareContext& ctx, const char* op) {
  QDET_ASSIGN_OR_RETURN(const TensorRef& in, same_dtype_input(ctx, 1, 1));
  if (in.shape.size() != 4) return invalid_argument("input {} must be 4-D", shape_to_string(in.shape));
  if (ctx.op.attrs.block_size < 1) return invalid_argument("block_size {} must be >= 1", ctx.op.attrs.block_size);
  if (is_quantized(in) && !same_quantization(in, *ctx.outputs[0]))
    return invalid_argument("{} needs the same scale and zero point in and out", op);
  return ok_status();
}

// Six dims in output order with the input's element strides.
StridedCopy six_dim_copy(size_t bytes, const std::array<int64_t, 6>& count, const std::array<int64_t, 6>& stride) {
  StridedCopy c;
  c.rank = 6;
  c.element_bytes = bytes;
  for (int i = 0; i < 6; ++i) {
    c.count[i] = count[i];
    c.stride[i] = stride[i] * static_cast<int64_t>(bytes);
  }
  return c;
}

Status depth_to_space_prepare(PrepareContext& ctx) {
  QDET_TRY(check_common(ctx, "DEPTH_TO_SPACE"));
  const TensorRef& in = *ctx.inputs[0];
  const int64_t bs = ctx.op.attrs.block_size;
  const int64_t b = in.shape[0], h = in.shape[1], w = in.shape[2], c = in.shape[3];
  if (c % (bs * bs) != 0)
    return invalid_argument("{} channels do not divide by block_size^2 = {}", c, bs * bs);
  const int64_t oc = c / (bs * bs);
  return set_strided_copy(ctx,
                          six_dim_copy(dtype_size(in.dtype), {b, h, bs, w, bs, oc}, {h * w * c, w * c, bs * oc, c, oc, 1}),
                          {in.shape[0], static_cast<int32_t>(h * bs), static_cast<int32_t>(w * bs),
                           static_cast<int32_t>(oc)});
}

Status space_to_depth_prepare(PrepareContext& ctx) {
  QDET_TRY(check_common(ctx, "SPACE_TO_DEPTH"));
  const TensorRef& in = *ctx.inputs[0];
  const int64_t bs = ctx.op.attrs.block_size;
  const int64_t b = in.shape[0], h = in.shape[1], w = in.shape[2], c = in.shape[3];
  if (h % bs != 0 || w % bs != 0)
    return invalid_argument("height {} and width {} must divide by block_size {}", h, w, bs);
  return set_strided_copy(
      ctx, six_dim_copy(dtype_size(in.dtype), {b, h / bs, w / bs, bs, bs, c}, {h * w * c, bs * w * c, bs * c, w * c, c, 1}),
      {in.shape[0], static_cast<int32_t>(h / bs), static_cast<int32_t>(w / bs), static_cast<int32_t>(c * bs * bs)});
}

}  // namespace

const Kernel kDepthToSpace = {"reference", depth_to_space_prepare, strided_copy_eval};
const Kernel kSpaceToDepth = {"reference", space_to_depth_prepare, strided_copy_eval};

}  // namespace qdet::rt::ref
