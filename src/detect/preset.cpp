#include "detect/preset.h"

#include <string>

namespace qdet::detect {
namespace {

using image::ChannelOrder;
using image::Layout;
using image::ResizeMode;

EvalSettings eval_settings(float score, float iou, int max_detections, bool multi_label, bool clip,
                           const char* source) {
  EvalSettings e;
  e.score_threshold = score;
  e.iou_threshold = iou;
  e.max_detections = max_detections;
  e.multi_label = multi_label;
  e.clip_boxes = clip;
  e.source = source;
  return e;  // postprocess_max_detections: 100, COCO's per-image count
}

Preset make_yolox_nano() {
  Preset p;
  p.name = "yolox_nano";
  p.description = "YOLOX-Nano 416, decoded output (Megvii demo preprocessing: BGR 0..255, letterbox top-left, pad 114)";
  p.input_width = p.input_height = 416;
  p.resize = ResizeMode::kLetterboxTopLeft;
  p.order = ChannelOrder::kBgr;
  p.head = "yolox";
  p.score_threshold = 0.3f;
  p.iou_threshold = 0.45f;
  // YOLOX's evaluator (tools/eval.py --conf 0.001 as its README runs it; exp nmsthre 0.65):
  // score obj x best class, class-wise NMS (torchvision batched_nms), boxes divided by the
  // letterbox ratio and not clipped. YOLOX writes every kept box; qdet keeps COCO's 100 per
  // image (the official-runtime reference numbers on val2017-139 were made that way:
  // 30.34 / 47.85; every box gives 30.41 / 48.07).
  p.eval = eval_settings(0.001f, 0.65f, 100, /*multi_label=*/false, /*clip=*/false,
                         "YOLOX evaluator: conf 0.001, class-wise NMS 0.65, boxes not clipped; 100 per image");
  return p;
}

Preset make_yolox_nano_raw() {
  Preset p = make_yolox_nano();
  p.name = "yolox_nano_raw";
  p.description = "YOLOX-Nano 416, raw grid output (ONNX export without decode; grid/stride decode in qdet)";
  p.head = "yolox_raw";
  return p;
}

Preset make_ssd() {
  Preset p;
  p.name = "ssd_mobilenet_v1";
  p.description = "SSD MobileNet V1 300 (TF detection zoo, uint8, TFLite_Detection_PostProcess): RGB, stretched";
  p.input_width = p.input_height = 300;
  p.resize = ResizeMode::kStretch;
  // The model's input quantization (scale 1/128, zero point 128) means real = (q - 128) / 128:
  // with this mean/std the uint8 tensor holds the raw pixels, as TF's exporter intended.
  p.mean = {128.f, 128.f, 128.f};
  p.std = {128.f, 128.f, 128.f};
  p.input_dtype = DType::kUInt8;
  p.input_scale = 0.0078125f;
  p.input_zero_point = 128;
  p.head = "ssd";
  p.class_map = ClassMap::kCoco91;
  p.score_threshold = 0.5f;
  p.iou_threshold = 0.6f;  // unused (the model does NMS); its own nms_iou
  p.max_detections = 10;
  // TF Object Detection API evaluation: the model's own post-processing with its limit raised
  // to COCO's 100 detections per image (its NMS IoU 0.6 is the model's).
  p.eval = eval_settings(0.001f, 0.6f, 100, /*multi_label=*/false, /*clip=*/true,
                         "TF Object Detection API: the model's NMS with max_detections raised to 100");
  return p;
}

Preset make_yolov5n() {
  Preset p;
  p.name = "yolov5n";
  p.description = "YOLOv5n 640, TFLite export (RGB 0..1, letterbox centred, pad 114)";
  p.input_width = p.input_height = 640;
  p.resize = ResizeMode::kLetterboxCenter;
  p.std = {255.f, 255.f, 255.f};
  p.head = "yolov5";
  p.score_threshold = 0.25f;
  p.iou_threshold = 0.45f;
  // YOLOv5's val.py: conf 0.001, NMS IoU 0.6, multi-label (every class above conf), boxes
  // scaled back and clipped to the image. val.py keeps 300 per image; qdet keeps COCO's 100
  // (the same AP on val2017-139: 32.1 for the fp16 model either way).
  p.eval = eval_settings(0.001f, 0.6f, 100, /*multi_label=*/true, /*clip=*/true,
                         "YOLOv5 val.py: conf 0.001, NMS 0.6, multi-label, boxes clipped; 100 per image");
  return p;
}

Preset make_yolov5n_uint8() {
  Preset p = make_yolov5n();
  p.name = "yolov5n_uint8";
  p.description = "YOLOv5n 640, full-integer TFLite export with uint8 input (raw pixels)";
  p.input_dtype = DType::kUInt8;
  p.input_scale = 1.f / 255.f;
  p.input_zero_point = 0;
  return p;
}

// darknet YOLO networks converted by qdet (the sidecar `qdet convert` writes names this preset
// and adds the input size, anchors and labels of the network).
Preset make_darknet_yolo() {
  Preset p;
  p.name = "darknet_yolo";
  p.description = "darknet [yolo] network converted by qdet: RGB 0..1, darknet's letterbox (0.5 fill)";
  p.input_width = p.input_height = 416;
  p.resize = ResizeMode::kLetterboxDarknet;
  p.pad_value = 127;  // unused by letterbox_darknet (it fills 0.5); kept for other resize modes
  p.std = {255.f, 255.f, 255.f};
  p.head = "yolo";
  p.multi_label = true;  // darknet reports every class above the threshold
  p.score_threshold = 0.5f;  // `darknet detector test`'s default -thresh
  p.iou_threshold = 0.45f;
  // `darknet detector valid` (validate_detector): thresh 0.005, NMS 0.45 per class, every class
  // above the threshold, boxes clipped to the image (print_cocos); darknet has no per-image
  // limit, qdet keeps COCO's 100 per image.
  p.eval = eval_settings(0.005f, 0.45f, 100, /*multi_label=*/true, /*clip=*/true,
                         "darknet detector valid: thresh 0.005, NMS 0.45, multi-label, clipped; 100 per image");
  return p;
}

// NanoDet-m (RangiLyu/nanodet, v0.x GFL head; the ONNX export with sigmoid class scores).
Preset make_nanodet_m() {
  Preset p;
  p.name = "nanodet_m";
  p.description = "NanoDet-m 416 (GFL head): BGR, mean/std normalized, letterbox centred (INTER_AREA), pad 0";
  p.input_width = p.input_height = 416;
  // The ONNX model's own demo (hpc203/nanodet-opncv-dnn-cpp-python): the longer side resized to
  // 416 with INTER_AREA, centred, the border black; then NanoDet's BGR mean and std. (NanoDet's
  // val pipeline warps with bilinear sampling instead: 26.5 AP here against 27.0, the
  // reference made with this preprocessing.)
  p.resize = ResizeMode::kLetterboxCenterArea;
  p.pad_value = 0;
  p.order = ChannelOrder::kBgr;
  p.mean = {103.53f, 116.28f, 123.675f};
  p.std = {57.375f, 57.12f, 58.395f};
  p.head = "gfl";
  p.strides = {8, 16, 32};
  p.multi_label = true;  // multiclass_nms: every class above the threshold
  p.score_threshold = 0.35f;  // demo.py's score_thres
  p.iou_threshold = 0.6f;
  // NanoDet's get_bboxes: multiclass_nms(score_thr 0.05, NMS IoU 0.6 per class, max_num 100),
  // every class above the threshold; boxes clipped to the input, then warped back and clipped
  // to the image.
  p.eval = eval_settings(0.05f, 0.6f, 100, /*multi_label=*/true, /*clip=*/true,
                         "NanoDet get_bboxes: score 0.05, NMS 0.6 per class, multi-label, 100 per image, clipped");
  return p;
}

// FastestDet (dog-qiuqiu/FastestDet, the 352 ONNX export).
Preset make_fastestdet() {
  Preset p;
  p.name = "fastestdet";
  p.description = "FastestDet 352: BGR 0..1, stretched (cv2.resize INTER_LINEAR)";
  p.input_width = p.input_height = 352;
  p.resize = ResizeMode::kStretch;
  p.order = ChannelOrder::kBgr;
  p.std = {255.f, 255.f, 255.f};
  p.head = "fastestdet";
  p.score_threshold = 0.65f;  // test.py's --thresh
  p.iou_threshold = 0.45f;
  // FastestDet's eval.py: cv2.resize INTER_LINEAR, handle_preds(conf 0.001, NMS 0.45 per class
  // with batched_nms), the best class of each cell, every kept box written, boxes not clipped.
  p.eval = eval_settings(0.001f, 0.45f, 0, /*multi_label=*/false, /*clip=*/false,
                         "FastestDet eval.py: conf 0.001, NMS 0.45 per class, best class, every box, not clipped");
  return p;
}

const std::vector<Preset>& presets() {
  static const std::vector<Preset> kPresets = {make_yolox_nano(), make_yolox_nano_raw(), make_ssd(),
                                               make_yolov5n(), make_yolov5n_uint8(),
                                               make_darknet_yolo(), make_nanodet_m(), make_fastestdet()};
  return kPresets;
}

}  // namespace

image::TensorFormat Preset::tensor_format() const {
  image::TensorFormat f;
  f.width = input_width;
  f.height = input_height;
  f.resize = resize;
  f.pad_value = pad_value;
  f.order = order;
  f.layout = layout;
  f.dtype = input_dtype;
  f.mean = mean;
  f.std = std;
  f.quant_scale = input_scale;
  f.quant_zero_point = input_zero_point;
  return f;
}

std::span<const Preset> builtin_presets() { return presets(); }

Result<Preset> find_preset(std::string_view name) {
  std::string known;
  for (const Preset& p : presets()) {
    if (p.name == name) return p;
    known += known.empty() ? "" : ", ";
    known += p.name;
  }
  return not_found("unknown preset '{}' (built in: {})", name, known);
}

std::filesystem::path sidecar_path(const std::filesystem::path& model) {
  std::filesystem::path p = model;
  p.replace_extension(".qdet.json");
  return p;
}

}  // namespace qdet::detect
