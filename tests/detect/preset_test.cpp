#include "detect/preset.h"

#include <gtest/gtest.h>

#include "base/file.h"
#include "image/codec.h"
#include "test_support.h"

namespace qdet::detect {
namespace {

// Each built-in preset's preprocessing reproduces the oracle's input for its model exactly.
TEST(Preset, BuiltinsReproduceOracleInputs) {
  const auto dog = data_dir() / "models" / "dog.jpg";
  QDET_REQUIRE_PATH(dog);
  QDET_REQUIRE_PATH(fixtures_dir() / "oracle");
  auto img = image::load_image(dog);
  ASSERT_TRUE(img.ok());
  const std::pair<const char*, const char*> cases[] = {
      {"yolox_nano", "yolox_nano_fp32_416"},
      {"ssd_mobilenet_v1", "ssd_mobilenet_v1_1_metadata_1"},
      {"yolov5n", "yolov5n-fp16"},
      {"yolov5n_uint8", "yolov5n-int8"},
  };
  for (auto [preset_name, folder] : cases) {
    SCOPED_TRACE(preset_name);
    auto p = find_preset(preset_name);
    ASSERT_TRUE(p.ok());
    auto want = read_file(fixtures_dir() / "oracle" / folder / "input.bin");
    ASSERT_TRUE(want.ok());
    auto got = image::build_tensor(*img, p->tensor_format());
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    ASSERT_EQ(got->size(), want->size());
    size_t diff = 0;
    for (size_t i = 0; i < got->size(); ++i) diff += (*got)[i] != (*want)[i];
    EXPECT_EQ(diff, 0u) << "differing bytes";
  }
}

TEST(Preset, UnknownName) {
  auto p = find_preset("yolo9000");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(),
            "unknown preset 'yolo9000' (built in: yolox_nano, yolox_nano_raw, ssd_mobilenet_v1, yolov5n, yolov5n_uint8, darknet_yolo, nanodet_m, fastestdet)");
}

// Each preset carries its project's own COCO evaluation settings, apart from detection's.
TEST(Preset, EvalSettingsFollowEachProjectsEvaluation) {
  auto yolox = find_preset("yolox_nano");
  ASSERT_TRUE(yolox.ok());
  EXPECT_FLOAT_EQ(yolox->eval.score_threshold, 0.001f);
  EXPECT_FLOAT_EQ(yolox->eval.iou_threshold, 0.65f);
  EXPECT_EQ(yolox->eval.max_detections, 100);
  EXPECT_FALSE(yolox->eval.multi_label);
  EXPECT_FALSE(yolox->eval.clip_boxes);
  EXPECT_FLOAT_EQ(yolox->score_threshold, 0.3f);  // detection keeps its own
  auto v5 = find_preset("yolov5n");
  ASSERT_TRUE(v5.ok());
  EXPECT_FLOAT_EQ(v5->eval.iou_threshold, 0.6f);
  EXPECT_EQ(v5->eval.max_detections, 100);
  EXPECT_TRUE(v5->eval.multi_label);
  EXPECT_TRUE(v5->eval.clip_boxes);
  EXPECT_FALSE(v5->multi_label);
  auto ssd = find_preset("ssd_mobilenet_v1");
  ASSERT_TRUE(ssd.ok());
  EXPECT_EQ(ssd->eval.postprocess_max_detections, 100);
  EXPECT_EQ(ssd->max_detections, 10);
  auto dk = find_preset("darknet_yolo");
  ASSERT_TRUE(dk.ok());
  EXPECT_EQ(dk->resize, image::ResizeMode::kLetterboxDarknet);
  EXPECT_FLOAT_EQ(dk->eval.score_threshold, 0.005f);
  EXPECT_FLOAT_EQ(dk->eval.iou_threshold, 0.45f);
  EXPECT_TRUE(dk->eval.multi_label);
  auto nano = find_preset("nanodet_m");
  ASSERT_TRUE(nano.ok());
  EXPECT_EQ(nano->head, "gfl");
  EXPECT_FLOAT_EQ(nano->eval.score_threshold, 0.05f);
  EXPECT_FLOAT_EQ(nano->eval.iou_threshold, 0.6f);
  EXPECT_EQ(nano->eval.max_detections, 100);
  EXPECT_TRUE(nano->eval.multi_label);
  auto fd = find_preset("fastestdet");
  ASSERT_TRUE(fd.ok());
  EXPECT_EQ(fd->resize, image::ResizeMode::kStretch);
  EXPECT_FLOAT_EQ(fd->eval.score_threshold, 0.001f);
  EXPECT_FLOAT_EQ(fd->eval.iou_threshold, 0.45f);
  EXPECT_FALSE(fd->eval.multi_label);
  EXPECT_FALSE(fd->eval.clip_boxes);
}

TEST(Sidecar, EvalSettings) {
  auto p = apply_sidecar(Preset{}, R"({"clip_boxes": false, "eval": {"score_threshold": 0.01,
      "iou_threshold": 0.5, "max_detections": 0, "multi_label": true, "clip_boxes": false,
      "postprocess_max_detections": 0, "source": "mine"}})", "m.qdet.json");
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_FALSE(p->clip_boxes);
  EXPECT_FLOAT_EQ(p->eval.score_threshold, 0.01f);
  EXPECT_FLOAT_EQ(p->eval.iou_threshold, 0.5f);
  EXPECT_EQ(p->eval.max_detections, 0);
  EXPECT_TRUE(p->eval.multi_label);
  EXPECT_FALSE(p->eval.clip_boxes);
  EXPECT_EQ(p->eval.postprocess_max_detections, 0);
  EXPECT_EQ(p->eval.source, "mine");
  auto bad = apply_sidecar(Preset{}, R"({"eval": {"nms": 0.5}})", "m.qdet.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "m.qdet.json: unknown key 'eval.nms'");
  bad = apply_sidecar(Preset{}, R"({"eval": {"max_detections": -1}})", "m.qdet.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "m.qdet.json: 'eval.max_detections' = -1 is not in 0..1000000");
  bad = apply_sidecar(Preset{}, R"({"eval": 3})", "m.qdet.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "m.qdet.json: 'eval' must be an object");
}

TEST(Sidecar, OverridesFields) {
  auto base = find_preset("yolox_nano");
  ASSERT_TRUE(base.ok());
  auto p = apply_sidecar(*base, R"({
      "input_size": [320, 256], "resize": "letterbox_center", "pad_value": 0,
      "channel_order": "rgb", "mean": [1, 2, 3], "std": 57.5, "layout": "nchw",
      "score_threshold": 0.1, "iou_threshold": 0.6, "max_detections": 7, "multi_label": true,
      "labels": "my.names", "strides": [8, 16], "class_map": "coco91", "description": "mine"})",
                         "m.qdet.json");
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_EQ(p->name, "yolox_nano");
  EXPECT_EQ(p->head, "yolox");
  EXPECT_EQ(p->input_width, 320);
  EXPECT_EQ(p->input_height, 256);
  EXPECT_EQ(p->resize, image::ResizeMode::kLetterboxCenter);
  EXPECT_EQ(p->pad_value, 0);
  EXPECT_EQ(p->order, image::ChannelOrder::kRgb);
  EXPECT_EQ(p->mean, (std::array<float, 3>{1, 2, 3}));
  EXPECT_EQ(p->std, (std::array<float, 3>{57.5f, 57.5f, 57.5f}));
  EXPECT_EQ(p->layout, image::Layout::kNchw);
  EXPECT_FLOAT_EQ(p->score_threshold, 0.1f);
  EXPECT_FLOAT_EQ(p->iou_threshold, 0.6f);
  EXPECT_EQ(p->max_detections, 7);
  EXPECT_TRUE(p->multi_label);
  EXPECT_EQ(p->labels, "my.names");
  EXPECT_EQ(p->strides, (std::vector<int>{8, 16}));
  EXPECT_EQ(p->class_map, ClassMap::kCoco91);
  EXPECT_EQ(p->description, "mine");
}

