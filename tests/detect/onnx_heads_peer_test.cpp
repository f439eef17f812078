// NanoDet-m and FastestDet, the shared ONNX detectors, end to end: `qdet convert` then
// `qdet detect` on dog.jpg (the preset recognised from the converted model's tensors) must give
// what ONNX Runtime's outputs on the source model give through the same head, for the same
// input tensor, and find the dog, the bicycle and the car.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "detect/detector.h"
#include "detect/head.h"
#include "detect/labels.h"
#include "detect/nms.h"
#include "detect/preset.h"
#include "image/codec.h"
#include "test_support.h"

namespace qdet::detect {
namespace {

namespace fs = std::filesystem;

struct Case {
  const char* stem;
  const char* preset;
};

// ONNX Runtime on the ONNX model, fed qdet's preprocessing in NCHW: outputs as the converted
// model lays them out (image-shaped outputs NHWC), decoded with the preset's head.
std::vector<Detection> ort_detections(const fs::path& onnx, const Preset& preset, const image::Image& img,
                                      const fs::path& dir) {
  Preset p = preset;
  p.layout = image::Layout::kNchw;
  image::Geometry g;
  auto input = image::build_tensor(img, p.tensor_format(), &g);
  EXPECT_TRUE(input.ok());
  if (!input.ok()) return {};
  EXPECT_TRUE(write_file_atomic(dir / "input.bin", *input).ok());
  std::string out;
  const int rc = testing::run_command(testing::peer_command("ort_run.js") + " '" + onnx.string() + "' --input '" +
                                          (dir / "input.bin").string() + "' --warmup 0 --runs 1 --dump-dir '" +
                                          (dir / "ort").string() + "' 2>/dev/null",
                                      &out);
  EXPECT_EQ(rc, 0) << out;
  auto j = nlohmann::json::parse(out.substr(out.find('{')), nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << out;
  if (rc != 0 || j.is_discarded()) return {};
  std::vector<std::vector<uint8_t>> bytes;
  std::vector<OutputView> views;
  for (size_t i = 0; i < j["outputs"].size(); ++i) {
    const auto& o = j["outputs"][i];
    Shape shape;
    for (const auto& d : o["shape"]) shape.push_back(d.get<int32_t>());
    fs::path file;
    for (const auto& e : fs::directory_iterator(dir / "ort"))
      if (e.path().filename().string().rfind(fmt::format("out_{}_", i), 0) == 0) file = e.path();
    auto b = read_file(file);
    EXPECT_TRUE(b.ok()) << file;
    if (!b.ok()) return {};
    if (shape.size() == 4) {  // NCHW -> NHWC
      const int32_t c = shape[1], h = shape[2], w = shape[3];
      std::vector<uint8_t> t(b->size());
      for (int32_t ch = 0; ch < c; ++ch)
        for (int32_t y = 0; y < h; ++y)
          for (int32_t x = 0; x < w; ++x)
            std::memcpy(&t[4 * ((static_cast<size_t>(y) * w + x) * c + ch)],
                        &(*b)[4 * ((static_cast<size_t>(ch) * h + y) * w + x)], 4);
      *b = std::move(t);
      shape = {1, h, w, c};
    }
    bytes.push_back(std::move(*b));
    OutputView v;
    v.shape = shape;
    v.name = o["name"].get<std::string>();
    views.push_back(v);
  }
  for (size_t i = 0; i < views.size(); ++i) views[i].data = bytes[i];
  auto cands = (*find_head(p.head))->decode(views, head_options(p, p.tensor_format()));
  EXPECT_TRUE(cands.ok()) << cands.status().to_string();
  if (!cands.ok()) return {};
  NmsOptions no;
  no.iou_threshold = p.iou_threshold;
  no.max_detections = p.max_detections;
  return map_to_source(nms(*cands, no), g, p.clip_boxes);
}

class OnnxHeadsPeer : public ::testing::TestWithParam<Case> {};

TEST_P(OnnxHeadsPeer, ConvertedModelDetectsLikeOnnxRuntime) {
  const Case& c = GetParam();
  const fs::path onnx = data_dir() / "models" / (std::string(c.stem) + ".onnx");
  const fs::path dog = data_dir() / "models" / "dog.jpg";
  QDET_REQUIRE_PATH(onnx);
  QDET_REQUIRE_PATH(dog);
  QDET_REQUIRE_PEERS();
  const fs::path dir = testing::scratch_dir();
  const fs::path tflite = dir / "model.tflite";
  std::string out;
  ASSERT_EQ(testing::run_command(std::string(QDET_BINARY) + " convert '" + onnx.string() + "' -o '" +
                                     tflite.string() + "'",
                                 &out),
            0)
      << out;
  ASSERT_EQ(testing::run_command(std::string(QDET_BINARY) + " detect '" + tflite.string() + "' '" + dog.string() +
                                     "' --json 2>/dev/null",
                                 &out),
            0)
      << out;
  auto j = nlohmann::json::parse(out.substr(out.find('{')), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << out;
  EXPECT_EQ(j["preset"], c.preset);
  EXPECT_EQ(j["preset_source"], "recognised");

  auto preset = find_preset(c.preset);
  ASSERT_TRUE(preset.ok());
  auto img = image::load_image(dog);
  ASSERT_TRUE(img.ok());
  const std::vector<Detection> want = ort_detections(onnx, *preset, *img, dir);
  const auto& got = j["detections"];
  ASSERT_EQ(got.size(), want.size()) << got.dump(1);
  std::set<std::string> labels;
  for (size_t i = 0; i < want.size(); ++i) {
    const auto& d = got[i];
    EXPECT_EQ(d["class_id"].get<int>(), want[i].class_id) << i;
    EXPECT_NEAR(d["score"].get<double>(), want[i].score, 1e-3) << i;
    const float box[4] = {want[i].x0, want[i].y0, want[i].x1, want[i].y1};
    for (int k = 0; k < 4; ++k) EXPECT_NEAR(d["box"][k].get<double>(), box[k], 0.5) << i << " corner " << k;
    labels.insert(d["label"].get<std::string>());
    std::printf("[ measure ] %s: %s %.4f (ONNX Runtime %.4f)\n", c.stem, d["label"].get<std::string>().c_str(),
                d["score"].get<double>(), want[i].score);
  }
  EXPECT_TRUE(labels.count("dog")) << got.dump(1);
  EXPECT_TRUE(labels.count("bicycle")) << got.dump(1);
  EXPECT_TRUE(labels.count("car") || labels.count("truck")) << got.dump(1);
}

INSTANTIATE_TEST_SUITE_P(Shared, OnnxHeadsPeer,
                         ::testing::Values(Case{"nanodet_m_416", "nanodet_m"}, Case{"FastestDet_352", "fastestdet"}),
                         [](const auto& info) { return std::string(info.param.preset); });

}  // namespace
}  // namespace qdet::detect
