#include "runtime/kernel_registry.h"

namespace qdet::rt {

void register_reference_kernels(KernelRegistry& registry) {
  (void)registry;  // filled as reference kernels land
}

}  // namespace qdet::rt
