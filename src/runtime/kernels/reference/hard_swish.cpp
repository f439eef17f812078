// HARD_SWISH, float32: x * relu6(x + 3) / 6 (TFLite reference_ops::HardSwish).
#include <cmath>

#include "runtime/kernels/reference/unary.h"

namespace qdet::rt::ref {
namespace {

float hard_swish_of(float x) { return x * std::min(6.0f, std::max(0.0f, x + 3.0f)) / 6.0f; }

}  // namespace

const Kernel kHardSwishFloat = {"reference", prepare_unary_float, unary_float_eval<hard_swish_of>};

}  // namespace qdet::rt::ref
