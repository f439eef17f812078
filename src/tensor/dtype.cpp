#include "tensor/dtype.h"

namespace qdet {
namespace {

constexpr DTypeTraits kTraits[] = {
    {DType::kUnknown, "unknown", 0, false, false},
    {DType::kFloat32, "float32", 4, true, false},
    {DType::kFloat16, "float16", 2, true, false},
    {DType::kInt8, "int8", 1, false, true},
    {DType::kUInt8, "uint8", 1, false, true},
    {DType::kInt16, "int16", 2, false, true},
    {DType::kInt32, "int32", 4, false, true},
    {DType::kInt64, "int64", 8, false, true},
    {DType::kBool, "bool", 1, false, false},
};
static_assert(sizeof(kTraits) / sizeof(kTraits[0]) == static_cast<size_t>(DType::kCount),
              "one row per DType");

}  // namespace

const DTypeTraits& dtype_traits(DType dtype) {
  auto i = static_cast<size_t>(dtype);
  return i < static_cast<size_t>(DType::kCount) ? kTraits[i] : kTraits[0];
}

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const auto& t : kTraits)
    if (name == t.name && t.dtype != DType::kUnknown) return t.dtype;
  return std::nullopt;
}

}  // namespace qdet
