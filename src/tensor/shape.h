// Shapes are plain vectors of dims (TFLite order: NHWC for images). A dim is >= 0 once a graph
// is verified; -1 may appear only in shape_signature.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qdet {

using Shape = std::vector<int32_t>;

// Product of dims; nullopt when a dim is negative or the product exceeds 2^40 elements.
std::optional<int64_t> checked_num_elements(const Shape& shape);
// Product of dims for shapes known to be valid.
int64_t num_elements(const Shape& shape);
std::string shape_to_string(const Shape& shape);  // "[1,416,416,3]"

}  // namespace qdet
