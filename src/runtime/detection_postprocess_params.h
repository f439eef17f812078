// Options of the TFLite_Detection_PostProcess custom op, stored in the op's custom_options as
// a flexbuffer map (keys as TFLite's detection_postprocess.cc reads them). parse() verifies the
// buffer and checks every value; build() writes a map that TFLite reads back the same, keeping
// keys qdet does not interpret (e.g. "_output_quantized") with their values.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "base/status.h"
#include "graph/graph.h"

namespace qdet::rt {

struct DetectionPostProcessParams {
  int32_t max_detections = 10;
  int32_t max_classes_per_detection = 1;  // fast NMS: classes reported per box
  int32_t detections_per_class = 100;     // regular NMS: boxes kept per class
  bool use_regular_nms = false;
  float nms_score_threshold = 0.0f;       // scores >= threshold are candidates
  float nms_iou_threshold = 0.5f;         // in (0, 1]
  int32_t num_classes = 90;               // without the background class
  float y_scale = 10.0f, x_scale = 10.0f, h_scale = 5.0f, w_scale = 5.0f;

  // Keys parse() does not interpret, kept for build().
  using Extra = std::variant<bool, int64_t, uint64_t, double, std::string>;
  std::vector<std::pair<std::string, Extra>> extra;

  // Required keys: max_detections, max_classes_per_detection, nms_score_threshold,
  // nms_iou_threshold, num_classes, y_scale, x_scale, h_scale, w_scale; optional:
  // detections_per_class (100), use_regular_nms (false).
  static Result<DetectionPostProcessParams> parse(std::span<const uint8_t> options);
  std::vector<uint8_t> build() const;

  // Number of rows of the boxes/classes/scores outputs: max_detections * max_classes_per_detection.
  int32_t num_detected_boxes() const { return max_detections * max_classes_per_detection; }
};

// Rewrites op `op_index` (a TFLite_Detection_PostProcess) of `graph` with `params`: its custom
// options and its four output tensors' shapes ([1,N,4], [1,N], [1,N], [1]).
Status set_detection_postprocess_params(graph::Graph& graph, size_t op_index,
                                        const DetectionPostProcessParams& params);

}  // namespace qdet::rt
