// What every op is, in one table (one constexpr row per OpKind, in ops.def order): its role,
// which inputs carry values, weights and bias, and TFLite's rules for its integer versions.
// The quantizer, the fallback, calibration, GPTQ and the dynamic mode read this table instead of
// keeping their own lists. `qdet` says which integer dtypes qdet's own kernels run (the
// quantizer writes an op in int8 / int16 only where both TFLite and qdet have the kernel); the
// conformance suite (tests/conformance) holds a row for each such (op, dtype) and runs it
// against TFLite, and a test fails when a claimed dtype has no row.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "graph/op.h"
#include "tensor/dtype.h"

namespace qdet::graph {

enum class OpRole : uint8_t {
  kWeighted,      // constant weights (and bias): CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, ...
  kActivation,    // elementwise unary nonlinearity: RELU, LOGISTIC, HARD_SWISH, ...
  kElementwise,   // elementwise arithmetic of two or more tensors: ADD, MUL, MAXIMUM, ...
  kReduction,     // MEAN, REDUCE_MAX, pools, SOFTMAX (along an axis)
  kDataMovement,  // moves or copies values without arithmetic: RESHAPE, PAD, CONCATENATION, ...
  kConversion,    // QUANTIZE, DEQUANTIZE, CAST
  kHead,          // detector post-processing: TFLite_Detection_PostProcess
};

// Where the output's quantization parameters come from when TFLite runs the op in int8/uint8 or
// int16 (the TFLite quantization specification).
enum class QuantRule : uint8_t {
  kNone,         // TFLite has no integer kernel: the op stays float
  kFromRange,    // the output's own calibrated range
  kSameAsInput,  // exactly the parameters of the first value input (the kernel moves bytes)
  kShared,       // the output's own range; every value input requantized to it
  kFixed,        // fixed by TFLite (fixed_int8 / fixed_int16 below)
};

struct FixedQuant {
  float scale = 0.0f;
  int32_t zero_point = 0;
};

struct OpTraits {
  OpKind kind;
  OpRole role;
  uint8_t value_inputs;    // bit i set: input i carries values (the others: axes, shapes, sizes)
  int8_t weight_input;     // constant weights quantized symmetric per channel; -1: none
  int8_t weight_axis;      // their output-channel axis
  int8_t bias_input;       // int32 / int64 bias from input x weight scales; -1: none
  bool hybrid;             // TFLite runs float activations with int8 weights (dynamic mode)
  QuantRule int8;          // int8 and uint8 (TFLite's 8-bit spec)
  bool int16;              // TFLite has a 16x8 kernel (int16 activations, int8 weights)
  uint8_t qdet;            // kQdetInt8 | kQdetInt16: qdet's kernels run the op in that dtype
  FixedQuant fixed_int8;   // kFixed only
  FixedQuant fixed_int16;  // kFixed only

  static constexpr uint8_t kQdetInt8 = 1, kQdetInt16 = 2;

