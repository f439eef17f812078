#include "tensor/dtype.h"

#include <cstring>
#include <limits>

namespace qdet {
namespace {

template <typename T>
constexpr DTypeTraits integer_row(DType dtype, const char* name) {
  return {dtype, name, sizeof(T), false, true, std::numeric_limits<T>::min(), std::numeric_limits<T>::max()};
}

constexpr DTypeTraits kTraits[] = {
    {DType::kUnknown, "unknown", 0, false, false, 0, 0},
    {DType::kFloat32, "float32", 4, true, false, 0, 0},
    {DType::kFloat16, "float16", 2, true, false, 0, 0},
    integer_row<int8_t>(DType::kInt8, "int8"),
    integer_row<uint8_t>(DType::kUInt8, "uint8"),
    integer_row<int16_t>(DType::kInt16, "int16"),
    integer_row<int32_t>(DType::kInt32, "int32"),
    integer_row<int64_t>(DType::kInt64, "int64"),
    {DType::kBool, "bool", 1, false, false, 0, 0},
};
static_assert(sizeof(kTraits) / sizeof(kTraits[0]) == static_cast<size_t>(DType::kCount),
              "one row per DType");

}  // namespace

const DTypeTraits& dtype_traits(DType dtype) {
  auto i = static_cast<size_t>(dtype);
  return i < static_cast<size_t>(DType::kCount) ? kTraits[i] : kTraits[0];
}

namespace {

template <typename T>
void store_as(int64_t value, uint8_t* elements, size_t index) {
  const auto v = static_cast<T>(value);
  std::memcpy(elements + sizeof(T) * index, &v, sizeof(T));
}

}  // namespace

void store_integer(DType dtype, int64_t value, uint8_t* elements, size_t index) {
  switch (dtype) {
    case DType::kInt8: return store_as<int8_t>(value, elements, index);
    case DType::kUInt8: return store_as<uint8_t>(value, elements, index);
    case DType::kInt16: return store_as<int16_t>(value, elements, index);
    case DType::kInt32: return store_as<int32_t>(value, elements, index);
    case DType::kInt64: return store_as<int64_t>(value, elements, index);
    default: return;
  }
}

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const auto& t : kTraits)
    if (name == t.name && t.dtype != DType::kUnknown) return t.dtype;
  return std::nullopt;
}

}  // namespace qdet
