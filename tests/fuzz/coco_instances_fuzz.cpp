// COCO instances (ground truth) JSON on arbitrary bytes; accepted data evaluates against an
// empty results list and against its own boxes as detections.
#include <string_view>

#include "coco/dataset.h"
#include "coco/evaluator.h"
#include "fuzz_target.h"

QDET_FUZZ_TARGET(coco_instances) {
  auto ds = qdet::coco::parse_instances(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json");
  if (!ds.ok()) return 0;
  if (ds->annotations.size() > 2000) return 0;  // evaluation cost, not parsing, beyond this
  std::vector<qdet::coco::Detection> dets;
  for (const auto& a : ds->annotations)
    dets.push_back({.image_id = a.image_id, .category_id = a.category_id, .bbox = a.bbox, .score = 0.5});
  (void)qdet::coco::evaluate_detections(*ds, {});
  (void)qdet::coco::evaluate_detections(*ds, dets);
  return 0;
}
