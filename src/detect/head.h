// Detection heads: a model's raw output tensors -> candidate detections in model-input pixels.
//
//   yolox      [1, N, 5 + C] decoded: cx, cy, w, h in input pixels, objectness, C class scores
//              (probabilities). score = obj x class.
//   yolox_raw  [1, N, 5 + C] before YOLOX's grid decode (ONNX export with decode_in_inference
//              off): rows are the cells of the stride-8, 16 and 32 grids in row-major order;
//              cx = (t0 + gx) * s, cy = (t1 + gy) * s, w = exp(t2) * s, h = exp(t3) * s;
//              obj and classes already probabilities.
//   yolov5     [1, N, 5 + C]: cx, cy, w, h normalized to 0..1 (x input size), obj, classes.
//              score = obj x class.
//   yolo       darknet [yolo] layers (qdet convert of a .cfg): one output per layer, each the
//              layer's raw input [1, H, W, A * (5 + C)] (NHWC; channel a * (5 + C) + k), with
//              A anchors per cell given per output in HeadOptions::anchors (w, h in input pixels).
//              As darknet: cx = (gx + sigmoid(t0)) / W * input_width, cy likewise,
//              w = exp(t2) * anchor_w, h = exp(t3) * anchor_h, obj = sigmoid(t4),
//              score of class k = obj * sigmoid(t5+k); a cell whose obj is not > threshold is
//              skipped (darknet's rule).
//   gfl        NanoDet's Generalized Focal Loss head: per level (in `strides` order) two outputs,
//              class scores [1, N, C] (probabilities) then box distributions [1, N, 4 x B]
//              (left, top, right, bottom: B logits each), N = ceil(W / s) x ceil(H / s) cells in
//              row-major order. As NanoDet's get_bboxes: the cell's centre is
//              ((gx + 0.5) s, (gy + 0.5) s); each side's distance is s x the expected bin index
//              under the softmax of its B logits; boxes are clipped to the input; only the 1000
//              cells of a level with the best class scores are decoded.
//   fastestdet FastestDet: one output [1, H, W, 5 + C]: objectness (probability), tx, ty, tw, th,
//              C class probabilities. cx = (tanh(tx) + gx) / W x input_width, cy likewise,
//              w = sigmoid(tw) x input_width, h = sigmoid(th) x input_height;
//              score = obj^0.6 x class^0.4 (FastestDet's own score, as its C++ demos compute it).
//   ssd        TFLite_Detection_PostProcess outputs, in its order: boxes [1, K, 4] (ymin, xmin,
//              ymax, xmax normalized), classes [1, K], scores [1, K], count [1]. NMS already done
//              inside the model.
// Outputs may be float32, float16, uint8 or int8; integer outputs are dequantized with their
// scale and zero point. A candidate's score must be > score_threshold.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "detect/detection.h"
#include "tensor/dtype.h"
#include "tensor/shape.h"

namespace qdet::detect {

// A read-only view of one output tensor (e.g. the interpreter's output or a .bin file's bytes).
struct OutputView {
  std::span<const uint8_t> data;
  Shape shape;
  DType dtype = DType::kFloat32;
  float scale = 1.f;        // quantized outputs: real = scale * (q - zero_point)
  int32_t zero_point = 0;
  std::string name;         // for error messages

  int64_t num_elements() const { return ::qdet::num_elements(shape); }  // shape checked first
};

// How a model's class index becomes Detection::class_id.
enum class ClassMap {
  kIdentity,  // the model's index is the class
  kCoco91,    // TF Object Detection API models: index k is COCO category id k + 1, mapped to the
              // contiguous 80-class index; ids COCO does not use are dropped
};
const char* class_map_name(ClassMap map);
Result<ClassMap> parse_class_map(std::string_view name);

struct HeadOptions {
  int input_width = 0, input_height = 0;
  float score_threshold = 0.25f;
  bool multi_label = false;  // YOLO heads: one candidate per class above threshold, not just the best
  ClassMap class_map = ClassMap::kIdentity;
  std::vector<int> strides = {8, 16, 32};  // yolox_raw, gfl
  // yolo: per output (in output order), the (w, h) of each anchor in input pixels.
  std::vector<std::vector<std::array<float, 2>>> anchors;
};

struct HeadInfo {
  const char* name;
  Result<std::vector<Detection>> (*decode)(std::span<const OutputView> outputs, const HeadOptions& options);
  bool needs_nms;  // false when the model did NMS itself (ssd)
  int num_outputs;  // 0: one or more (yolo: one per [yolo] layer; gfl: two per level)
};

// All heads, and one by name (error lists the known names).
std::span<const HeadInfo> heads();
Result<const HeadInfo*> find_head(std::string_view name);

}  // namespace qdet::detect