TEST(Sidecar, PresetKeyChangesTheBase) {
  auto base = find_preset("yolox_nano");
  auto p = apply_sidecar(*base, R"({"score_threshold": 0.5, "preset": "yolov5n"})", "s.json");
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_EQ(p->head, "yolov5");
  EXPECT_EQ(p->input_width, 640);
  EXPECT_FLOAT_EQ(p->score_threshold, 0.5f);  // applied on top, whatever the key order
}

TEST(Sidecar, ErrorsNameTheFileAndPosition) {
  auto base = *find_preset("yolov5n");
  auto bad = apply_sidecar(base, "{\n  \"score_threshold\": 0.5,\n  \"head\" \"yolox\"\n}", "m.qdet.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kParseError);
  EXPECT_EQ(bad.status().message(),
            "m.qdet.json: invalid JSON: parse error at line 3, column 16: syntax error while parsing object "
            "separator - unexpected string literal; expected ':'");
  auto cases = std::vector<std::pair<const char*, const char*>>{
      {R"({"scor_threshold": 0.5})", "m.qdet.json: unknown key 'scor_threshold'"},
      {R"({"score_threshold": "high"})", "m.qdet.json: 'score_threshold' must be a number"},
      {R"({"pad_value": 300})", "m.qdet.json: 'pad_value' = 300 is not in 0..255"},
      {R"({"resize": "crop"})",
       "m.qdet.json: 'resize': unknown resize mode 'crop' (expected one of: stretch, letterbox_topleft, letterbox_center, letterbox_darknet, letterbox_center_area)"},
      {R"({"head": "detr"})",
       "m.qdet.json: 'head': unknown detection head 'detr' (known: yolox, yolox_raw, yolov5, ssd, yolo, gfl, fastestdet)"},
      {R"({"mean": [1, 2]})", "m.qdet.json: 'mean' must be a number or an array of 3 numbers"},
      {R"({"std": [1, 0, 1]})", "m.qdet.json: 'std' must not contain 0"},
      {R"({"preset": "nope"})",
       "m.qdet.json: 'preset': unknown preset 'nope' (built in: yolox_nano, yolox_nano_raw, ssd_mobilenet_v1, yolov5n, yolov5n_uint8, darknet_yolo, nanodet_m, fastestdet)"},
      {R"([1, 2])", "m.qdet.json: expected a JSON object"},
  };
  for (auto [json, want] : cases) {
    auto r = apply_sidecar(base, json, "m.qdet.json");
    ASSERT_FALSE(r.ok()) << json;
    EXPECT_EQ(r.status().message(), want);
  }
}

TEST(Sidecar, PathAndFile) {
  EXPECT_EQ(sidecar_path("/m/yolox.tflite"), std::filesystem::path("/m/yolox.qdet.json"));
  auto dir = testing::scratch_dir();
  ASSERT_TRUE(write_file_atomic(dir / "x.qdet.json", std::string_view(R"({"max_detections": 3})")).ok());
  auto p = load_sidecar(*find_preset("yolov5n"), dir / "x.qdet.json");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->max_detections, 3);
  EXPECT_FALSE(load_sidecar(*find_preset("yolov5n"), dir / "none.qdet.json").ok());
}

