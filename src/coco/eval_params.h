// COCOeval parameters for boxes, as pycocotools' Params.setDetParams() sets them.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace qdet::coco {

struct AreaRange {
  std::string label;  // "all", "small", "medium", "large"
  double lo = 0, hi = 0;  // inclusive on both ends, compared with the annotation's `area`
};

struct EvalParams {
  std::vector<double> iou_thresholds;     // T values; at most kMaxIouThresholds
  std::vector<double> recall_thresholds;  // R values, ascending
  std::vector<int> max_dets;              // M values, ascending (summary uses the first three)
  std::vector<AreaRange> area_ranges;     // A ranges; at most kMaxAreaRanges

  // pycocotools' defaults: IoU np.linspace(.5, .95, 10), recall np.linspace(0, 1, 101),
  // maxDets [1, 10, 100], areas all [0, 1e10], small [0, 32²], medium [32², 96²], large [96², 1e10].
  static EvalParams coco_defaults();
  Status validate() const;
};

inline constexpr size_t kMaxIouThresholds = 16;
inline constexpr size_t kMaxAreaRanges = 8;

// numpy.linspace(start, stop, num) with endpoint=True, value for value: start + i*step with
// step = (stop-start)/(num-1), the last value exactly `stop`. (The 9th IoU threshold is
// 0.8999999999999999, not 0.9, as in pycocotools.)
std::vector<double> numpy_linspace(double start, double stop, int num);

}  // namespace qdet::coco
