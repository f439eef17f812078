// Helpers shared by the head implementations (not a public header).
#pragma once

#include <cstring>

#include "detect/head.h"
#include "tensor/fp16.h"

namespace qdet::detect::internal {

// Element i of a tensor as float (dequantized). One switch per tensor, not per element: heads
// call with_reader once and get a lambda specialised for the dtype.
template <typename F>
Status with_reader(const OutputView& v, F&& body) {
  const uint8_t* p = v.data.data();
  const float s = v.scale;
  const int32_t z = v.zero_point;
  switch (v.dtype) {
    case DType::kFloat32:
      body([p](size_t i) {
        float f;
        std::memcpy(&f, p + 4 * i, 4);
        return f;
      });
      return ok_status();
    case DType::kFloat16:
      body([p](size_t i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        return fp16_to_fp32(h);
      });
      return ok_status();
    case DType::kUInt8:
      body([p, s, z](size_t i) { return s * static_cast<float>(static_cast<int32_t>(p[i]) - z); });
      return ok_status();
    case DType::kInt8:
      body([p, s, z](size_t i) {
        return s * static_cast<float>(static_cast<int32_t>(static_cast<int8_t>(p[i])) - z);
      });
      return ok_status();
    default:
      return unsupported("output '{}': type {} is not supported by detection heads", v.name,
                         dtype_name(v.dtype));
  }
}

// Checks that the view's bytes match its shape and dtype.
Status check_view(const OutputView& v);

}  // namespace qdet::detect::internal
