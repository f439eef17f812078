// Element types, described once by a table (ggml's type_traits habit).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace qdet {

enum class DType : uint8_t {
  kUnknown = 0,
  kFloat32,
  kFloat16,
  kInt8,
  kUInt8,
  kInt16,
  kInt32,
  kInt64,
  kBool,
  kCount,
};

struct DTypeTraits {
  DType dtype;
  const char* name;  // "float32", "int8", ...
  size_t size;       // bytes per element
  bool is_float;
  bool is_quantizable;  // integer types that may carry scale/zero point
  int64_t min_value;    // the integer types' range; 0 for the others
  int64_t max_value;
};

const DTypeTraits& dtype_traits(DType dtype);
inline size_t dtype_size(DType dtype) { return dtype_traits(dtype).size; }
inline const char* dtype_name(DType dtype) { return dtype_traits(dtype).name; }
std::optional<DType> dtype_from_name(std::string_view name);

// Writes the integer `value` as element `index` of a buffer of `dtype` elements (int8 ... int64,
// native byte order), truncated to the type as a cast truncates. Other dtypes write nothing.
void store_integer(DType dtype, int64_t value, uint8_t* elements, size_t index);

// The DType of a C++ element type (kUnknown for others): kDTypeOf<int8_t> is DType::kInt8.
template <typename T>
inline constexpr DType kDTypeOf = DType::kUnknown;
template <> inline constexpr DType kDTypeOf<float> = DType::kFloat32;
template <> inline constexpr DType kDTypeOf<int8_t> = DType::kInt8;
template <> inline constexpr DType kDTypeOf<uint8_t> = DType::kUInt8;
template <> inline constexpr DType kDTypeOf<int16_t> = DType::kInt16;
template <> inline constexpr DType kDTypeOf<int32_t> = DType::kInt32;
template <> inline constexpr DType kDTypeOf<int64_t> = DType::kInt64;
template <> inline constexpr DType kDTypeOf<bool> = DType::kBool;

}  // namespace qdet
