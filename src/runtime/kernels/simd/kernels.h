// qdet's own SIMD kernels (KernelImpl::kSimd): bit-exact with the reference kernels, for the ops
// XNNPACK does not cover, or covers slowly (they are tried before XNNPACK). Registered by register_simd_kernels (kernel_registry.h).
#pragma once

#include "runtime/kernel.h"

namespace qdet::rt::simd {

// int16x8 CONV_2D (groups 1) and DEPTHWISE_CONV_2D (depth multiplier 1) with constant int8
// weights: int32 sums where 32768 * sum|w| of every channel stays below 2^31 (int16x8_conv.cpp).
extern const Kernel kInt16x8Conv2d;
extern const Kernel kInt16x8DepthwiseConv2d;
// int8 and uint8 DEPTHWISE_CONV_2D (depth multiplier 1, filters up to 64 taps) with AVX-512
// VNNI: XNNPACK's bytes (exact sums, its fp32 requantization), folds a zero PAD before it
// (depthwise_8bit.cpp), and takes a byte table for its output (Kernel::take_output_table).
extern const Kernel k8BitDepthwiseConv2d;
// int8 and uint8 CONV_2D with 1x1 filters at stride 1 on AMX tiles: XNNPACK's bytes (exact
// sums, its fp32 requantization), requantized in L1 (pointwise_amx.cpp); takes a byte table for
// its output (Kernel::take_output_table).
extern const Kernel k8BitPointwiseConv2d;
// float32 CONV_2D (groups 1) with XNNPACK's float operations in its order per output (its bytes),
// in register tiles of up to 16 pixels x 64 channels; folds a zero PAD (conv_float.cpp).
extern const Kernel kFloatConv2d;
// float32 DEPTHWISE_CONV_2D (depth multiplier 1) with XNNPACK's float operations in its order per
// output, 8 pixels at a time; in plans that keep XNNPACK's bytes (depthwise_float.cpp).
extern const Kernel kFloatDepthwiseConv2d;
// Whether `kernel` (prepared by `prepare`, without its own check) gives the bits of the XNNPACK
// kernel `xnnpack` for `op` on seeded random values (with a NaN and an infinity): the check the
// two float kernels above run once a process before they take any op.
bool gives_xnnpacks_bits(Status (*prepare)(PrepareContext&), const Kernel& kernel, const Kernel& xnnpack,
                         const graph::Op& op, const Shape& input_shape, const Shape& filter_shape);
// Float SiLU in one pass with the float operations of XNNPACK's AVX-512 sigmoid and multiply
// operators, in their order: their bytes (silu_exact.cpp). The interpreter uses it in exact-float
// plans once xnn::silu_matches has confirmed the bytes on this CPU.
extern const Kernel kSiluExact;
bool silu_exact_available();  // AVX-512 F
void silu_exact(const float* x, float* y, size_t n);
// The same with the sigmoid's division as RCP14, a Newton step and an FMA correction (the
// arithmetic of kFloatConv2d's SiLU epilogue); its bits are checked like silu_exact's.
void silu_exact_newton(const float* x, float* y, size_t n);
// Tests: q[i] = e[i] / (e[i] + 1) by VDIVPS, or (newton) as silu_exact_newton divides.
void quotients_over_one_plus(const float* e, float* q, size_t n, bool newton);
// MAX_POOL_2D at stride 1 with windows of 16 taps or more (SPP's 5x5 .. 13x13), float32, int8
// and uint8, as a column pass then a row pass: the reference's bytes (max_pool.cpp).
extern const Kernel kSeparableMaxPool2d;
// Whether this CPU has AVX-512 VNNI (with F, BW and VL) and tests have not turned it off.
bool has_avx512_vnni();
// Tests: false makes kernels prepared afterwards take the portable path even on VNNI CPUs
// (the VNNI-only kernels then decline).
void allow_vnni_for_testing(bool allow);
// Whether this CPU has AMX-INT8, the kernel lets this process use it, and tests have not
// turned it off.
bool has_amx_int8();
void allow_amx_for_testing(bool allow);

}  // namespace qdet::rt::simd
