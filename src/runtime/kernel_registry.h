// Kernels are registered explicitly (docs/ARCHITECTURE.md, "Code habits" 4): one function names every kernel of
// one implementation. For each op the interpreter tries candidates in order (fast first, then
// reference); the first whose prepare succeeds runs the op.
#pragma once

#include <vector>

#include "graph/op.h"
#include "runtime/kernel.h"

namespace qdet::rt {

// Also the order in which the families are tried: qdet's own SIMD kernels (which take only what
// the libraries do not run, or run slower: AMX pointwise convolutions, 8-bit depthwise, int16x8,
// large max-pool windows), oneDNN (which takes only what it runs faster than XNNPACK:
// kernels/onednn/kernels.h), XNNPACK, reference.
enum class KernelImpl : uint8_t { kSimd = 0, kOnednn = 1, kXnnpack = 2, kReference = 3 };
const char* kernel_impl_name(KernelImpl impl);

class KernelRegistry {
 public:
  void add(graph::OpKind op, KernelImpl impl, const Kernel& kernel);
  // Candidates for `op`, fast implementations first; `allow_fast` false keeps only reference.
  std::vector<const Kernel*> candidates(graph::OpKind op, bool allow_fast) const;
  bool has_reference(graph::OpKind op) const;

 private:
  struct Entry {
    graph::OpKind op;
    KernelImpl impl;
    Kernel kernel;
  };
  std::vector<Entry> entries_;
};

// While an OnlyFamily lives, interpreters created on this thread try only `family`'s kernels
// (an op that family declines is then an error): the conformance suite runs every family that
// accepts an op, and `qdet ops` finds which families serve each cell.
class OnlyFamily {
 public:
  explicit OnlyFamily(KernelImpl family);
  ~OnlyFamily();
  OnlyFamily(const OnlyFamily&) = delete;
  OnlyFamily& operator=(const OnlyFamily&) = delete;
  // The family in force on this thread, or nullptr.
  static const KernelImpl* current();

 private:
  KernelImpl family_;
  const KernelImpl* previous_;
};

// Defined in kernels/reference/register.cpp, kernels/xnnpack/register.cpp, kernels/simd and
// kernels/onednn/register.cpp.
void register_reference_kernels(KernelRegistry& registry);
void register_onednn_kernels(KernelRegistry& registry);
void register_xnnpack_kernels(KernelRegistry& registry);
void register_simd_kernels(KernelRegistry& registry);

// The registry with every kernel qdet has (built once, thread-safe).
const KernelRegistry& default_kernel_registry();

}  // namespace qdet::rt
