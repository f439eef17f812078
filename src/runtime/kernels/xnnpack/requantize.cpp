// QUANTIZE between two int8 (or two uint8) tensors with XNNPACK's qs8/qu8 convert arithmetic
// (XNNPACK's "vcvt" microkernels, which TFLite's XNNPACK delegate runs for this op): the scale
// ratio is rounded once to an 8-bit fixed-point multiplier,
//   m = lrintf(256 * s_in / s_out),  q_out = clamp(z_out + floor(((q_in - z_in) * m + 128) / 256)),
// i.e. round half up of (q_in - z_in) * m / 256. TFLite's reference uses a 31-bit multiplier
// with double rounding (reference/quantized/requantize_quantized.cpp); the two differ by at
// most one step, and this one reproduces the official TFLite (WebAssembly, XNNPACK delegate)
// bit for bit. The XNNPACK 2022-02 that qdet links has no such operator, so the arithmetic is
// done here; like XNNPACK it takes ratios in [2^-8, 2^7] only (TFLite's delegate leaves the
// others to TFLite's own kernel: here the reference). The output depends only on the input
// byte, so prepare tabulates the 256 results and eval looks them up (threads split blocks).
//
// QUANTIZE from float32 to int8 / uint8 runs as xnn_convert_nc_f32_qs8 / _qu8 (x * (1/scale),
// rounded half to even, as TFLite's delegate runs it; TFLite's reference divides and rounds
// half away from zero: within one step).
#include <pthreadpool.h>

#include <algorithm>
#include <cmath>

#include "runtime/kernels/xnnpack/kernels.h"
#include "runtime/kernels/xnnpack/xnn_common.h"

namespace qdet::rt::xnn {
namespace {

constexpr size_t kBlock = 64 * 1024;

struct RequantizeData : OpData {
  uint8_t table[256];  // output byte for each input byte
  size_t elements = 0;
};

Status requantize_prepare(PrepareContext& ctx) {
  QDET_TRY(require_arity(ctx, 1));
  const TensorRef& in = *ctx.inputs[0];
  const TensorRef& out = *ctx.outputs[0];
  QDET_TRY(require_8bit_per_tensor(ctx, in, out));
  // In float, as XNNPACK computes it.
  const float ratio = in.scale() / out.scale();
  if (!(ratio >= 0x1.0p-8f && ratio <= 0x1.0p+7f))
    return unsupported("{}: scale ratio {} outside XNNPACK's [2^-8, 2^7]", op_label(ctx), ratio);
  auto data = std::make_unique<RequantizeData>();
  const bool is_signed = in.dtype == DType::kInt8;
  const int32_t multiplier = static_cast<int32_t>(std::lrintf(256.0f * ratio));  // 8 frac bits
  // (q - z_in) * m + 128 stays far inside int32: |q - z_in| <= 255, m <= 2^15.
  const int32_t bias = (out.zero_point() << 8) + 128;
  const int32_t qmin = is_signed ? -128 : 0, qmax = is_signed ? 127 : 255;
  for (int b = 0; b < 256; ++b) {
    const int32_t q = is_signed ? int32_t{static_cast<int8_t>(b)} : b;
    const int32_t acc = (q - in.zero_point()) * multiplier + bias;
    // arithmetic shift: floor, i.e. round half up
    data->table[b] = static_cast<uint8_t>(std::clamp(acc >> 8, qmin, qmax));
  }
  data->elements = static_cast<size_t>(in.num_elements());
  return finish_prepare(ctx, std::move(data), in.shape);
}

struct Task {
  const RequantizeData* data;
  const uint8_t* in;
  uint8_t* out;
};

void run_block(void* context, size_t block) {
  const Task& t = *static_cast<const Task*>(context);
  const size_t begin = block * kBlock;
  const size_t n = std::min(kBlock, t.data->elements - begin);
  const uint8_t* table = t.data->table;
  for (size_t i = begin; i < begin + n; ++i) t.out[i] = table[t.in[i]];
}

Status requantize_eval(EvalContext& ctx) {
  const auto& d = *op_data_as<RequantizeData>(ctx);
  Task task{&d, ctx.inputs[0]->data, ctx.outputs[0]->data};
  const size_t blocks = (d.elements + kBlock - 1) / kBlock;
  if (ctx.threadpool == nullptr || blocks < 2) {
    for (size_t b = 0; b < blocks; ++b) run_block(&task, b);
  } else {
    pthreadpool_parallelize_1d(ctx.threadpool, run_block, &task, blocks, /*flags=*/0);
  }
  return ok_status();
}

struct QuantizeFromFloatData : XnnOpData {
  bool is_signed = true;
  size_t elements = 0;
};

Status quantize_from_float_prepare(PrepareContext& ctx) {
  QDET_TRY(ensure_initialized());
  QDET_TRY(require_arity(ctx, 1));
  QDET_TRY(require_float32(ctx, ctx.inputs, "input"));
  const TensorRef& in = *ctx.inputs[0];
  const TensorRef& out = *ctx.outputs[0];
  if (out.dtype != DType::kInt8 && out.dtype != DType::kUInt8)
    return unsupported("{}: output is {}, not int8 or uint8", op_label(ctx),
                       dtype_name(out.dtype));
  QDET_TRY(require_per_tensor(ctx, out, out.dtype, "output"));
  auto data = std::make_unique<QuantizeFromFloatData>();
  data->is_signed = out.dtype == DType::kInt8;
  const xnn_status status =
      data->is_signed
          ? xnn_create_convert_nc_f32_qs8(1, 1, 1, out.scale(),
                                          static_cast<int8_t>(out.zero_point()), INT8_MIN,
                                          INT8_MAX, /*flags=*/0, &data->op)
          : xnn_create_convert_nc_f32_qu8(1, 1, 1, out.scale(),
                                          static_cast<uint8_t>(out.zero_point()), 0, UINT8_MAX,
                                          /*flags=*/0, &data->op);
  data->elements = static_cast<size_t>(in.num_elements());
  return finish_prepare(ctx, std::move(data), in.shape, status, "xnn_create_convert_nc_f32_q{s,u}8");
}

Status quantize_from_float_eval(EvalContext& ctx) {
  auto* data = op_data_as<QuantizeFromFloatData>(ctx);
  const float* in = ctx.inputs[0]->as<const float>();
  uint8_t* out = ctx.outputs[0]->data;
  xnn_status status =
      data->is_signed
          ? xnn_setup_convert_nc_f32_qs8(data->op, data->elements, in,
                                         reinterpret_cast<int8_t*>(out), ctx.threadpool)
          : xnn_setup_convert_nc_f32_qu8(data->op, data->elements, in, out, ctx.threadpool);
  return run_after_setup(ctx, data->op, status, "xnn_setup_convert_nc_f32_q{s,u}8");
}

}  // namespace

const Kernel kQuantizeFromFloat = {"xnnpack", quantize_from_float_prepare,
                                   quantize_from_float_eval};
const Kernel kRequantize = {"xnnpack-compat", requantize_prepare, requantize_eval};

}  // namespace qdet::rt::xnn
