// COCO label maps: the 80 detection classes in their contiguous order (what most detectors
// output, class index 0..79) and the official category ids 1..90 with gaps (what annotation and
// results files use). The ten ids without instances in any COCO release (12, 26, 29, 30, 45,
// 66, 68, 69, 71, 83) map to no class.
#pragma once

#include <array>
#include <span>
#include <string_view>

namespace qdet::coco {

inline constexpr int kNumCocoClasses = 80;
inline constexpr int kMaxCocoCategoryId = 90;

// Official category id (1..90) of contiguous class index 0..79; -1 when out of range.
int coco_category_id_from_class80(int class_index);
// Contiguous class index 0..79 of an official category id; -1 for ids without a class.
int coco_class80_from_category_id(int category_id);
// English name of an official category id ("person" for 1); empty for ids without a class.
std::string_view coco_category_name(int category_id);
// Name of contiguous class index 0..79 ("person" for 0); empty when out of range.
std::string_view coco_class80_name(int class_index);
// The 80 official category ids in contiguous order.
std::span<const int, kNumCocoClasses> coco_category_ids80();

}  // namespace qdet::coco
