#include "detect/labels.h"

#include <fmt/format.h>

#include "base/file.h"

namespace qdet::detect {
namespace {

constexpr std::array<const char*, kCocoClasses> kNames = {
    "person",        "bicycle",      "car",           "motorcycle",    "airplane",     "bus",
    "train",         "truck",        "boat",          "traffic light", "fire hydrant", "stop sign",
    "parking meter", "bench",        "bird",          "cat",           "dog",          "horse",
    "sheep",         "cow",          "elephant",      "bear",          "zebra",        "giraffe",
    "backpack",      "umbrella",     "handbag",       "tie",           "suitcase",     "frisbee",
    "skis",          "snowboard",    "sports ball",   "kite",          "baseball bat", "baseball glove",
    "skateboard",    "surfboard",    "tennis racket", "bottle",        "wine glass",   "cup",
    "fork",          "knife",        "spoon",         "bowl",          "banana",       "apple",
    "sandwich",      "orange",       "broccoli",      "carrot",        "hot dog",      "pizza",
    "donut",         "cake",         "chair",         "couch",         "potted plant", "bed",
    "dining table",  "toilet",       "tv",            "laptop",        "mouse",        "remote",
    "keyboard",      "cell phone",   "microwave",     "oven",          "toaster",      "sink",
    "refrigerator",  "book",         "clock",         "vase",          "scissors",     "teddy bear",
    "hair drier",    "toothbrush",
};

// Official instances_*.json category ids of the 80 classes, in contiguous order.
constexpr std::array<int, kCocoClasses> kIds = {
    1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21,
    22, 23, 24, 25, 27, 28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44,
    46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65,
    67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90,
};

constexpr bool ids_increasing() {
  for (size_t i = 1; i < kIds.size(); ++i)
    if (kIds[i] <= kIds[i - 1]) return false;
  return kIds.front() == 1 && kIds.back() == kCocoMaxId;
}
static_assert(kNames.size() == 80 && kIds.size() == 80, "COCO has 80 detection classes");
static_assert(ids_increasing(), "COCO ids are 1..90, increasing");
static_assert(kCocoMaxId + 1 - kCocoClasses == 11, "11 of the 91 ids (0..90) are unused (0 included)");

constexpr std::array<int, kCocoMaxId + 1> make_inverse() {
  std::array<int, kCocoMaxId + 1> inv{};
  for (auto& v : inv) v = -1;
  for (size_t i = 0; i < kIds.size(); ++i) inv[kIds[i]] = static_cast<int>(i);
  return inv;
}
constexpr std::array<int, kCocoMaxId + 1> kInverse = make_inverse();
static_assert(kInverse[18] == 16, "COCO id 18 is dog, index 16");

}  // namespace

std::span<const char* const> coco80_names() { return kNames; }

int coco80_to_id(int index) { return index >= 0 && index < kCocoClasses ? kIds[index] : -1; }

int coco_id_to_80(int id) { return id >= 0 && id <= kCocoMaxId ? kInverse[id] : -1; }

Result<std::vector<std::string>> load_labels(const std::filesystem::path& path) {
  QDET_ASSIGN_OR_RETURN(std::string text, read_text_file(path));
  std::vector<std::string> labels;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
      line.pop_back();
    labels.push_back(std::move(line));
    start = end + 1;
  }
  while (!labels.empty() && labels.back().empty()) labels.pop_back();
  if (labels.empty()) return parse_error("{}: label file has no labels", path.string());
  return labels;
}

Result<std::vector<std::string>> resolve_labels(std::string_view spec) {
  if (spec == "coco80") return std::vector<std::string>(kNames.begin(), kNames.end());
  return load_labels(std::filesystem::path(spec));
}

std::string label_name(std::span<const std::string> labels, int id) {
  if (id >= 0 && static_cast<size_t>(id) < labels.size() && !labels[id].empty()) return labels[id];
  return fmt::format("class {}", id);
}

}  // namespace qdet::detect
