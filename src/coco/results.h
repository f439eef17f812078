// Detections in the COCO results format: a JSON list of
//   {"image_id": 139, "category_id": 1, "bbox": [x, y, w, h], "score": 0.99}
// Reading also accepts a dataset dict whose `annotations` list holds the detections.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "coco/dataset.h"

namespace qdet::coco {

struct Detection {
  int64_t image_id = 0;
  int64_t category_id = 0;  // official id (1..90 for COCO), not a contiguous class index
  BoxXywh bbox;
  double score = 0;
};

// Checks one detection: finite score and box, width and height >= 0.
// `index` names it in the message ("detection 17: ...").
Status validate_detection(const Detection& d, size_t index);

// Reads a results file. Each element needs image_id, category_id, bbox and score; other fields
// (id, area, segmentation) are ignored, as pycocotools' loadRes recomputes them.
Result<std::vector<Detection>> load_results(const std::filesystem::path& path);
Result<std::vector<Detection>> parse_results(std::string_view json,
                                             std::string_view source = "<memory>");

// The results list as JSON text, one detection per line; numbers print in their shortest form
// that reads back to the same double.
std::string results_to_json(std::span<const Detection> detections);
// Appends the JSON object of one detection (no separators) to `out`.
void append_detection_json(const Detection& d, std::string* out);
// Writes results_to_json atomically (temporary file, then rename).
Status write_results(const std::filesystem::path& path, std::span<const Detection> detections);

}  // namespace qdet::coco
