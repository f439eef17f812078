// SQRT, float32 (TFLite elementwise.cc): std::sqrt(x).
#include <cmath>

#include "runtime/kernels/reference/unary.h"

namespace qdet::rt::ref {
namespace {

float sqrt_of(float x) { return std::sqrt(x); }

}  // namespace

const Kernel kSqrtFloat = {"reference", prepare_unary_float, unary_float_eval<sqrt_of>};

}  // namespace qdet::rt::ref
