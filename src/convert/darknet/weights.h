// Darknet .weights files: a header (int32 major, minor, revision; then `seen`, 64-bit when
// major*10 + minor >= 2, else 32-bit), then float32 values layer by layer: for each
// convolutional layer its biases [filters], when batch_normalize its scales, rolling means and
// rolling variances [filters each], then its weights [filters][in_c/groups][size][size].
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "convert/darknet/network.h"

namespace qdet::convert::darknet {

struct ConvWeights {
  std::vector<float> biases, scales, mean, variance;  // scales.. empty without batch_normalize
  std::vector<float> weights;                         // [filters][in_c/groups][size][size]
};

struct Weights {
  int32_t major = 0, minor = 0, revision = 0;
  uint64_t seen = 0;
  std::vector<ConvWeights> layers;  // one per network layer (empty for layers without weights)
};

// Header bytes for a version (12 + 8 or 12 + 4).
size_t header_bytes(int32_t major, int32_t minor);

// Splits `bytes` into the network's layers. The byte count must be exact: a truncated file
// names the layer it ends in, extra bytes are an error too (usually the wrong .cfg).
Result<Weights> parse_weights(std::span<const uint8_t> bytes, const Network& net, std::string_view source);

}  // namespace qdet::convert::darknet
