// One fuzz entry point per parser, written once and built two ways:
//  - with -DQDET_LIBFUZZER (tests/fuzz/CMakeLists.txt, clang, -DQDET_FUZZ=ON): the file is a
//    libFuzzer target, QDET_FUZZ_TARGET(name) is LLVMFuzzerTestOneInput;
//  - otherwise (every build): the function registers itself under `name` and
//    qdet_fuzz_replay_tests runs it on the seeds and on every file of the committed regression
//    corpus tests/fuzz/regressions/<name>/, so an input that once crashed stays tested.
// QDET_FUZZ_TARGET(name) { ... } is the body, with `data` and `size` in scope.
// A target returns 0; it aborts (QDET_FUZZ_CHECK) when an invariant of accepted input breaks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "base/memory.h"

namespace qdet::fuzz {

using Target = int (*)(const uint8_t* data, size_t size);

inline std::map<std::string, Target>& targets() {
  static std::map<std::string, Target> all;
  return all;
}
inline bool add_target(const char* name, Target f) {
  targets()[name] = f;
  return true;
}

// Fuzzing asks for no more memory than this in one allocation that a file decides.
inline constexpr uint64_t kFuzzMemoryBudget = uint64_t{256} << 20;

}  // namespace qdet::fuzz

#define QDET_FUZZ_CHECK(cond)                                          \
  do {                                                                 \
    if (!(cond)) {                                                     \
      std::fprintf(stderr, "fuzz invariant failed: %s\n", #cond);     \
      std::abort();                                                    \
    }                                                                  \
  } while (0)

#ifdef QDET_LIBFUZZER
#define QDET_FUZZ_TARGET(name)                                              \
  extern "C" int LLVMFuzzerInitialize(int*, char***) {                      \
    ::qdet::set_memory_budget(::qdet::fuzz::kFuzzMemoryBudget);             \
    return 0;                                                               \
  }                                                                         \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
#else
#define QDET_FUZZ_TARGET(name)                                                          \
  static int qdet_fuzz_##name(const uint8_t* data, size_t size);                       \
  [[maybe_unused]] static const bool qdet_fuzz_added_##name =                          \
      ::qdet::fuzz::add_target(#name, qdet_fuzz_##name);                               \
  static int qdet_fuzz_##name(const uint8_t* data, size_t size)
#endif
