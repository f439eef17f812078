// LOGISTIC, float32: 1 / (1 + exp(-x)).
#include <cmath>

#include "runtime/kernels/reference/unary.h"

namespace qdet::rt::ref {
namespace {

float logistic_of(float x) { return 1.0f / (1.0f + std::exp(-x)); }

}  // namespace

const Kernel kLogisticFloat = {"reference", prepare_unary_float, unary_float_eval<logistic_of>};

}  // namespace qdet::rt::ref
