// How to run a detector: preprocessing, head and defaults, as one struct. Built-in presets
// cover the shipped models; a JSON sidecar (MODEL.qdet.json) overrides any field; the shipped
// model families are recognised from their tensors and ops.
#pragma once

#include <array>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "detect/head.h"
#include "image/preprocess.h"
#include "tensor/dtype.h"
#include "tensor/shape.h"

namespace qdet::graph {
struct Graph;
}

namespace qdet::detect {

// How a model's own project evaluates it on COCO: `qdet eval`'s defaults (its command-line
// options override them). `qdet detect` uses the Preset's own thresholds instead.
struct EvalSettings {
  float score_threshold = 0.001f;
  float iou_threshold = 0.65f;
  int max_detections = 100;   // per image after NMS, all classes together; 0: no limit
  bool multi_label = false;   // YOLO heads: every class above the threshold gives a box
  bool clip_boxes = true;     // clip boxes to the image before writing them
  // Models with TFLite_Detection_PostProcess: its max_detections is raised to this (and its
  // score threshold lowered to score_threshold); 0 keeps the model's post-processing as shipped.
  int postprocess_max_detections = 100;
  std::string source;         // whose evaluation these settings follow (printed by qdet eval)
};

struct Preset {
  std::string name;
  std::string description;
  // Preprocessing (image/preprocess.h).
  int input_width = 0, input_height = 0;
  image::ResizeMode resize = image::ResizeMode::kStretch;
  uint8_t pad_value = 114;
  image::ChannelOrder order = image::ChannelOrder::kRgb;
  std::array<float, 3> mean{0.f, 0.f, 0.f};  // value = (pixel - mean) / std, per tensor channel
  std::array<float, 3> std{1.f, 1.f, 1.f};
  image::Layout layout = image::Layout::kNhwc;
  // The input type of the model the preset was made for; a loaded model's own type (and its
  // quantization) wins.
  DType input_dtype = DType::kFloat32;
  // Quantization of a uint8/int8 input when no model says otherwise (a loaded model's wins).
  float input_scale = 1.f;
  int32_t input_zero_point = 0;
  // Head and post-processing.
  std::string head;  // head.h: yolox, yolox_raw, yolov5, ssd, yolo, gfl, fastestdet
  ClassMap class_map = ClassMap::kIdentity;
  std::vector<int> strides = {8, 16, 32};  // yolox_raw, gfl
  std::vector<std::vector<std::array<float, 2>>> anchors;  // yolo: per output, (w, h) pixels
  float score_threshold = 0.3f;
  float iou_threshold = 0.45f;
  int max_detections = 100;
  bool multi_label = false;
  bool clip_boxes = true;  // clip boxes to the source image (boxes left without area dropped)
  std::string labels = "coco80";  // "coco80" or a label file path
  EvalSettings eval;

  // The tensor format for building inputs (input_dtype, input_scale, input_zero_point).
  image::TensorFormat tensor_format() const;
};

std::span<const Preset> builtin_presets();
// A built-in preset by name; the error lists the known names.
Result<Preset> find_preset(std::string_view name);

// MODEL.qdet.json beside the model: "yolox.tflite" -> "yolox.qdet.json".
std::filesystem::path sidecar_path(const std::filesystem::path& model);

// Applies a sidecar's JSON object to `base`. Keys (all optional):
//   preset (a built-in name: start from it instead of `base`), description,
//   input_size (N or [W, H]), resize (stretch | letterbox_topleft | letterbox_center),
//   pad_value (0..255), channel_order (rgb | bgr), mean ([3] or one number), std (same),
//   layout (nhwc | nchw), head, class_map (identity | coco91), strides ([..]),
//   anchors ([[[w, h], ...] per output]: the yolo head),
//   score_threshold, iou_threshold, max_detections, multi_label, clip_boxes, labels,
//   eval (an object with any of score_threshold, iou_threshold, max_detections (0: no limit),
//   multi_label, clip_boxes, postprocess_max_detections, source: EvalSettings).
// Unknown keys, wrong types and bad values are errors naming `source` and the key; malformed
// JSON is an error with its line and column.
Result<Preset> apply_sidecar(const Preset& base, std::string_view json_text, std::string_view source);
// Reads and applies a sidecar file.
Result<Preset> load_sidecar(const Preset& base, const std::filesystem::path& path);

// What recognition looks at: tensor shapes and types, and the set of op names.
struct TensorSignature {
  Shape shape;
  DType dtype = DType::kFloat32;
};
struct ModelSignature {
  std::vector<TensorSignature> inputs, outputs;
  std::vector<std::string> ops;  // graph::op_name of every op kind present (custom ops by code)
};
ModelSignature signature_of(const graph::Graph& graph);

// The preset for a model of a shipped family, recognised by structure, not file name:
//   SSD: one [1,H,W,3] input, 4 outputs ([1,K,4], [1,K], [1,K], [1], or shapes left empty as
//     files often have them), TFLite_Detection_PostProcess in the graph.
//   YOLOX: [1,S,S,3] float input, one [1,N,85] output with N = sum over strides 8/16/32 of
//     (S/s)^2; EXP in the graph (the decode tail) -> yolox_nano, else yolox_nano_raw.
//   YOLOv5: [1,S,S,3] input (float or uint8), one [1,3N,85] output (three anchors per cell).
//   NanoDet (gfl): pairs of outputs [1,N,C] (class scores) and [1,N,4B] (box distributions),
//     one pair per stride 8, 16, 32 (and further strides 64, 128.. when there are more pairs),
//     N = ceil(S/s)^2 -> nanodet_m with those strides.
//   FastestDet: one [1,S/16,S/16,5+C] output (NHWC grid) -> fastestdet.
// The preset's input size follows the model. Error when nothing matches (pass --preset or a sidecar).
Result<Preset> recognize(const ModelSignature& signature);

}  // namespace qdet::detect
