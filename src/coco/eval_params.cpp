#include "coco/eval_params.h"

#include <algorithm>
#include <cmath>

namespace qdet::coco {

std::vector<double> numpy_linspace(double start, double stop, int num) {
  std::vector<double> out;
  if (num <= 0) return out;
  out.resize(num);
  if (num == 1) {
    out[0] = start;
    return out;
  }
  const double step = (stop - start) / (num - 1);
  for (int i = 0; i < num; ++i) out[i] = static_cast<double>(i) * step + start;
  out[num - 1] = stop;
  return out;
}

EvalParams EvalParams::coco_defaults() {
  EvalParams p;
  // int(np.round((0.95 - .5) / .05)) + 1 == 10 and int(np.round((1.00 - .0) / .01)) + 1 == 101.
  p.iou_thresholds = numpy_linspace(0.5, 0.95, 10);
  p.recall_thresholds = numpy_linspace(0.0, 1.0, 101);
  p.max_dets = {1, 10, 100};
  p.area_ranges = {{"all", 0.0, 1e5 * 1e5},
                   {"small", 0.0, 32.0 * 32.0},
                   {"medium", 32.0 * 32.0, 96.0 * 96.0},
                   {"large", 96.0 * 96.0, 1e5 * 1e5}};
  return p;
}

Status EvalParams::validate() const {
  if (iou_thresholds.empty() || iou_thresholds.size() > kMaxIouThresholds)
    return invalid_argument("eval params: {} IoU thresholds (1 to {} supported)",
                            iou_thresholds.size(), kMaxIouThresholds);
  for (double t : iou_thresholds)
    if (!(t >= 0 && t <= 1)) return invalid_argument("eval params: IoU threshold {} not in [0, 1]", t);
  if (recall_thresholds.empty())
    return invalid_argument("eval params: no recall thresholds");
  if (!std::is_sorted(recall_thresholds.begin(), recall_thresholds.end()) ||
      std::any_of(recall_thresholds.begin(), recall_thresholds.end(),
                  [](double r) { return !std::isfinite(r); }))
    return invalid_argument("eval params: recall thresholds must be finite and ascending");
  if (max_dets.empty() || !std::is_sorted(max_dets.begin(), max_dets.end()) || max_dets.front() < 1 ||
      max_dets.back() > 65535)
    return invalid_argument("eval params: max_dets must be ascending, in 1..65535");
  if (area_ranges.empty() || area_ranges.size() > kMaxAreaRanges)
    return invalid_argument("eval params: {} area ranges (1 to {} supported)", area_ranges.size(),
                            kMaxAreaRanges);
  return ok_status();
}

}  // namespace qdet::coco
