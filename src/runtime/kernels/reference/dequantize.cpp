// DEQUANTIZE to float32: float16 -> float32 (exact), int8/uint8/int16 -> scale * (q - zero
// point), per tensor or per axis (quantized_dimension), as TFLite's reference Dequantize.
#include "base/simd_clones.h"
#include "runtime/kernels/reference/common.h"
#include "tensor/fp16.h"

namespace qdet::rt::ref {
namespace {

struct DequantizeData : OpData, ChannelQuantization {};

Status prepare(PrepareContext& ctx) {
  QDET_TRY(check_arity(ctx, 1, 1, 1));
  const TensorRef& in = *ctx.inputs[0];
  TensorRef& out = *ctx.outputs[0];
  if (out.dtype != DType::kFloat32)
    return unsupported("dequantize to {}", dtype_name(out.dtype));
  auto d = std::make_unique<DequantizeData>();
  if (in.dtype == DType::kInt8 || in.dtype == DType::kUInt8 || in.dtype == DType::kInt16) {
    const QuantParams& q = *in.quant;
    if (q.empty()) return invalid_argument("{} input has no quantization parameters", dtype_name(in.dtype));
    if (q.zero_point.size() != q.scale.size())
      return invalid_argument("{} scales but {} zero points", q.scale.size(), q.zero_point.size());
    QDET_ASSIGN_OR_RETURN(static_cast<ChannelQuantization&>(*d), channel_quantization(in.shape, q));
  } else if (in.dtype != DType::kFloat16) {
    return no_kernel_for_dtype(in.dtype);
  }
  out.shape = in.shape;
  return keep_op_data(ctx, std::move(d));
}

// One run of values sharing a scale and zero point. The pointers do not alias (an int8 pointer
// may alias anything as far as the compiler knows): the loop vectorizes, with the same products.
template <typename T>
QDET_SIMD_CLONES void dequantize_run(const T* __restrict in, float* __restrict out, int64_t n, float scale,
                                     int32_t zp) {
  for (int64_t i = 0; i < n; ++i) out[i] = scale * static_cast<float>(static_cast<int32_t>(in[i]) - zp);
}

template <typename T>
void dequantize(const DequantizeData& d, const T* in, float* out) {
  for (int64_t o = 0; o < d.outer; ++o)
    for (int64_t c = 0; c < d.channels; ++c, in += d.inner, out += d.inner)
      dequantize_run(in, out, d.inner, d.scale[c], d.zero_point[c]);
}

Status eval(EvalContext& ctx) {
  const auto& d = *op_data_as<DequantizeData>(ctx);
  const TensorRef& in = *ctx.inputs[0];
  float* out = ctx.outputs[0]->as<float>();
  switch (in.dtype) {
    case DType::kFloat16: {
      const auto* h = in.as<const uint16_t>();
      const int64_t n = in.num_elements();
      for (int64_t i = 0; i < n; ++i) out[i] = fp16_to_fp32(h[i]);
      break;
    }
    case DType::kInt8: dequantize(d, in.as<const int8_t>(), out); break;
    case DType::kUInt8: dequantize(d, in.as<const uint8_t>(), out); break;
    case DType::kInt16: dequantize(d, in.as<const int16_t>(), out); break;
    default: return internal_error("DEQUANTIZE: dtype changed after prepare");
  }
  return ok_status();
}

}  // namespace

const Kernel kDequantize = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