  bool weighted() const { return role == OpRole::kWeighted; }
  // The quantizer may write the op with int8 (uint8) / int16 activations.
  bool quantizable_int8() const { return int8 != QuantRule::kNone && (qdet & kQdetInt8); }
  bool quantizable_int16() const {
    return int8 != QuantRule::kNone && int16 && (qdet & kQdetInt16);
  }
  // The input holding the activations (TRANSPOSE_CONV: 2; its 0 is the output shape).
  int data_input() const {
    for (int i = 0; i < 8; ++i)
      if (value_inputs & (1u << i)) return i;
    return 0;
  }
  bool is_value_input(size_t i) const { return i < 8 && (value_inputs & (1u << i)) != 0; }
};

namespace traits_detail {

using enum OpKind;
using enum OpRole;
using enum QuantRule;
inline constexpr uint8_t kIn0 = 0x01, kIn01 = 0x03, kAll = 0xFF;
inline constexpr uint8_t k8 = OpTraits::kQdetInt8, k16 = OpTraits::kQdetInt16, k8_16 = k8 | k16;
inline constexpr FixedQuant kNoFixed{};
inline constexpr FixedQuant kProbInt8{1.0f / 256, -128}, kProbInt16{1.0f / 32768, 0};
inline constexpr FixedQuant kTanhInt8{1.0f / 128, 0}, kTanhInt16{1.0f / 32768, 0};

constexpr OpTraits row(OpKind k, OpRole r, uint8_t values, QuantRule int8, bool int16,
                       uint8_t qdet) {
  return {k, r, values, -1, 0, -1, false, int8, int16, qdet, kNoFixed, kNoFixed};
}
constexpr OpTraits weighted(OpKind k, uint8_t values, int8_t w, int8_t axis, int8_t b, bool hybrid,
                            uint8_t qdet) {
  return {k, kWeighted, values, w, axis, b, hybrid, kFromRange, true, qdet, kNoFixed, kNoFixed};
}
constexpr OpTraits fixed(OpKind k, OpRole r, FixedQuant q8, FixedQuant q16, uint8_t qdet) {
  return {k, r, kIn0, -1, 0, -1, false, kFixed, true, qdet, q8, q16};
}

// One row per op of ops.def, in the same order (checked below).
inline constexpr OpTraits kTable[] = {
    row(kAdd, kElementwise, kIn01, kFromRange, true, k8_16),
    row(kAveragePool2d, kReduction, kIn0, kSameAsInput, true, k8_16),
    row(kConcatenation, kDataMovement, kAll, kShared, true, k8_16),
    weighted(kConv2d, kIn0, 1, 0, 2, true, k8_16),
    weighted(kDepthwiseConv2d, kIn0, 1, 3, 2, true, k8_16),
    row(kDepthToSpace, kDataMovement, kIn0, kSameAsInput, false, k8),
    row(kDequantize, kConversion, kIn0, kNone, false, 0),
    row(kFloor, kActivation, kIn0, kNone, false, 0),
    weighted(kFullyConnected, kIn0, 1, 0, 2, true, k8_16),
    fixed(kLogistic, kActivation, kProbInt8, kProbInt16, k8_16),
    row(kMaxPool2d, kReduction, kIn0, kSameAsInput, true, k8_16),
    row(kMul, kElementwise, kIn01, kFromRange, true, k8_16),
    row(kRelu, kActivation, kIn0, kFromRange, true, k8_16),
    row(kReluN1To1, kActivation, kIn0, kFromRange, false, k8),
    row(kRelu6, kActivation, kIn0, kFromRange, true, k8_16),
    row(kReshape, kDataMovement, kIn0, kSameAsInput, true, k8_16),
    row(kResizeBilinear, kDataMovement, kIn0, kSameAsInput, true, k8_16),
    fixed(kSoftmax, kReduction, kProbInt8, kProbInt16, k8_16),
    row(kSpaceToDepth, kDataMovement, kIn0, kSameAsInput, false, k8),
    fixed(kTanh, kActivation, kTanhInt8, kTanhInt16, k8_16),
    row(kPad, kDataMovement, kIn0, kSameAsInput, true, k8_16),
    row(kGather, kDataMovement, kIn0, kSameAsInput, true, k8_16),
    row(kTranspose, kDataMovement, kIn0, kSameAsInput, true, k8_16),
    row(kMean, kReduction, kIn0, kFromRange, true, k8_16),
    row(kSub, kElementwise, kIn01, kFromRange, true, k8_16),
    row(kDiv, kElementwise, kIn01, kNone, false, 0),  // TFLite: uint8 only (qdet runs it), no int8
    row(kSqueeze, kDataMovement, kIn0, kSameAsInput, true, k8_16),
    row(kStridedSlice, kDataMovement, kIn0, kSameAsInput, true, k8_16),
    row(kExp, kActivation, kIn0, kNone, false, 0),
    row(kSplit, kDataMovement, 0x02, kSameAsInput, true, k8_16),  // input 0 is the axis
    row(kCast, kConversion, kIn0, kNone, false, 0),
    row(kPrelu, kActivation, kIn01, kFromRange, false, k8),
    row(kMaximum, kElementwise, kIn01, kShared, true, k8_16),
    row(kMinimum, kElementwise, kIn01, kShared, true, k8_16),
    row(kPadV2, kDataMovement, 0x05, kSameAsInput, true, k8_16),  // 0: values, 2: the pad value
    row(kSlice, kDataMovement, kIn0, kSameAsInput, true, k8_16),
    weighted(kTransposeConv, 0x04, 1, 0, 3, false, k8_16),  // inputs: output_shape, weights, input, bias
    row(kExpandDims, kDataMovement, kIn0, kSameAsInput, true, k8_16),
    row(kSqrt, kActivation, kIn0, kNone, false, 0),
    row(kPow, kElementwise, kIn01, kNone, false, 0),
    row(kReduceMax, kReduction, kIn0, kSameAsInput, true, k8_16),
    row(kPack, kDataMovement, kAll, kShared, true, k8_16),
    row(kResizeNearestNeighbor, kDataMovement, kIn0, kSameAsInput, true, k8_16),
    row(kLeakyRelu, kActivation, kIn0, kFromRange, true, k8_16),
    row(kSplitV, kDataMovement, kIn0, kSameAsInput, true, k8_16),
    row(kQuantize, kConversion, kIn0, kNone, false, 0),
    row(kHardSwish, kActivation, kIn0, kFromRange, false, k8),
    row(kScatterNd, kDataMovement, 0x02, kNone, false, 0),  // its zero-filled base needs zp 0
    row(kBroadcastTo, kDataMovement, kIn0, kSameAsInput, true, k8_16),
    row(kSum, kReduction, kIn0, kFromRange, false, k8),
    row(kArgMax, kReduction, kIn0, kNone, false, 0),  // int32/int64 indices: no output scale
    row(kArgMin, kReduction, kIn0, kNone, false, 0),
    row(kRsqrt, kActivation, kIn0, kFromRange, false, k8),  // int8 only (TFLite ~2.12)
    row(kSquaredDifference, kElementwise, kIn01, kFromRange, false, k8),
    row(kTile, kDataMovement, kIn0, kSameAsInput, false, k8),
    row(kUnpack, kDataMovement, kIn0, kSameAsInput, true, k8_16),
    row(kMirrorPad, kDataMovement, kIn0, kSameAsInput, false, k8),
    row(kElu, kActivation, kIn0, kFromRange, false, k8),
    row(kBatchMatmul, kElementwise, kIn01, kFromRange, true, k8_16),
    row(kDensify, kDataMovement, kIn0, kNone, false, 0),  // folded when a .tflite is read
    row(kDetectionPostProcess, kHead, 0x07, kNone, false, 0),
};

constexpr bool every_kind_has_its_row() {
  if (std::size(kTable) != static_cast<size_t>(OpKind::kCount)) return false;
  for (size_t i = 0; i < std::size(kTable); ++i)
    if (static_cast<size_t>(kTable[i].kind) != i) return false;
  return true;
}
static_assert(every_kind_has_its_row(),
              "op_traits.h: every OpKind of ops.def needs its row, in ops.def order");

}  // namespace traits_detail

constexpr const OpTraits& op_traits(OpKind kind) {
  return traits_detail::kTable[static_cast<size_t>(kind)];
}

// TFLite's QUANTIZE between two integer tensors (its requantization): int8 and uint8 to either,
// int16 to int8 or int16. Nothing reaches int16 from 8 bits, and int16 does not reach uint8:
// such a file fails in TFLite ("Node number N (QUANTIZE) failed to prepare"), so qdet has no
// kernel for it and the quantizer goes through float instead (DEQUANTIZE, QUANTIZE).
constexpr bool tflite_requantizes(DType from, DType to) {
  const bool eight_bit_from = from == DType::kInt8 || from == DType::kUInt8;
  const bool eight_bit_to = to == DType::kInt8 || to == DType::kUInt8;
  return (eight_bit_from && eight_bit_to) || (from == DType::kInt16 && (to == DType::kInt8 || to == DType::kInt16));
}

}  // namespace qdet::graph
