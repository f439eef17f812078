// The XNNPACK adapter's shared pieces. Every xnn_* call in qdet lives in this folder
// (docs/ARCHITECTURE.md, "A new kernel family": library-specific code stays inside its folder); nothing outside it
// includes xnnpack.h.
//
// The kernels here target the 2022-02 XNNPACK operator API (Debian libxnnpack-dev
// 0.0~git20220216): prepare creates one xnn_operator (packing constant weights), eval runs
// xnn_setup_* (cheap: indirection buffers are rebuilt only when shapes change) and
// xnn_run_operator on the interpreter's pthreadpool.
//
// Contract with the interpreter: XNNPACK may read up to XNN_EXTRA_BYTES (16) past the end of
// an input tensor (never past an output). Activations live in the arena, which keeps
// kKernelReadTailBytes (kernel.h) after its last buffer; constants read at eval time are
// copied into padded buffers owned by the op.
#pragma once

#include <xnnpack.h>

#include <cstdint>
#include <memory>
#include <span>
#include <type_traits>
#include <vector>

#include "base/status.h"
#include "graph/op.h"
#include "runtime/kernel.h"
#include "runtime/kernel_util.h"

namespace qdet::rt::xnn {

// Initializes XNNPACK once per process (thread-safe); kUnsupported when the CPU lacks what
// XNNPACK needs, so callers fall back to the reference kernels.
Status ensure_initialized();

const char* status_name(xnn_status status);

// Status for a failed xnn_* call, naming the op and the call:
// "CONV_2D (op 12): xnn_create_convolution2d_nhwc_f32 failed: invalid_parameter".
// XNNPACK refusing a configuration is kUnsupported: the reference kernel then runs the op.
Status xnn_failure(const PrepareContext& ctx, const char* call, xnn_status status);
Status xnn_eval_failure(const EvalContext& ctx, const char* call, xnn_status status);

// The end of an XNNPACK eval: the status of its xnn_setup_* call checked (`setup_call` names it
// in the error), then the operator run on the interpreter's pthreadpool.
Status run_after_setup(const EvalContext& ctx, xnn_operator_t op, xnn_status setup, const char* setup_call);

// "CONV_2D (op 12): " prefix for messages.
std::string op_label(const PrepareContext& ctx);

// Checks that the op has `inputs` inputs, input 0 present, and one output; kUnsupported otherwise.
Status require_arity(const PrepareContext& ctx, size_t inputs);

// The end of a prepare: output 0 takes `out_shape` and the op keeps `data`.
Status finish_prepare(PrepareContext& ctx, std::unique_ptr<OpData> data, Shape out_shape);
// The same after the op's xnn_create_* call, whose status is checked first (`create_call` names
// it in the error).
Status finish_prepare(PrepareContext& ctx, std::unique_ptr<OpData> data, Shape out_shape,
                      xnn_status created, const char* create_call);

// The eval of an operator on int8 or uint8 data: its xnn_setup_*_qs8 call (is_signed) or the
// _qu8 twin, given the operator, `dims` (the same for both: batch, sizes), input 0 and output 0
// as the calls' element type; then run_after_setup. `setup_call` names the pair in errors.
// (The setup calls' types name Dims without deducing it: the trailing arguments decide.)
template <typename T, typename... Dims>
using SetupCall = std::type_identity_t<xnn_status (*)(xnn_operator_t, Dims..., const T*, T*, pthreadpool_t)>;
template <typename... Dims>
Status run_8bit(const EvalContext& ctx, xnn_operator_t op, bool is_signed, SetupCall<int8_t, Dims...> setup_s8,
                SetupCall<uint8_t, Dims...> setup_u8, const char* setup_call, Dims... dims) {
  const TensorRef& in = *ctx.inputs[0];
  TensorRef& out = *ctx.outputs[0];
  const xnn_status status =
      is_signed ? setup_s8(op, dims..., in.as<const int8_t>(), out.as<int8_t>(), ctx.threadpool)
                : setup_u8(op, dims..., in.as<const uint8_t>(), out.as<uint8_t>(), ctx.threadpool);
  return run_after_setup(ctx, op, status, setup_call);
}

// Owns one xnn_operator; the base of every XNNPACK kernel's OpData.
class XnnOpData : public OpData {
 public:
  ~XnnOpData() override;
  xnn_operator_t op = nullptr;
};

// A float copy of a constant tensor with XNN_EXTRA_BYTES of tail room, for constants that an
// operator reads at eval time (binary operands), not at creation time (packed weights).
std::vector<float> padded_copy(const TensorRef& t);

// The output range of a TFLite fused activation; kUnsupported for TANH / SIGN_BIT.
struct OutputRange {
  float min = 0.f;
  float max = 0.f;
};
Result<OutputRange> activation_range(const PrepareContext& ctx, graph::Activation activation);

// Checks that every present tensor is float32 with a non-empty shape and no zero dims
// (zero-sized tensors are left to the reference kernels).
Status require_float32(const PrepareContext& ctx, std::span<TensorRef* const> tensors,
                       const char* role);

// Checks that every present tensor has a non-empty shape with no zero dims (any dtype).
Status require_nonempty(const PrepareContext& ctx, std::span<TensorRef* const> tensors,
                        const char* role);

// ---- quantized (int8 "qs8"/"qc8", uint8 "qu8") --------------------------------------------

// A byte copy of a constant tensor with XNN_EXTRA_BYTES of tail room (quantized operands).
std::vector<uint8_t> padded_bytes(const TensorRef& t);

// XNNPACK's quantized convolutions and fully-connected ops requantize with
// input_scale * weight_scale / output_scale (float) and assert it lies in [2^-32, 256): outside
// that (e.g. a weight scale of 1e-12, which a valid file may hold) the kernel declines here, at
// prepare, and the reference kernel runs the op. No XNNPACK assertion is reachable from a file.
Status require_requantization_scale(const PrepareContext& ctx, float scale);

// Checks that `t` is int8 or uint8 (as `dtype`) with one positive finite scale and a zero
// point inside the dtype's range; kUnsupported otherwise, naming `role`.
Status require_per_tensor(const PrepareContext& ctx, const TensorRef& t, DType dtype,
                          const char* role);
// An int8 or uint8 input and an output of its dtype, both quantized per tensor (require_per_tensor).
Status require_8bit_per_tensor(const PrepareContext& ctx, const TensorRef& in, const TensorRef& out);

// The clamp of a fused activation in the output's quantized domain (TFLite's
// CalculateActivationRangeQuantized); kUnsupported for TANH / SIGN_BIT.
struct QuantizedRange {
  int32_t min;
  int32_t max;
};
Result<QuantizedRange> quantized_activation_range(const PrepareContext& ctx,
                                                  graph::Activation activation,
                                                  const TensorRef& output);


// ---- RESIZE_BILINEAR, RESIZE_NEAREST_NEIGHBOR ---------------------------------------------

// The sizes a resize's setup takes.
struct ResizeSizes {
  size_t batch = 0, in_h = 0, in_w = 0, out_h = 0, out_w = 0;
};
// Input 0 4-D and non-empty, input 1 the constant int32 [new_h, new_w] (each at least 1), one
// output; kUnsupported otherwise. Fills *sizes and gives the NHWC output shape.
Result<Shape> resize_sizes(const PrepareContext& ctx, ResizeSizes* sizes);
// RESIZE_BILINEAR's coordinate mode as XNNPACK flags: align_corners -> XNN_FLAG_ALIGN_CORNERS,
// half_pixel_centers -> none (XNNPACK's default), neither (TFLite's legacy mapping) ->
// XNN_FLAG_TENSORFLOW_LEGACY_MODE; kUnsupported for both.
Result<uint32_t> resize_bilinear_flags(const PrepareContext& ctx);

// TFLite's padding (runtime/kernel_util.h's compute_padding); an error when there is no output
// (VALID with a filter larger than the input), which the kernels turn into kUnsupported.
Result<Padding1d> tflite_padding(graph::Padding padding, int32_t input, int32_t filter,
                                 int32_t stride, int32_t dilation);

}  // namespace qdet::rt::xnn
