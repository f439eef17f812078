// QUANTIZE between two int8 (or two uint8) tensors with XNNPACK's qs8/qu8 convert arithmetic
// (XNNPACK's "vcvt" microkernels, which TFLite's XNNPACK delegate runs for this op): the scale
// ratio is rounded once to an 8-bit fixed-point multiplier,
//   m = lrintf(256 * s_in / s_out),  q_out = clamp(z_out + floor(((q_in - z_in) * m + 128) / 256)),
// i.e. round half up of (q_in - z_in) * m / 256. TFLite's reference uses a 31-bit multiplier
// with double rounding (reference/quantized/requantize_quantized.cpp); the two differ by at
// most one step, and this one reproduces the official TFLite (WebAssembly, XNNPACK delegate)
// bit for bit. The XNNPACK 2022-02 that qdet links has no such operator, so the arithmetic is
// done here; like XNNPACK it takes ratios in [2^-8, 2^7] only (TFLite's delegate leaves the
// others to TFLite's own kernel: here the reference). Threads split the tensor into blocks.
#include <pthreadpool.h>

#include <algorithm>
#include <cmath>

#include "runtime/kernels/xnnpack/kernels.h"
#include "runtime/kernels/xnnpack/xnn_common.h"

namespace qdet::rt::xnn {
namespace {

constexpr size_t kBlock = 64 * 1024;

struct RequantizeData : OpData {
  bool is_signed = true;
  int32_t multiplier = 0;  // 8 fractional bits
  int32_t input_zero_point = 0, output_zero_point = 0;
  int32_t qmin = 0, qmax = 0;
  size_t elements = 0;
};

Status requantize_prepare(PrepareContext& ctx) {
  if (ctx.inputs.size() != 1 || ctx.outputs.size() != 1 || ctx.inputs[0] == nullptr)
    return unsupported("{}: expects one input and one output", op_label(ctx));
  const TensorRef& in = *ctx.inputs[0];
  const TensorRef& out = *ctx.outputs[0];
  if (in.dtype != DType::kInt8 && in.dtype != DType::kUInt8)
    return unsupported("{}: input is {}, not int8 or uint8", op_label(ctx), dtype_name(in.dtype));
  QDET_TRY(require_per_tensor(ctx, in, in.dtype, "input"));
  QDET_TRY(require_per_tensor(ctx, out, in.dtype, "output"));
  // In float, as XNNPACK computes it.
  const float ratio = in.scale() / out.scale();
  if (!(ratio >= 0x1.0p-8f && ratio <= 0x1.0p+7f))
    return unsupported("{}: scale ratio {} outside XNNPACK's [2^-8, 2^7]", op_label(ctx), ratio);
  auto data = std::make_unique<RequantizeData>();
  data->is_signed = in.dtype == DType::kInt8;
  data->multiplier = static_cast<int32_t>(std::lrintf(256.0f * ratio));
  data->input_zero_point = in.zero_point();
  data->output_zero_point = out.zero_point();
  data->qmin = data->is_signed ? -128 : 0;
  data->qmax = data->is_signed ? 127 : 255;
  data->elements = static_cast<size_t>(in.num_elements());
  ctx.outputs[0]->shape = in.shape;
  ctx.op_data = std::move(data);
  return ok_status();
}

template <typename T>
void requantize_block(const RequantizeData& d, const T* in, T* out, size_t n) {
  // (q - z_in) * m + 128 stays far inside int32: |q - z_in| <= 255, m <= 2^15.
  const int32_t bias = (d.output_zero_point << 8) + 128;
  for (size_t i = 0; i < n; ++i) {
    const int32_t acc = (static_cast<int32_t>(in[i]) - d.input_zero_point) * d.multiplier + bias;
    out[i] = static_cast<T>(std::clamp(acc >> 8, d.qmin, d.qmax));  // arithmetic shift: floor
  }
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
  if (t.data->is_signed)
    requantize_block(*t.data, reinterpret_cast<const int8_t*>(t.in) + begin,
                     reinterpret_cast<int8_t*>(t.out) + begin, n);
  else
    requantize_block(*t.data, t.in + begin, t.out + begin, n);
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

}  // namespace

const Kernel kRequantize = {"xnnpack-compat", requantize_prepare, requantize_eval};

}  // namespace qdet::rt::xnn
