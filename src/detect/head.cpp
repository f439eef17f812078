#include "detect/head.h"

#include <string>

#include "detect/head_common.h"

namespace qdet::detect {

// Implemented in yolo_heads.cpp, ssd_head.cpp, darknet_yolo_head.cpp, gfl_head.cpp and
// fastestdet_head.cpp.
Result<std::vector<Detection>> decode_yolox(std::span<const OutputView>, const HeadOptions&);
Result<std::vector<Detection>> decode_yolox_raw(std::span<const OutputView>, const HeadOptions&);
Result<std::vector<Detection>> decode_yolov5(std::span<const OutputView>, const HeadOptions&);
Result<std::vector<Detection>> decode_ssd(std::span<const OutputView>, const HeadOptions&);
Result<std::vector<Detection>> decode_yolo(std::span<const OutputView>, const HeadOptions&);
Result<std::vector<Detection>> decode_gfl(std::span<const OutputView>, const HeadOptions&);
Result<std::vector<Detection>> decode_fastestdet(std::span<const OutputView>, const HeadOptions&);

namespace {

constexpr HeadInfo kHeads[] = {
    {"yolox", decode_yolox, true, 1},
    {"yolox_raw", decode_yolox_raw, true, 1},
    {"yolov5", decode_yolov5, true, 1},
    {"ssd", decode_ssd, false, 4},
    {"yolo", decode_yolo, true, 0},
    {"gfl", decode_gfl, true, 0},
    {"fastestdet", decode_fastestdet, true, 1},
};

}  // namespace

std::span<const HeadInfo> heads() { return kHeads; }

Result<const HeadInfo*> find_head(std::string_view name) {
  std::string known;
  for (const HeadInfo& h : kHeads) {
    if (name == h.name) return &h;
    known += known.empty() ? "" : ", ";
    known += h.name;
  }
  return not_found("unknown detection head '{}' (known: {})", name, known);
}

const char* class_map_name(ClassMap map) {
  return map == ClassMap::kCoco91 ? "coco91" : "identity";
}

Result<ClassMap> parse_class_map(std::string_view name) {
  if (name == "identity") return ClassMap::kIdentity;
  if (name == "coco91") return ClassMap::kCoco91;
  return invalid_argument("unknown class map '{}' (expected identity or coco91)", name);
}

namespace internal {

Status check_view(const OutputView& v) {
  auto n = checked_num_elements(v.shape);
  if (!n) return invalid_argument("output '{}': invalid shape {}", v.name, shape_to_string(v.shape));
  if (v.dtype == DType::kUnknown || v.dtype >= DType::kCount)
    return invalid_argument("output '{}': unknown type", v.name);
  const size_t want = static_cast<size_t>(*n) * dtype_size(v.dtype);
  if (v.data.size() != want)
    return invalid_argument("output '{}': {} bytes for shape {} of {} (expected {})", v.name,
                            v.data.size(), shape_to_string(v.shape), dtype_name(v.dtype), want);
  return ok_status();
}

}  // namespace internal
}  // namespace qdet::detect
