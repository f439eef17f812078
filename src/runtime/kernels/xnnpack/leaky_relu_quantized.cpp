// LEAKY_RELU on int8 with XNNPACK's qs8 "vlrelu" arithmetic, which TFLite's XNNPACK delegate
// runs for this op: the two scale ratios (s_in / s_out, and that times alpha, in float) are
// rounded once to 8-bit fixed-point multipliers m = lrintf(256 * ratio), and
//   q_out = clamp(floor(((q_in - z_in) * m + z_out * 256 + 128) / 256)),
// with the negative multiplier for q_in < z_in (round half up of the scaled value). TFLite's
// reference kernel uses two 31-bit multipliers with double rounding
// (reference/quantized/relu_quantized.cpp); the two differ by at most one step, and this one
// reproduces the official TFLite (WebAssembly, XNNPACK delegate) bit for bit. The XNNPACK
// 2022-02 qdet links has no quantized LEAKY_RELU, so the arithmetic is done here ("xnnpack-compat");
// like XNNPACK it accepts only ratios with |ratio| in [2^-8, 2^7] (the delegate leaves other
// ops to TFLite's own kernel: here the reference). The output depends only on the input byte:
// prepare tabulates the 256 results and eval looks them up.
#include <algorithm>
#include <cmath>

#include "runtime/kernels/xnnpack/kernels.h"
#include "runtime/kernels/xnnpack/xnn_common.h"

namespace qdet::rt::xnn {
namespace {

struct LeakyReluData : OpData {
  uint8_t table[256];  // output byte for each input byte
};

bool in_range(float ratio) {
  return std::fabs(ratio) >= 0x1.0p-8f && ratio <= 0x1.0p+7f && ratio >= -0x1.FFFC00p+6f;
}

Status leaky_relu_prepare(PrepareContext& ctx) {
  QDET_TRY(require_arity(ctx, 1));
  const TensorRef& in = *ctx.inputs[0];
  const TensorRef& out = *ctx.outputs[0];
  if (in.dtype != DType::kInt8)
    return unsupported("{}: input is {}, not int8", op_label(ctx), dtype_name(in.dtype));
  QDET_TRY(require_per_tensor(ctx, in, in.dtype, "input"));
  QDET_TRY(require_per_tensor(ctx, out, in.dtype, "output"));
  const float positive = in.scale() / out.scale();
  const float negative = positive * ctx.op.attrs.alpha;
  if (!in_range(positive) || !in_range(negative))
    return unsupported("{}: scale ratios {} and {} outside XNNPACK's range", op_label(ctx),
                       positive, negative);
  const auto m_pos = static_cast<int32_t>(std::lrintf(256.0f * positive));
  const auto m_neg = static_cast<int32_t>(std::lrintf(256.0f * negative));
  const int32_t bias = (out.zero_point() << 8) + 128;
  auto data = std::make_unique<LeakyReluData>();
  for (int b = 0; b < 256; ++b) {
    const int32_t x = int32_t{static_cast<int8_t>(b)} - in.zero_point();
    const int32_t acc = x * (x >= 0 ? m_pos : m_neg) + bias;  // |acc| < 2^24
    data->table[b] = static_cast<uint8_t>(static_cast<int8_t>(std::clamp(acc >> 8, -128, 127)));
  }
  return finish_prepare(ctx, std::move(data), in.shape);
}

Status leaky_relu_eval(EvalContext& ctx) {
  const auto& d = *op_data_as<LeakyReluData>(ctx);
  const uint8_t* in = ctx.inputs[0]->data;
  uint8_t* out = ctx.outputs[0]->data;
  const int64_t n = ctx.inputs[0]->num_elements();
  for (int64_t i = 0; i < n; ++i) out[i] = d.table[in[i]];
  return ok_status();
}

}  // namespace

const Kernel kLeakyReluQuantized = {"xnnpack-compat", leaky_relu_prepare, leaky_relu_eval};

}  // namespace qdet::rt::xnn
