// A COCO instances file (ground truth): images, annotations with boxes, categories.
// Segmentation is read past, not kept (qdet evaluates boxes).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"

namespace qdet::coco {

// A box in COCO's layout: top-left corner, width and height, in pixels.
struct BoxXywh {
  double x = 0, y = 0, w = 0, h = 0;
};

struct ImageInfo {
  int64_t id = 0;
  int64_t width = 0, height = 0;  // 0 when the file does not say
  std::string file_name;
};

struct CategoryInfo {
  int64_t id = 0;
  std::string name;
  std::string supercategory;
};

struct Annotation {
  int64_t id = 0;
  int64_t image_id = 0;
  int64_t category_id = 0;
  BoxXywh bbox;
  double area = 0;       // the file's `area` (the mask's area in COCO), used for area ranges
  bool iscrowd = false;
  bool ignore = false;   // the optional `ignore` field; pycocotools does not use it (EvalOptions)
};

class Dataset {
 public:
  std::vector<ImageInfo> images;          // file order
  std::vector<CategoryInfo> categories;   // file order
  std::vector<Annotation> annotations;    // file order

  // Builds the id lookups; fails on duplicate image, category or annotation ids.
  // The loaders call it; call it again after editing the vectors by hand.
  Status build_index();
  const ImageInfo* find_image(int64_t id) const;
  const CategoryInfo* find_category(int64_t id) const;

 private:
  std::unordered_map<int64_t, size_t> image_index_;
  std::unordered_map<int64_t, size_t> category_index_;
};

// Reads an instances JSON file (e.g. instances_val2017.json). Each annotation needs id,
// image_id, category_id, bbox [x,y,w,h] (w,h >= 0) and area; iscrowd and ignore are optional
// (default 0). Errors name the file, the element and the field.
Result<Dataset> load_instances(const std::filesystem::path& path);
// The same from text in memory; `source` names it in messages.
Result<Dataset> parse_instances(std::string_view json, std::string_view source = "<memory>");

}  // namespace qdet::coco
