// TANH, float32: tanh(x).
#include <cmath>

#include "runtime/kernels/reference/unary.h"

namespace qdet::rt::ref {
namespace {

float tanh_of(float x) { return std::tanh(x); }

}  // namespace

const Kernel kTanhFloat = {"reference", prepare_unary_float, unary_float_eval<tanh_of>};

}  // namespace qdet::rt::ref
