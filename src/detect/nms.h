// Non-maximum suppression and the mapping of boxes back to the original image.
#pragma once

#include <vector>

#include "detect/detection.h"
#include "image/preprocess.h"

namespace qdet::detect {

struct NmsOptions {
  float iou_threshold = 0.45f;  // a box is suppressed when its IoU with a kept box is > this
  int max_detections = 100;     // kept boxes at most (best scores); <= 0: no limit
  bool class_agnostic = false;  // false: boxes suppress only boxes of their own class
  int max_candidates = 30000;   // only the best-scoring candidates enter NMS; <= 0: all
};

// Greedy NMS in score order. Deterministic: equal scores keep their input order (stable sort).
// Candidates with a NaN score or coordinate are dropped. Output sorted by score, descending.
std::vector<Detection> nms(std::vector<Detection> candidates, const NmsOptions& options);

// From model-input pixels to source-image pixels through the preprocessing geometry, clipped
// to [0, width] x [0, height] when `clip` (boxes left with no area after clipping are dropped);
// unclipped, only boxes without area are dropped.
std::vector<Detection> map_to_source(std::vector<Detection> detections, const image::Geometry& g,
                                     bool clip = true);

}  // namespace qdet::detect
