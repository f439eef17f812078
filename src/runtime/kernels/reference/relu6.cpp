// RELU6, float32: min(max(x, 0), 6).
#include <cmath>

#include "runtime/kernels/reference/unary.h"

namespace qdet::rt::ref {
namespace {

float relu6_of(float x) { return std::min(std::max(x, 0.0f), 6.0f); }

}  // namespace

const Kernel kRelu6Float = {"reference", prepare_unary_float, unary_float_eval<relu6_of>};

}  // namespace qdet::rt::ref
