// Class names. COCO's 80 detection classes are built in, with the official category ids
// (1..90 with gaps: 91 ids in the original paper's list, 80 used) and the maps between the two.
#pragma once

#include <array>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace qdet::detect {

inline constexpr int kCocoClasses = 80;
inline constexpr int kCocoMaxId = 90;

// Contiguous index 0..79 -> name ("person" ... "toothbrush").
std::span<const char* const> coco80_names();
// Contiguous index 0..79 -> official COCO category id (1..90); -1 when out of range.
int coco80_to_id(int index);
// Official category id -> contiguous index; -1 for the 11 unused ids and anything out of range.
int coco_id_to_80(int id);

// Reads a label file: one name per line (.txt / .names), '\r' and trailing blanks stripped,
// trailing empty lines ignored. Line i names class i ("???" placeholders keep their index).
Result<std::vector<std::string>> load_labels(const std::filesystem::path& path);

// "coco80": the built-in names; otherwise a label file path.
Result<std::vector<std::string>> resolve_labels(std::string_view spec);

// Name of class `id` or "class <id>" when the list has none.
std::string label_name(std::span<const std::string> labels, int id);

}  // namespace qdet::detect
