// Every kernel of the XNNPACK adapter, named once here and registered in register.cpp.
// Each prepare returns kUnsupported for anything it does not compute exactly as TFLite does
// (dtype, attribute, non-constant weights, zero-sized tensor): the interpreter then runs the
// reference kernel instead.
#pragma once

#include <memory>

#include "base/status.h"
#include "runtime/kernel.h"

namespace qdet::rt::xnn {

extern const Kernel kConv2d;               // CONV_2D, float32, constant filter and bias
extern const Kernel kDepthwiseConv2d;      // DEPTHWISE_CONV_2D, any depth multiplier
extern const Kernel kFullyConnected;       // FULLY_CONNECTED, float32 constant weights
extern const Kernel kAdd;                  // ADD with broadcasting (<= 6-D), fused activation
extern const Kernel kSub;                  // SUB
extern const Kernel kMul;                  // MUL
extern const Kernel kMaxPool2d;            // MAX_POOL_2D
extern const Kernel kAveragePool2d;        // AVERAGE_POOL_2D (padding excluded from the mean)
extern const Kernel kLogistic;             // LOGISTIC
extern const Kernel kHardSwish;            // HARD_SWISH
extern const Kernel kLeakyRelu;            // LEAKY_RELU
extern const Kernel kRelu;                 // RELU, RELU6, RELU_N1_TO_1 (clamp)
extern const Kernel kResizeBilinear;       // RESIZE_BILINEAR (all three coordinate modes)
extern const Kernel kPad;                  // PAD, PADV2 (float32 or int8/uint8 same quant)

// Quantized kernels (int8 "qs8"/"qc8", uint8 "qu8"): within one quantization step of the
// reference (XNNPACK requantizes in fp32 with one rounding), as TFLite's XNNPACK delegate.
extern const Kernel kConv2dQuantized;           // CONV_2D: qc8 (per-channel), qs8, qu8
extern const Kernel kDepthwiseConv2dQuantized;  // DEPTHWISE_CONV_2D: qc8, qs8, qu8
extern const Kernel kFullyConnectedQuantized;   // FULLY_CONNECTED: qs8, qu8 (per-tensor)
extern const Kernel kAddQuantized;              // ADD with broadcasting, qs8 / qu8
extern const Kernel kSubQuantized;              // SUB
extern const Kernel kMulQuantized;              // MUL
extern const Kernel kLogisticQuantized;         // LOGISTIC (output scale 1/256)
extern const Kernel kMaxPool2dQuantized;        // MAX_POOL_2D s8 / u8, same quant in and out
// QUANTIZE int8->int8 / uint8->uint8 with XNNPACK's convert arithmetic (8-bit multiplier),
// done in qdet (the linked XNNPACK lacks the operator); named "xnnpack-compat".
extern const Kernel kRequantize;
// LEAKY_RELU int8 with XNNPACK's qs8 vlrelu arithmetic (8-bit multipliers), also done in qdet.
extern const Kernel kLeakyReluQuantized;
extern const Kernel kQuantizeFromFloat;  // QUANTIZE float32 -> int8 / uint8 (xnn convert)
extern const Kernel kEluQuantized;             // ELU int8 (xnn elu qs8)
extern const Kernel kResizeBilinearQuantized;  // RESIZE_BILINEAR int8 / uint8
extern const Kernel kMeanQuantized;            // MEAN over H, W with keep_dims (global average pooling)
extern const Kernel kTransposeConvQuantized;   // TRANSPOSE_CONV uint8 (xnn deconvolution qu8)

// Float SiLU pairs, MUL(x, LOGISTIC(x)) both on XNNPACK, fused by the plan where XNNPACK's bytes
// must be kept (silu_blocked.cpp): XNNPACK's sigmoid and multiply a cache-sized block at a time
// ("xnnpack-silu"). The op data holds an operator pair per interpreter thread.
extern const Kernel kSiluBlocked;
Result<std::unique_ptr<OpData>> silu_blocked_data(int num_threads);
// Whether `silu` gives the bytes of XNNPACK's sigmoid and multiply operators on this CPU, on a
// probe of values across the float range (every exponent, both signs, zeros, infinities, NaN,
// subnormals): a few ms, which the caller keeps (the interpreter asks once a process).
bool silu_matches(void (*silu)(const float* x, float* y, size_t n));

// Row-copy kernels (named "copy"): exact for any dtype, same quantization in and out.
extern const Kernel kConcatenation;        // CONCATENATION without fused activation
extern const Kernel kResizeNearestNeighbor;  // RESIZE_NEAREST_NEIGHBOR (TFLite's index rule)
extern const Kernel kTranspose;            // TRANSPOSE reducing to a batched 2-D transpose

}  // namespace qdet::rt::xnn
