// Quantization parameters of a tensor, as in TFLite's QuantizationParameters:
// real = scale * (q - zero_point). One scale/zero point per tensor, or one per slice along
// `quantized_dimension` (per-axis / per-channel).
#pragma once

#include <cstdint>
#include <vector>

namespace qdet {

struct QuantParams {
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int32_t quantized_dimension = 0;
  std::vector<float> min;  // optional ranges recorded by converters; not used for arithmetic
  std::vector<float> max;

  bool empty() const { return scale.empty(); }
  bool per_axis() const { return scale.size() > 1; }
  bool operator==(const QuantParams&) const = default;
};

}  // namespace qdet
