// oneDNN kernels (KernelImpl::kOnednn): Debian's libdnnl (2.6), whose int8 convolutions run on
// AVX-512 VNNI or AMX at run time. Every dnnl call in qdet lives in this folder.
//
// Which ops it takes (the selection rule; anything else is kUnsupported, so the next family,
// XNNPACK, runs it):
//   CONV_2D, int8 or uint8 (1x1, KxK, strided, dilated, grouped), when oneDNN's chosen
//   implementation is a VNNI or AMX one (measured on the CPU at prepare: its implementation name)
//   and every output channel's accumulator provably stays exact (below).
//   CONV_2D, float32, not grouped, with a constant filter, when oneDNN picks a JIT
//   implementation and the plan does not need XNNPACK's exact float bytes (PrepareContext::
//   exact_float: the model quantizes float values later, so an ulp could move an int8 byte away
//   from the official TFLite's). Its results differ from XNNPACK's by float rounding (summation
//   order), within the conformance suite's float tolerance.
// Depthwise convolutions stay on XNNPACK: oneDNN's int8 depthwise ran 0.07-0.27x of its f32 one.
//
// Arithmetic: oneDNN computes the int32 accumulators, sum((x - x_zp) * (w - w_zp)) with TFLite's
// padding (padded taps contribute nothing), into scratch; qdet then adds the bias and
// requantizes exactly as XNNPACK's fp32 requantization does (what TFLite's XNNPACK delegate, the
// peer, runs): q = clamp(round_half_even(float(acc + bias) * s) + out_zp), with
// s = float(in_scale * w_scale[c] / out_scale). The results are the bytes qdet's XNNPACK kernels
// give. oneDNN passes s32 accumulators through fp32 on their way out, which is exact only below
// 2^24: prepare accepts a convolution only when 256 * sum|w - w_zp| of every output channel is
// below 2^24 (no input can then reach the limit).
// uint8 weights whose w - w_zp does not fit int8 (TFLite's uint8 files put the zero point where
// the weights' range does, e.g. SSD MobileNet V1) are stored as w - 128 with one more output
// channel of ones, which sums (x - x_zp) over each window; the requantization adds
// (128 - w_zp) x that sum to every channel's accumulator: the same integers. Ungrouped only.
#pragma once

#include "runtime/kernel.h"

namespace qdet::rt::onednn {

extern const Kernel kConv2dQuantized;
extern const Kernel kConv2dFloat;


// QDET_ONEDNN=0 in the environment turns the family off (XNNPACK then runs these ops), to
// compare the two.
bool family_enabled();

// Whether oneDNN runs its int8 convolutions with VNNI or AMX on this CPU (implementation names
// containing "vnni" or "amx"), probed once; false when the family is off.
bool has_fast_int8();

}  // namespace qdet::rt::onednn
