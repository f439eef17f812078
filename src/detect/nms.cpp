#include "detect/nms.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_map>

namespace qdet::detect {

std::vector<Detection> nms(std::vector<Detection> candidates, const NmsOptions& options) {
  std::erase_if(candidates, [](const Detection& d) {
    return std::isnan(d.score) || std::isnan(d.x0) || std::isnan(d.y0) || std::isnan(d.x1) ||
           std::isnan(d.y1);
  });
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Detection& a, const Detection& b) { return a.score > b.score; });
  if (options.max_candidates > 0 && candidates.size() > static_cast<size_t>(options.max_candidates))
    candidates.resize(options.max_candidates);
  const size_t limit = options.max_detections > 0 ? static_cast<size_t>(options.max_detections)
                                                  : candidates.size();
  std::vector<Detection> kept;
  // Kept boxes per class (all in one list when class-agnostic), indices into `kept`.
  std::unordered_map<int, std::vector<size_t>> by_class;
  for (const Detection& d : candidates) {
    if (kept.size() >= limit) break;
    std::vector<size_t>& same = by_class[options.class_agnostic ? 0 : d.class_id];
    bool suppressed = false;
    for (size_t k : same)
      if (iou(kept[k], d) > options.iou_threshold) {
        suppressed = true;
        break;
      }
    if (suppressed) continue;
    same.push_back(kept.size());
    kept.push_back(d);
  }
  return kept;
}

std::vector<Detection> map_to_source(std::vector<Detection> detections, const image::Geometry& g,
                                     bool clip) {
  const float inf = std::numeric_limits<float>::infinity();
  const float w = clip ? static_cast<float>(g.source_width) : inf;
  const float h = clip ? static_cast<float>(g.source_height) : inf;
  const float lo = clip ? 0.f : -inf;
  std::vector<Detection> out;
  out.reserve(detections.size());
  for (Detection d : detections) {
    d.x0 = std::clamp(static_cast<float>(g.to_source_x(d.x0)), lo, w);
    d.x1 = std::clamp(static_cast<float>(g.to_source_x(d.x1)), lo, w);
    d.y0 = std::clamp(static_cast<float>(g.to_source_y(d.y0)), lo, h);
    d.y1 = std::clamp(static_cast<float>(g.to_source_y(d.y1)), lo, h);
    if (d.x1 > d.x0 && d.y1 > d.y0) out.push_back(d);
  }
  return out;
}

}  // namespace qdet::detect
