// RELU, float32: max(x, 0).
#include <cmath>

#include "runtime/kernels/reference/unary.h"

namespace qdet::rt::ref {
namespace {

float relu_of(float x) { return std::max(x, 0.0f); }

}  // namespace

const Kernel kReluFloat = {"reference", prepare_unary_float, unary_float_eval<relu_of>};

}  // namespace qdet::rt::ref
