#include "runtime/kernel_registry.h"

namespace qdet::rt {

void register_xnnpack_kernels(KernelRegistry& registry) {
  (void)registry;  // filled as XNNPACK kernels land
}

}  // namespace qdet::rt