ModelSignature sig(Shape in, DType in_type, std::vector<Shape> outs, std::vector<std::string> ops) {
  ModelSignature s;
  s.inputs.push_back({std::move(in), in_type});
  for (auto& o : outs) s.outputs.push_back({std::move(o), DType::kFloat32});
  s.ops = std::move(ops);
  return s;
}

TEST(Recognize, ShippedFamiliesByStructure) {
  struct Case {
    ModelSignature s;
    const char* preset;
    int size;
  };
  const std::vector<std::string> yolox_ops = {"CONV_2D", "LOGISTIC", "CONCATENATION", "EXP"};
  const std::vector<Case> cases = {
      {sig({1, 416, 416, 3}, DType::kFloat32, {{1, 3549, 85}}, yolox_ops), "yolox_nano", 416},
      {sig({1, 640, 640, 3}, DType::kFloat32, {{1, 8400, 85}}, yolox_ops), "yolox_nano", 640},
      {sig({1, 416, 416, 3}, DType::kFloat32, {{1, 3549, 85}}, {"CONV_2D", "LOGISTIC"}), "yolox_nano_raw", 416},
      {sig({1, 300, 300, 3}, DType::kUInt8, {{1, 10, 4}, {1, 10}, {1, 10}, {1}},
           {"CONV_2D", "TFLite_Detection_PostProcess"}), "ssd_mobilenet_v1", 300},
      {sig({1, 640, 640, 3}, DType::kFloat32, {{1, 25200, 85}}, {"CONV_2D", "DEQUANTIZE"}), "yolov5n", 640},
      {sig({1, 640, 640, 3}, DType::kUInt8, {{1, 25200, 85}}, {"CONV_2D", "QUANTIZE"}), "yolov5n_uint8", 640},
      {sig({1, 320, 320, 3}, DType::kFloat32, {{1, 6300, 85}}, {"CONV_2D"}), "yolov5n", 320},
      {sig({1, 416, 416, 3}, DType::kFloat32,
           {{1, 2704, 80}, {1, 2704, 32}, {1, 676, 80}, {1, 676, 32}, {1, 169, 80}, {1, 169, 32}},
           {"CONV_2D", "LEAKY_RELU"}), "nanodet_m", 416},
      {sig({1, 320, 320, 3}, DType::kFloat32,
           {{1, 1600, 80}, {1, 1600, 32}, {1, 400, 80}, {1, 400, 32}, {1, 100, 80}, {1, 100, 32}},
           {"CONV_2D"}), "nanodet_m", 320},
      {sig({1, 352, 352, 3}, DType::kFloat32, {{1, 22, 22, 85}}, {"CONV_2D", "SOFTMAX"}), "fastestdet", 352},
  };
  for (const Case& c : cases) {
    auto p = recognize(c.s);
    ASSERT_TRUE(p.ok()) << c.preset << ": " << p.status().to_string();
    EXPECT_EQ(p->name, c.preset);
    EXPECT_EQ(p->input_width, c.size);
    EXPECT_EQ(p->input_height, c.size);
  }
  auto nchw = recognize(sig({1, 3, 416, 416}, DType::kFloat32, {{1, 3549, 85}}, {"CONV_2D"}));
  ASSERT_TRUE(nchw.ok());
  EXPECT_EQ(nchw->layout, image::Layout::kNchw);
  EXPECT_EQ(nchw->head, "yolox_raw");
}

TEST(Recognize, UnknownModelsAreClearErrors) {
  auto r = recognize(sig({1, 416, 416, 3}, DType::kFloat32, {{1, 1000, 85}}, {"CONV_2D"}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "model not recognised (output [1,1000,85] matches neither YOLOX (3549 rows) nor YOLOv5 (10647 rows) "
            "for a 416x416 input); pass --preset NAME or write a MODEL.qdet.json sidecar");
  auto cls = recognize(sig({1, 224, 224, 3}, DType::kFloat32, {{1, 1000}}, {"CONV_2D", "SOFTMAX"}));
  ASSERT_FALSE(cls.ok());
  EXPECT_EQ(cls.status().code(), StatusCode::kNotFound);
  auto text = recognize(sig({1, 128}, DType::kInt32, {{1, 2}}, {}));
  ASSERT_FALSE(text.ok());
  EXPECT_NE(text.status().message().find("input shape [1,128] is not an image"), std::string::npos);
}

}  // namespace
}  // namespace qdet::detect
