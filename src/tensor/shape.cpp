#include "tensor/shape.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace qdet {

std::optional<int64_t> checked_num_elements(const Shape& shape) {
  constexpr int64_t kMax = int64_t{1} << 40;
  int64_t n = 1;
  for (int32_t d : shape) {
    if (d < 0) return std::nullopt;
    if (d != 0 && n > kMax / d) return std::nullopt;
    n *= d;
  }
  return n;
}

int64_t num_elements(const Shape& shape) {
  int64_t n = 1;
  for (int32_t d : shape) n *= d;
  return n;
}

std::string shape_to_string(const Shape& shape) { return fmt::format("[{}]", fmt::join(shape, ",")); }

}  // namespace qdet
