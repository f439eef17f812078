// EXP, float32: exp(x).
#include <cmath>

#include "runtime/kernels/reference/unary.h"

namespace qdet::rt::ref {
namespace {

float exp_of(float x) { return std::exp(x); }

}  // namespace

const Kernel kExpFloat = {"reference", prepare_unary_float, unary_float_eval<exp_of>};

}  // namespace qdet::rt::ref
