// A detection: a box in pixels, a class and a score.
#pragma once

#include <algorithm>

namespace qdet::detect {

struct Detection {
  // Corners in continuous pixel coordinates (x grows right, y down). Heads produce them in
  // model-input pixels; after map_to_source they are in original-image pixels.
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  // 0-based contiguous COCO-80 index for COCO models (see labels.h), else the model's own index.
  int class_id = 0;
  float score = 0;

  float width() const { return x1 - x0; }
  float height() const { return y1 - y0; }
  float area() const { return std::max(0.f, x1 - x0) * std::max(0.f, y1 - y0); }
};

// Intersection over union of two boxes; 0 when the union is empty (degenerate boxes).
inline float iou(const Detection& a, const Detection& b) {
  const float iw = std::min(a.x1, b.x1) - std::max(a.x0, b.x0);
  const float ih = std::min(a.y1, b.y1) - std::max(a.y0, b.y0);
  if (iw <= 0.f || ih <= 0.f) return 0.f;
  const float inter = iw * ih;
  const float uni = a.area() + b.area() - inter;
  return uni > 0.f ? inter / uni : 0.f;
}

}  // namespace qdet::detect
