// Test helpers shared by every module's tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "base/paths.h"
#include "tensor/quant_params.h"

namespace qdet::testing {

// True when $QDET_REQUIRE_DATA=1 (set by .ci/run): missing shared data fails instead of skipping.
bool data_required();

// A scratch folder unique to the running test, removed at the start (not at the end, so a
// failure can be inspected).
std::filesystem::path scratch_dir();

// The peers' node_modules folder ($QDET_PEERS_DIR/node_modules, default
// ~/.cache/qdet-peers/node_modules) when both peer packages and `node` are there; empty otherwise.
std::string peers_node_path();
// `NODE_PATH=... node <shared>/peers/<script>` ready to append arguments to.
std::string peer_command(const std::string& script);

// Runs a shell command, returns its exit status; stdout+stderr captured into *output.
int run_command(const std::string& command, std::string* output);

// The bytes of `v`'s elements (tensor data, files of raw values).
template <typename T>
std::vector<uint8_t> to_bytes(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// Per-tensor quantization parameters: one scale, one zero point.
inline QuantParams per_tensor(float scale, int64_t zero_point) {
  QuantParams q;
  q.scale = {scale};
  q.zero_point = {zero_point};
  return q;
}

}  // namespace qdet::testing

// Skips the test (or fails it under QDET_REQUIRE_DATA=1) when `path` does not exist.
#define QDET_REQUIRE_PATH(required_path)                                                      \
  do {                                                                               \
    const std::filesystem::path qdet_required_path_ = (required_path);                        \
    if (!std::filesystem::exists(qdet_required_path_)) {                             \
      if (::qdet::testing::data_required())                                          \
        FAIL() << "required shared data missing: " << qdet_required_path_;          \
      else                                                                           \
        GTEST_SKIP() << "shared data not found: " << qdet_required_path_            \
                     << " (set QDET_SHARED or QDET_DATA)";                           \
    }                                                                                \
  } while (0)

// Skips (or fails under QDET_REQUIRE_DATA=1) when the Node peers are not installed.
#define QDET_REQUIRE_PEERS()                                                          \
  do {                                                                                \
    if (::qdet::testing::peers_node_path().empty()) {                                 \
      if (::qdet::testing::data_required())                                           \
        FAIL() << "peers not installed (run ../shared/peers/setup.sh)";               \
      else                                                                            \
        GTEST_SKIP() << "peers not installed (run ../shared/peers/setup.sh)";         \
    }                                                                                 \
  } while (0)
