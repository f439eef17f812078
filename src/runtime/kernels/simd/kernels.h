// qdet's own SIMD kernels (KernelImpl::kSimd): bit-exact with the reference kernels, for the ops
// XNNPACK does not cover. Registered by register_simd_kernels (kernel_registry.h).
#pragma once

#include "runtime/kernel.h"

namespace qdet::rt::simd {

// int16x8 CONV_2D (groups 1) and DEPTHWISE_CONV_2D (depth multiplier 1) with constant int8
// weights: int32 sums where 32768 * sum|w| of every channel stays below 2^31 (int16x8_conv.cpp).
extern const Kernel kInt16x8Conv2d;
extern const Kernel kInt16x8DepthwiseConv2d;
// Tests: false makes kernels prepared afterwards take the portable path even on VNNI CPUs.
void allow_vnni_for_testing(bool allow);

}  // namespace qdet::rt::simd
