// The float32 elementwise unary ops, one function each; prepare and the loop are shared
// (unary.h). The int8/int16 kernels of the same ops live in quantized/.
#include <algorithm>
#include <cmath>

#include "runtime/kernels/reference/unary.h"

namespace qdet::rt::ref {
namespace {

// ELU (TFLite activations.cc): x < 0 ? expm1(x) : x. int8: quantized/elu_quantized.cpp.
float elu_of(float x) { return x < 0.0f ? std::expm1(x) : x; }
float exp_of(float x) { return std::exp(x); }
// HARD_SWISH: x * relu6(x + 3) / 6 (TFLite reference_ops::HardSwish).
float hard_swish_of(float x) { return x * std::min(6.0f, std::max(0.0f, x + 3.0f)) / 6.0f; }
float logistic_of(float x) { return 1.0f / (1.0f + std::exp(-x)); }
float relu_of(float x) { return std::max(x, 0.0f); }
float relu6_of(float x) { return std::min(std::max(x, 0.0f), 6.0f); }
float relu_n1_to_1_of(float x) { return std::min(std::max(x, -1.0f), 1.0f); }
// RSQRT (TFLite elementwise.cc): 1 / std::sqrt(x). int8: quantized/rsqrt_quantized.cpp.
float rsqrt_of(float x) { return 1.0f / std::sqrt(x); }
float sqrt_of(float x) { return std::sqrt(x); }
float tanh_of(float x) { return std::tanh(x); }

}  // namespace

const Kernel kEluFloat = {"reference", prepare_unary_float, unary_float_eval<elu_of>};
const Kernel kExpFloat = {"reference", prepare_unary_float, unary_float_eval<exp_of>};
const Kernel kHardSwishFloat = {"reference", prepare_unary_float, unary_float_eval<hard_swish_of>};
const Kernel kLogisticFloat = {"reference", prepare_unary_float, unary_float_eval<logistic_of>};
const Kernel kReluFloat = {"reference", prepare_unary_float, unary_float_eval<relu_of>};
const Kernel kRelu6Float = {"reference", prepare_unary_float, unary_float_eval<relu6_of>};
const Kernel kReluN1To1Float = {"reference", prepare_unary_float, unary_float_eval<relu_n1_to_1_of>};
const Kernel kRsqrtFloat = {"reference", prepare_unary_float, unary_float_eval<rsqrt_of>};
const Kernel kSqrtFloat = {"reference", prepare_unary_float, unary_float_eval<sqrt_of>};
const Kernel kTanhFloat = {"reference", prepare_unary_float, unary_float_eval<tanh_of>};

}  // namespace qdet::rt::ref
