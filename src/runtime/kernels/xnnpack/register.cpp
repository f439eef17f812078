// Every XNNPACK kernel qdet has, registered explicitly (docs/ARCHITECTURE.md, "Code habits" 4). Each one is tested
// against the reference kernel in tests/runtime/xnnpack_*_test.cpp.
#include "runtime/kernel_registry.h"
#include "runtime/kernels/xnnpack/kernels.h"

namespace qdet::rt {

void register_xnnpack_kernels(KernelRegistry& registry) {
  using graph::OpKind;
  constexpr KernelImpl kImpl = KernelImpl::kXnnpack;
  registry.add(OpKind::kConv2d, kImpl, xnn::kConv2d);
  registry.add(OpKind::kDepthwiseConv2d, kImpl, xnn::kDepthwiseConv2d);
  registry.add(OpKind::kFullyConnected, kImpl, xnn::kFullyConnected);
  registry.add(OpKind::kAdd, kImpl, xnn::kAdd);
  registry.add(OpKind::kSub, kImpl, xnn::kSub);
  registry.add(OpKind::kMul, kImpl, xnn::kMul);
  registry.add(OpKind::kMaxPool2d, kImpl, xnn::kMaxPool2d);
  registry.add(OpKind::kAveragePool2d, kImpl, xnn::kAveragePool2d);
  registry.add(OpKind::kLogistic, kImpl, xnn::kLogistic);
  registry.add(OpKind::kHardSwish, kImpl, xnn::kHardSwish);
  registry.add(OpKind::kLeakyRelu, kImpl, xnn::kLeakyRelu);
  registry.add(OpKind::kRelu, kImpl, xnn::kRelu);
  registry.add(OpKind::kRelu6, kImpl, xnn::kRelu);
  registry.add(OpKind::kReluN1To1, kImpl, xnn::kRelu);
  registry.add(OpKind::kResizeBilinear, kImpl, xnn::kResizeBilinear);
  registry.add(OpKind::kPad, kImpl, xnn::kPad);
  registry.add(OpKind::kPadV2, kImpl, xnn::kPad);
  registry.add(OpKind::kConcatenation, kImpl, xnn::kConcatenation);
  registry.add(OpKind::kResizeNearestNeighbor, kImpl, xnn::kResizeNearestNeighbor);
  registry.add(OpKind::kTranspose, kImpl, xnn::kTranspose);
  // Quantized kernels after the float ones: each op's float kernel answers kUnsupported on
  // int8/uint8 tensors and the quantized one is tried next (and vice versa).
  registry.add(OpKind::kConv2d, kImpl, xnn::kConv2dQuantized);
  registry.add(OpKind::kDepthwiseConv2d, kImpl, xnn::kDepthwiseConv2dQuantized);
  registry.add(OpKind::kFullyConnected, kImpl, xnn::kFullyConnectedQuantized);
  registry.add(OpKind::kAdd, kImpl, xnn::kAddQuantized);
  registry.add(OpKind::kSub, kImpl, xnn::kSubQuantized);
  registry.add(OpKind::kMul, kImpl, xnn::kMulQuantized);
  registry.add(OpKind::kLogistic, kImpl, xnn::kLogisticQuantized);
  registry.add(OpKind::kMaxPool2d, kImpl, xnn::kMaxPool2dQuantized);
  registry.add(OpKind::kLeakyRelu, kImpl, xnn::kLeakyReluQuantized);
  registry.add(OpKind::kQuantize, kImpl, xnn::kRequantize);
  registry.add(OpKind::kQuantize, kImpl, xnn::kQuantizeFromFloat);
  registry.add(OpKind::kElu, kImpl, xnn::kEluQuantized);
  registry.add(OpKind::kResizeBilinear, kImpl, xnn::kResizeBilinearQuantized);
  registry.add(OpKind::kMean, kImpl, xnn::kMeanQuantized);
  registry.add(OpKind::kTransposeConv, kImpl, xnn::kTransposeConvQuantized);
}

}  // namespace qdet::rt
