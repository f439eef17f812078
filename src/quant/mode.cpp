#include "quant/mode.h"

#include <array>
#include <string>

#include <fmt/format.h>

namespace qdet::quant {
namespace {

constexpr std::array<ModeInfo, 5> kModes = {{
    {Mode::kFloat, "float", "fp32", "fp32,float32", false, "float32 / float32", DType::kFloat32},
    {Mode::kFp16, "fp16", "fp16", "float16", false, "float16 / float32", DType::kFloat32},
    {Mode::kDynamic, "dynamic", "dynamic", "dynamic-range,hybrid", false, "int8 / float32", DType::kFloat32},
    {Mode::kInt8, "int8", "int8", "full-int8", true, "int8 / int8", DType::kInt8},
    {Mode::kInt16x8, "int16x8", "int16x8", "16x8", true, "int8 / int16", DType::kInt16},
}};

constexpr bool rows_in_enum_order() {
  for (size_t i = 0; i < kModes.size(); ++i)
    if (static_cast<size_t>(kModes[i].mode) != i) return false;
  return true;
}
static_assert(rows_in_enum_order(), "one row per Mode, in the enum's order");

bool in_list(std::string_view list, std::string_view name) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    if (list.substr(0, comma) == name) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

std::span<const ModeInfo> mode_table() { return kModes; }

const ModeInfo& mode_info(Mode m) { return kModes[static_cast<size_t>(m)]; }

const char* mode_name(Mode m) { return mode_info(m).name; }

Result<Mode> parse_mode(std::string_view name) {
  for (const ModeInfo& m : kModes)
    if (name == m.name || name == m.study_name || in_list(m.aliases, name)) return m.mode;
  std::string names;
  for (const ModeInfo& m : kModes) names += fmt::format("{}{}", names.empty() ? "" : ", ", m.name);
  return invalid_argument("unknown mode '{}' ({})", name, names);
}

}  // namespace qdet::quant
