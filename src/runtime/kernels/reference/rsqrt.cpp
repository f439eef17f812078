// RSQRT, float32 (TFLite elementwise.cc): 1 / std::sqrt(x). int8: quantized/rsqrt_quantized.cpp.
#include <cmath>

#include "runtime/kernels/reference/unary.h"

namespace qdet::rt::ref {
namespace {

float rsqrt_of(float x) { return 1.0f / std::sqrt(x); }

}  // namespace

const Kernel kRsqrtFloat = {"reference", prepare_unary_float, unary_float_eval<rsqrt_of>};

}  // namespace qdet::rt::ref
