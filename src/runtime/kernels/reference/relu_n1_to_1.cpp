// RELU_N1_TO_1, float32: min(max(x, -1), 1).
#include <cmath>

#include "runtime/kernels/reference/unary.h"

namespace qdet::rt::ref {
namespace {

float relu_n1_to_1_of(float x) { return std::min(std::max(x, -1.0f), 1.0f); }

}  // namespace

const Kernel kReluN1To1Float = {"reference", prepare_unary_float, unary_float_eval<relu_n1_to_1_of>};

}  // namespace qdet::rt::ref
