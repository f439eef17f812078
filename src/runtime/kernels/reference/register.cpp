// Every reference kernel, named once (docs/ARCHITECTURE.md, "Code habits" 4). Kernels for quantized arithmetic
// are registered beside these by the quantized kernels' own registration; for each op the
// interpreter tries them in this order and takes the first whose prepare accepts the op.
#include "runtime/kernel_registry.h"
#include "runtime/kernels/reference/common.h"
#include "runtime/kernels/reference/hybrid.h"
#include "runtime/kernels/reference/quantized/quantized_kernels.h"

namespace qdet::rt {

void register_reference_kernels(KernelRegistry& registry) {
  using graph::OpKind;
  const auto add = [&](OpKind op, const Kernel& k) { registry.add(op, KernelImpl::kReference, k); };
  // float32 arithmetic
  add(OpKind::kConv2d, ref::kConv2dFloat);
  add(OpKind::kDepthwiseConv2d, ref::kDepthwiseConv2dFloat);
  add(OpKind::kFullyConnected, ref::kFullyConnectedFloat);
  add(OpKind::kTransposeConv, ref::kTransposeConv);  // float32, int8, uint8, int16x8
  add(OpKind::kBatchMatmul, ref::kBatchMatmul);      // float32, int8, int16
  // float32 activations with int8 constant weights (hybrid.h)
  add(OpKind::kConv2d, ref::kConv2dHybrid);
  add(OpKind::kDepthwiseConv2d, ref::kDepthwiseConv2dHybrid);
  add(OpKind::kFullyConnected, ref::kFullyConnectedHybrid);
  add(OpKind::kAdd, ref::kAddFloat);
  add(OpKind::kSub, ref::kSubFloat);
  add(OpKind::kMul, ref::kMulFloat);
  add(OpKind::kDiv, ref::kDivFloat);
  add(OpKind::kLogistic, ref::kLogisticFloat);
  add(OpKind::kExp, ref::kExpFloat);
  add(OpKind::kTanh, ref::kTanhFloat);
  add(OpKind::kRelu, ref::kReluFloat);
  add(OpKind::kRelu6, ref::kRelu6Float);
  add(OpKind::kReluN1To1, ref::kReluN1To1Float);
  add(OpKind::kLeakyRelu, ref::kLeakyReluFloat);
  add(OpKind::kHardSwish, ref::kHardSwishFloat);
  add(OpKind::kSqrt, ref::kSqrtFloat);
  add(OpKind::kRsqrt, ref::kRsqrtFloat);
  add(OpKind::kElu, ref::kEluFloat);
  add(OpKind::kSquaredDifference, ref::kSquaredDifference);
  add(OpKind::kSoftmax, ref::kSoftmaxFloat);
  add(OpKind::kMean, ref::kMeanFloat);
  add(OpKind::kSum, ref::kSumFloat);
  // float32 and same-quantization int8/uint8/int16
  add(OpKind::kMaxPool2d, ref::kMaxPool2d);
  add(OpKind::kReduceMax, ref::kReduceMax);
  add(OpKind::kMaximum, ref::kMaximum);
  add(OpKind::kMinimum, ref::kMinimum);
  add(OpKind::kPrelu, ref::kPrelu);
  add(OpKind::kArgMax, ref::kArgMax);
  add(OpKind::kArgMin, ref::kArgMin);
  // float32, int8, uint8, int16 (TFLite's integer arithmetic in the same file)
  add(OpKind::kAveragePool2d, ref::kAveragePool2d);
  add(OpKind::kResizeBilinear, ref::kResizeBilinear);
  // layout ops, every dtype
  add(OpKind::kResizeNearestNeighbor, ref::kResizeNearestNeighbor);
  add(OpKind::kReshape, ref::kReshape);
  add(OpKind::kSqueeze, ref::kSqueeze);
  add(OpKind::kExpandDims, ref::kExpandDims);
  add(OpKind::kConcatenation, ref::kConcatenation);
  add(OpKind::kStridedSlice, ref::kStridedSlice);
  add(OpKind::kSlice, ref::kSlice);
  add(OpKind::kPad, ref::kPad);
  add(OpKind::kPadV2, ref::kPadV2);
  add(OpKind::kTranspose, ref::kTranspose);
  add(OpKind::kScatterNd, ref::kScatterNd);
  add(OpKind::kBroadcastTo, ref::kBroadcastTo);
  add(OpKind::kGather, ref::kGather);
  add(OpKind::kSplit, ref::kSplit);
  add(OpKind::kSplitV, ref::kSplitV);
  add(OpKind::kDepthToSpace, ref::kDepthToSpace);
  add(OpKind::kSpaceToDepth, ref::kSpaceToDepth);
  add(OpKind::kTile, ref::kTile);
  add(OpKind::kPack, ref::kPack);
  add(OpKind::kUnpack, ref::kUnpack);
  add(OpKind::kMirrorPad, ref::kMirrorPad);
  // conversions
  add(OpKind::kDequantize, ref::kDequantize);
  add(OpKind::kQuantize, ref::kQuantizeFromFloat);
  add(OpKind::kCast, ref::kCast);
  // custom ops
  add(OpKind::kDetectionPostProcess, ref::kDetectionPostProcess);
  // int8 / uint8 / int16x8 arithmetic (quantized/quantized_kernels.h)
  register_reference_quantized_kernels(registry);
}

}  // namespace qdet::rt
