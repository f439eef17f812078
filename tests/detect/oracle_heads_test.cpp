// The heads on the official TFLite interpreter's outputs for dog.jpg (../shared/fixtures/oracle):
// decoding + NMS + mapping must give the detections the oracle README lists.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstring>
#include <set>

#include "base/file.h"
#include "detect/draw_detections.h"
#include "detect/head.h"
#include "image/codec.h"
#include "detect/labels.h"
#include "detect/nms.h"
#include "detect/preset.h"
#include "test_support.h"

namespace qdet::detect {
namespace {

namespace fs = std::filesystem;

struct Loaded {
  std::vector<std::vector<uint8_t>> bytes;
  std::vector<OutputView> views;
};

// Reads the oracle's outputs in meta.json order.
Loaded load_outputs(const fs::path& dir, float scale, int32_t zero_point) {
  Loaded l;
  auto meta_text = read_text_file(dir / "meta.json");
  EXPECT_TRUE(meta_text.ok());
  if (!meta_text.ok()) return l;
  auto meta = nlohmann::json::parse(*meta_text);
  for (const auto& o : meta["outputs"]) {
    std::string name = o["name"].get<std::string>();
    std::string file = name;
    for (char& c : file)
      if (c == ':') c = '_';
    fs::path path = dir / ("out_" + std::to_string(o["id"].get<int>()) + "_" + file + ".bin");
    auto data = read_file(path);
    EXPECT_TRUE(data.ok()) << path;
    l.bytes.push_back(data.ok() ? *data : std::vector<uint8_t>{});
    OutputView v;
    v.name = name;
    for (int d : o["shape"]) v.shape.push_back(d);
    v.dtype = *dtype_from_name(o["dtype"].get<std::string>());
    v.scale = scale;
    v.zero_point = zero_point;
    l.views.push_back(v);
  }
  for (size_t i = 0; i < l.views.size(); ++i) l.views[i].data = l.bytes[i];
  return l;
}

struct Expected {
  const char* name;
  float score;
};

// Runs preset's head + NMS + mapping on the oracle outputs of `folder`.
std::vector<Detection> detect_from_oracle(const char* folder, const char* preset_name, float scale = 1.f,
                                          int32_t zero_point = 0) {
  const fs::path dir = fixtures_dir() / "oracle" / folder;
  auto preset = find_preset(preset_name);
  EXPECT_TRUE(preset.ok());
  Loaded l = load_outputs(dir, scale, zero_point);
  auto head = find_head(preset->head);
  EXPECT_TRUE(head.ok());
  HeadOptions ho;
  ho.input_width = preset->input_width;
  ho.input_height = preset->input_height;
  ho.score_threshold = preset->score_threshold;
  ho.class_map = preset->class_map;
  auto cands = (*head)->decode(l.views, ho);
  EXPECT_TRUE(cands.ok()) << cands.status().to_string();
  if (!cands.ok()) return {};
  std::vector<Detection> dets = *cands;
  if ((*head)->needs_nms) {
    NmsOptions no;
    no.iou_threshold = preset->iou_threshold;
    no.max_detections = preset->max_detections;
    dets = nms(std::move(dets), no);
  }
  auto g = image::plan_geometry(768, 576, preset->input_width, preset->input_height, preset->resize);
  EXPECT_TRUE(g.ok());
  return map_to_source(std::move(dets), *g);
}

void expect_top3(const std::vector<Detection>& dets, std::initializer_list<Expected> want) {
  ASSERT_GE(dets.size(), want.size());
  auto names = coco80_names();
  size_t i = 0;
  for (const Expected& e : want) {
    SCOPED_TRACE(e.name);
    EXPECT_STREQ(names[dets[i].class_id], e.name);
    EXPECT_NEAR(dets[i].score, e.score, 0.005);
    ++i;
  }
  // The dog: lower left of the 768x576 picture.
  const Detection* dog = nullptr;
  for (const Detection& d : dets)
    if (std::string(names[d.class_id]) == "dog") dog = dog ? dog : &d;
  ASSERT_NE(dog, nullptr);
  EXPECT_GT(dog->x0, 110);
  EXPECT_LT(dog->x0, 160);
  EXPECT_GT(dog->x1, 290);
  EXPECT_LT(dog->x1, 340);
  EXPECT_GT(dog->y0, 190);
  EXPECT_LT(dog->y0, 250);
  EXPECT_GT(dog->y1, 510);
  EXPECT_LE(dog->y1, 576);
  for (const Detection& d : dets) {
    EXPECT_GE(d.x0, 0);
    EXPECT_LE(d.x1, 768);
    EXPECT_GE(d.y0, 0);
    EXPECT_LE(d.y1, 576);
    EXPECT_LT(d.x0, d.x1);
    EXPECT_LT(d.y0, d.y1);
  }
}

TEST(OracleHeads, YoloxNano) {
  QDET_REQUIRE_PATH(fixtures_dir() / "oracle" / "yolox_nano_fp32_416");
  auto dets = detect_from_oracle("yolox_nano_fp32_416", "yolox_nano");
  expect_top3(dets, {{"dog", 0.855f}, {"bicycle", 0.803f}, {"car", 0.798f}});
}

TEST(OracleHeads, SsdMobilenetV1) {
  QDET_REQUIRE_PATH(fixtures_dir() / "oracle" / "ssd_mobilenet_v1_1_metadata_1");
  auto dets = detect_from_oracle("ssd_mobilenet_v1_1_metadata_1", "ssd_mobilenet_v1");
  // bicycle 0.730, then car and dog both 0.645: check as a set for the tie.
  ASSERT_GE(dets.size(), 3u);
  auto names = coco80_names();
  EXPECT_STREQ(names[dets[0].class_id], "bicycle");
  EXPECT_NEAR(dets[0].score, 0.730, 0.005);
  std::set<std::string> next = {names[dets[1].class_id], names[dets[2].class_id]};
  EXPECT_EQ(next, (std::set<std::string>{"car", "dog"}));
  EXPECT_NEAR(dets[1].score, 0.645, 0.005);
  EXPECT_NEAR(dets[2].score, 0.645, 0.005);
  expect_top3(dets, {{"bicycle", 0.730f}});
}

TEST(OracleHeads, Yolov5nFp16) {
  QDET_REQUIRE_PATH(fixtures_dir() / "oracle" / "yolov5n-fp16");
  auto dets = detect_from_oracle("yolov5n-fp16", "yolov5n");
  expect_top3(dets, {{"dog", 0.766f}, {"car", 0.705f}, {"bicycle", 0.484f}});
}

TEST(OracleHeads, Yolov5nInt8) {
  QDET_REQUIRE_PATH(fixtures_dir() / "oracle" / "yolov5n-int8");
  // The output's quantization in yolov5n-int8.tflite (README: scale 0.0044835, zero point 3).
  auto dets = detect_from_oracle("yolov5n-int8", "yolov5n_uint8", 0.00448349118f, 3);
  expect_top3(dets, {{"dog", 0.729f}, {"car", 0.667f}, {"bicycle", 0.467f}});
}

// Draws the YOLOX detections on dog.jpg and writes scratch/dog_yolox.png (look at it).
TEST(OracleHeads, DrawsDetections) {
  QDET_REQUIRE_PATH(fixtures_dir() / "oracle" / "yolox_nano_fp32_416");
  QDET_REQUIRE_PATH(image::Font::default_path());
  auto img = image::load_image(data_dir() / "models" / "dog.jpg");
  ASSERT_TRUE(img.ok());
  const image::Image before = *img;
  auto dets = detect_from_oracle("yolox_nano_fp32_416", "yolox_nano");
  ASSERT_GE(dets.size(), 3u);
  std::vector<std::string> labels(coco80_names().begin(), coco80_names().end());
  ASSERT_TRUE(draw_detections(*img, dets, labels).ok());
  const fs::path out = testing::scratch_dir() / "dog_yolox.png";
  ASSERT_TRUE(image::save_image(*img, out).ok());
  EXPECT_EQ(detection_label(dets[0], labels), "dog 0.86");
  // The dog's box left edge, half-way down, carries the dog colour.
  const Detection& dog = dets[0];
  const image::Color c = image::class_color(dog.class_id);
  const uint8_t* p = img->at(static_cast<int>(dog.x0) + 1, static_cast<int>((dog.y0 + dog.y1) / 2));
  EXPECT_EQ(image::Color({p[0], p[1], p[2]}), c);
  // The middle of the dog is untouched.
  const int cx = static_cast<int>((dog.x0 + dog.x1) / 2), cy = static_cast<int>((dog.y0 + dog.y1) / 2);
  EXPECT_EQ(0, std::memcmp(img->at(cx, cy), before.at(cx, cy), 3));
  EXPECT_EQ(box_thickness(768, 576), 2);
  EXPECT_EQ(box_thickness(3000, 2000), 8);
  EXPECT_EQ(label_font_size(768, 576), 20);
  EXPECT_EQ(label_font_size(32768, 4096), 512);  // the font loader's largest size
  EXPECT_EQ(label_font_size(1, 1), 12);
}

}  // namespace
}  // namespace qdet::detect
