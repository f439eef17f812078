#include "runtime/kernel_registry.h"
#include "runtime/kernels/reference/quantized/quantized_kernels.h"

namespace qdet::rt {

void register_reference_kernels(KernelRegistry& registry) {
  (void)registry;  // filled as reference kernels land
  register_reference_quantized_kernels(registry);
}

}  // namespace qdet::rt
