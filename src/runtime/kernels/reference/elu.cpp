// ELU, float32 (TFLite activations.cc): x < 0 ? expm1(x) : x. int8: quantized/elu_quantized.cpp.
#include <cmath>

#include "runtime/kernels/reference/unary.h"

namespace qdet::rt::ref {
namespace {

float elu_of(float x) { return x < 0.0f ? std::expm1(x) : x; }

}  // namespace

const Kernel kEluFloat = {"reference", prepare_unary_float, unary_float_eval<elu_of>};

}  // namespace qdet::rt::ref
