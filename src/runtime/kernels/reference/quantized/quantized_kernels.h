// Quantized reference kernels (int8, uint8 and 16x8), bit-exact with TensorFlow Lite's integer
// arithmetic (reference kernels of TFLite ~2.12; see runtime/quantization_util.h).
//
// Each kernel's prepare returns kUnsupported for dtypes it does not handle (float tensors go to
// the float reference kernels registered beside these), checks shapes and quantization
// parameters, and computes every multiplier; eval is integer arithmetic only.
//
//   CONV_2D, DEPTHWISE_CONV_2D  uint8 (per-tensor uint8 weights with a zero point, int32 bias);
//                               int8 (int8 weights per-tensor or per-channel, zero point 0,
//                               int32 bias); int16x8 (int16 activations with zero point 0,
//                               int8 weights, int64 or int32 bias)
//   FULLY_CONNECTED             the same three families (per-channel int8 weights allowed)
//   ADD, SUB, MUL               int8, uint8, int16 with broadcasting (rank <= 6)
//   DIV                         uint8 with broadcasting (TFLite has no int8 / int16 DIV)
//   RSQRT                       int8 (TFLite's fixed-point inverse square root, tabulated)
//   LOGISTIC, TANH              int8, uint8 through a 256-entry table (TFLite's LUT path);
//                               LOGISTIC int16 (reference_integer_ops::Logistic, 16x8)
//   CONCATENATION               int8, uint8, int16; inputs whose scale or zero point differ
//                               from the output's are requantized (TFLite's uint8 formula)
//   QUANTIZE                    requantization between int8, uint8 and int16
//   SOFTMAX                     int8, uint8 (TFLite's float-table path); int16 (SoftmaxInt16)
//   RELU, RELU6, RELU_N1_TO_1,  int8, uint8, int16: requantize and clamp (LEAKY_RELU: one
//   LEAKY_RELU                  multiplier per sign)
//   TANH                        int16 (reference_integer_ops::Tanh, 16x8)
//   ELU                         int8 through the 256-entry table of LOGISTIC / TANH
//   HARD_SWISH                  int8, uint8 (TFLite's 16-bit fixed point, tabulated)
//   MEAN, SUM                   int8, uint8, int16 (SUM: int8/uint8 with rescaling; the same
//                               parameters in and out: the raw sum, wrapping)
//   SQUARED_DIFFERENCE          int8 with broadcasting
#pragma once

#include "runtime/kernel.h"
#include "runtime/kernel_registry.h"

namespace qdet::rt {

// Adds every kernel below to `registry` as KernelImpl::kReference.
void register_reference_quantized_kernels(KernelRegistry& registry);

namespace quantized {

Status conv2d_prepare(PrepareContext& ctx);
Status conv2d_eval(EvalContext& ctx);
Status depthwise_conv2d_prepare(PrepareContext& ctx);
Status depthwise_conv2d_eval(EvalContext& ctx);
Status fully_connected_prepare(PrepareContext& ctx);
Status fully_connected_eval(EvalContext& ctx);
Status add_prepare(PrepareContext& ctx);
Status sub_prepare(PrepareContext& ctx);
Status add_sub_eval(EvalContext& ctx);
Status mul_prepare(PrepareContext& ctx);
Status mul_eval(EvalContext& ctx);
Status div_prepare(PrepareContext& ctx);
Status div_eval(EvalContext& ctx);
Status rsqrt_prepare(PrepareContext& ctx);
Status rsqrt_eval(EvalContext& ctx);
Status logistic_prepare(PrepareContext& ctx);
Status tanh_prepare(PrepareContext& ctx);
Status elu_prepare(PrepareContext& ctx);
Status lookup_table_eval(EvalContext& ctx);
Status logistic_int16_prepare(PrepareContext& ctx);
Status logistic_int16_eval(EvalContext& ctx);
Status concatenation_prepare(PrepareContext& ctx);
Status concatenation_eval(EvalContext& ctx);
Status requantize_prepare(PrepareContext& ctx);
Status requantize_eval(EvalContext& ctx);
Status softmax_prepare(PrepareContext& ctx);
Status softmax_eval(EvalContext& ctx);
Status softmax_int16_prepare(PrepareContext& ctx);
Status softmax_int16_eval(EvalContext& ctx);
Status relu_prepare(PrepareContext& ctx);
Status relu6_prepare(PrepareContext& ctx);
Status relu_n1_to_1_prepare(PrepareContext& ctx);
Status leaky_relu_prepare(PrepareContext& ctx);
Status activation_eval(EvalContext& ctx);
Status tanh_int16_prepare(PrepareContext& ctx);
Status tanh_int16_eval(EvalContext& ctx);
Status hard_swish_prepare(PrepareContext& ctx);
Status mean_prepare(PrepareContext& ctx);
Status sum_prepare(PrepareContext& ctx);
Status reduce_eval(EvalContext& ctx);
Status squared_difference_prepare(PrepareContext& ctx);
Status squared_difference_eval(EvalContext& ctx);

}  // namespace quantized
}  // namespace qdet::rt
