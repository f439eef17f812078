// A constant tensor held by the converter: weights, shapes and folded values, in the source
// model's layout. Data is little endian, row-major, exactly num_elements(shape) x dtype size.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "tensor/dtype.h"
#include "tensor/shape.h"

namespace qdet::convert {

struct HostTensor {
  DType dtype = DType::kFloat32;
  Shape shape;
  std::vector<uint8_t> data;

  int64_t num_elements() const { return ::qdet::num_elements(shape); }

  static HostTensor from_floats(Shape shape, std::span<const float> values);
  static HostTensor from_int64s(Shape shape, std::span<const int64_t> values);
  static HostTensor from_int32s(Shape shape, std::span<const int32_t> values);

  // Element values converted to float / int64 (float values are truncated toward zero for
  // as_int64s). Fails for dtypes without a numeric meaning here.
  Result<std::vector<float>> as_floats() const;
  Result<std::vector<int64_t>> as_int64s() const;
};

// out = transpose(in, perm): out.shape[i] = in.shape[perm[i]]. perm must be a permutation of
// in's rank.
HostTensor transpose(const HostTensor& in, std::span<const int32_t> perm);

// A float32 or int64/int32 tensor cast to `to` (float32, int32 or int64).
Result<HostTensor> cast(const HostTensor& in, DType to);

}  // namespace qdet::convert
