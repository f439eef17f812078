#include "runtime/kernel_registry.h"

#include <algorithm>

namespace qdet::rt {

const char* kernel_impl_name(KernelImpl impl) {
  switch (impl) {
    case KernelImpl::kXnnpack: return "xnnpack";
    case KernelImpl::kSimd: return "simd";
    case KernelImpl::kOnednn: return "onednn";
    case KernelImpl::kReference: return "reference";
  }
  return "unknown";
}

void KernelRegistry::add(graph::OpKind op, KernelImpl impl, const Kernel& kernel) {
  entries_.push_back({op, impl, kernel});
}

namespace {
thread_local const KernelImpl* only_family = nullptr;
}  // namespace

OnlyFamily::OnlyFamily(KernelImpl family) : family_(family), previous_(only_family) {
  only_family = &family_;
}
OnlyFamily::~OnlyFamily() { only_family = previous_; }
const KernelImpl* OnlyFamily::current() { return only_family; }

std::vector<const Kernel*> KernelRegistry::candidates(graph::OpKind op, bool allow_fast) const {
  std::vector<const Entry*> found;
  for (const auto& e : entries_) {
    if (e.op != op) continue;
    if (only_family != nullptr ? e.impl == *only_family
                               : (allow_fast || e.impl == KernelImpl::kReference))
      found.push_back(&e);
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const Entry* a, const Entry* b) { return a->impl < b->impl; });
  std::vector<const Kernel*> out;
  for (const Entry* e : found) out.push_back(&e->kernel);
  return out;
}

bool KernelRegistry::has_reference(graph::OpKind op) const {
  return std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) {
    return e.op == op && e.impl == KernelImpl::kReference;
  });
}

const KernelRegistry& default_kernel_registry() {
  static const KernelRegistry registry = [] {
    KernelRegistry r;
    register_onednn_kernels(r);
    register_xnnpack_kernels(r);
    register_simd_kernels(r);
    register_reference_kernels(r);
    return r;
  }();
  return registry;
}

}  // namespace qdet::rt
