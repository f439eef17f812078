// Internal to src/coco: pycocotools' computeIoU + evaluateImg for one (image, category) and
// every area range, producing per-detection bit masks over the IoU thresholds.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "coco/eval_params.h"

namespace qdet::coco::detail {

struct GtBox {
  double x1, y1, x2, y2;  // x2 = x + w, y2 = y + h, as maskApi.c's bbIou adds them
  double box_area;        // w * h: the union term of the IoU
  double area;            // the annotation's `area`: decides the area range
  bool crowd;             // iscrowd: may match many detections; IoU over the detection's area
  bool ignore;            // pycocotools' gt['ignore'] (= iscrowd, or also the ignore flag)
  bool id_nonzero;        // pycocotools records matches by gt id, so a gt with id 0 matches
                          // like any other but its detection then counts as unmatched
};

struct DtBox {
  double x1, y1, x2, y2;
  double area;  // w * h (loadRes sets a result's area to the box area)
};

// Per detection and area range a: masks[2a] has bit t set when the detection is a true
// positive at IoU threshold t, masks[2a+1] when it is a false positive; neither means ignored.
struct MatchConfig {
  std::span<const double> thresholds;  // min(t, 1 - 1e-10) for each IoU threshold
  std::span<const AreaRange> areas;
};

struct ImageEvalScratch {
  std::vector<double> iou;         // [D][G], ground truth in file order
  std::vector<double> iou_sorted;  // [D][G], ground truth ignored-last for one area range
  std::vector<double> max_iou;     // [D]
  std::vector<uint32_t> order;     // [G]
  std::vector<uint8_t> gt_ignore, gt_crowd, gt_id_nonzero, gt_matched;
};

// `dts` sorted by score, highest first (stable), already cut to the largest maxDets.
// Writes 2 * areas.size() masks per detection to `masks`.
void evaluate_image_category(std::span<const GtBox> gts, std::span<const DtBox> dts,
                             const MatchConfig& config, ImageEvalScratch& scratch,
                             uint16_t* masks);

}  // namespace qdet::coco::detail
