#include "runtime/kernel_registry.h"
#include "runtime/kernels/onednn/kernels.h"

namespace qdet::rt {

void register_onednn_kernels(KernelRegistry& r) {
  r.add(graph::OpKind::kConv2d, KernelImpl::kOnednn, onednn::kConv2dQuantized);
  r.add(graph::OpKind::kConv2d, KernelImpl::kOnednn, onednn::kConv2dFloat);
}

}  // namespace qdet::rt
