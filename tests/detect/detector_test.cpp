// The whole pipeline on the shipped models: image -> qdet's interpreter -> detections.
#include "detect/detector.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstring>

#include "base/file.h"
#include "detect/labels.h"
#include "image/codec.h"
#include "test_support.h"
#include "tflite/reader.h"

namespace qdet::detect {
namespace {

namespace fs = std::filesystem;

struct Want {
  const char* name;
  float score;
};

struct ModelCase {
  const char* file;
  const char* oracle;
  const char* preset;
  std::vector<Want> top;  // oracle README's detections
  // How far qdet's interpreter may move a score from the official TFLite's: 0.005 (the oracle
  // README's rounding). Float kernels differ in summation order only; the quantized models run
  // on qdet's XNNPACK int8/uint8 kernels, bit-exact with the oracle's XNNPACK delegate
  // (tests/runtime/quantized_oracle_test.cpp), given identical input bytes (checked below).
  float score_tolerance = 0.005f;
};

std::vector<ModelCase> model_cases() {
  return {
      {"yolox_nano_fp32_416.tflite", "yolox_nano_fp32_416", "yolox_nano",
       {{"dog", 0.855f}, {"bicycle", 0.803f}, {"car", 0.798f}}},
      {"ssd_mobilenet_v1_1_metadata_1.tflite", "ssd_mobilenet_v1_1_metadata_1", "ssd_mobilenet_v1",
       {{"bicycle", 0.730f}}},
      {"yolov5n-fp16.tflite", "yolov5n-fp16", "yolov5n", {{"dog", 0.766f}, {"car", 0.705f}, {"bicycle", 0.484f}}},
      {"yolov5n-int8.tflite", "yolov5n-int8", "yolov5n_uint8", {{"dog", 0.729f}, {"car", 0.667f}, {"bicycle", 0.467f}}},
  };
}

fs::path dog_path() { return data_dir() / "models" / "dog.jpg"; }

class DetectorOnModel : public ::testing::TestWithParam<ModelCase> {};

TEST_P(DetectorOnModel, MatchesTheOracle) {
  const ModelCase& c = GetParam();
  const fs::path model = data_dir() / "models" / c.file;
  QDET_REQUIRE_PATH(model);
  QDET_REQUIRE_PATH(dog_path());
  QDET_REQUIRE_PATH(fixtures_dir() / "oracle" / c.oracle);
  auto img = image::load_image(dog_path());
  ASSERT_TRUE(img.ok());
  auto det = Detector::create(model);
  if (!det.ok() && det.status().code() == StatusCode::kUnsupported)
    GTEST_SKIP() << "the interpreter cannot run this model yet: " << det.status().to_string();
  ASSERT_TRUE(det.ok()) << det.status().to_string();
  EXPECT_EQ((*det)->preset().name, c.preset);
  EXPECT_EQ((*det)->preset_source(), "recognised");
  auto r = (*det)->detect(*img);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  // The input qdet fed its interpreter is the oracle's input, byte for byte (this covers the
  // quantized inputs: SSD 1/128 + 128, YOLOv5 int8 1/255).
  auto want_input = read_file(fixtures_dir() / "oracle" / c.oracle / "input.bin");
  ASSERT_TRUE(want_input.ok());
  const rt::TensorRef& in = (*det)->interpreter().input(0);
  ASSERT_EQ(in.byte_size(), want_input->size());
  EXPECT_EQ(0, std::memcmp(in.data, want_input->data(), want_input->size()));
  // The oracle's detections, within what qdet's kernels may move a score.
  ASSERT_GE(r->detections.size(), c.top.size());
  for (size_t i = 0; i < c.top.size(); ++i) {
    EXPECT_EQ(label_name((*det)->labels(), r->detections[i].class_id), c.top[i].name) << i;
    EXPECT_NEAR(r->detections[i].score, c.top[i].score, c.score_tolerance) << c.top[i].name;
  }
  for (const Detection& d : r->detections) {
    EXPECT_GE(d.x0, 0);
    EXPECT_LE(d.x1, 768);
    EXPECT_GE(d.y0, 0);
    EXPECT_LE(d.y1, 576);
  }
}

INSTANTIATE_TEST_SUITE_P(Shipped, DetectorOnModel, ::testing::ValuesIn(model_cases()),
                         [](const auto& info) { return std::string(info.param.preset); });

// Without running the model: the recognised preset + the model's input tensor (size, type,
// quantization) give the oracle's input bytes exactly.
TEST_P(DetectorOnModel, InputFormatFromTheModelFile) {
  const ModelCase& c = GetParam();
  const fs::path model = data_dir() / "models" / c.file;
  QDET_REQUIRE_PATH(model);
  QDET_REQUIRE_PATH(fixtures_dir() / "oracle" / c.oracle);
  auto m = tflite::load_tflite(model);
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  auto preset = recognize(signature_of(m->graph));
  ASSERT_TRUE(preset.ok());
  // Start from deliberately wrong quantization defaults: the model's must win.
  preset->input_scale = 0.5f;
  preset->input_zero_point = 7;
  auto format = model_input_format(*preset, m->graph.tensors[m->graph.inputs[0]]);
  ASSERT_TRUE(format.ok()) << format.status().to_string();
  auto img = image::load_image(dog_path());
  ASSERT_TRUE(img.ok());
  auto got = image::build_tensor(*img, *format);
  ASSERT_TRUE(got.ok());
  auto want = read_file(fixtures_dir() / "oracle" / c.oracle / "input.bin");
  ASSERT_TRUE(want.ok());
  EXPECT_EQ(*got, *want);
}

TEST(Detector, SidecarOverridesAndErrors) {
  const fs::path model = data_dir() / "models" / "yolox_nano_fp32_416.tflite";
  QDET_REQUIRE_PATH(model);
  const fs::path dir = testing::scratch_dir();
  fs::copy_file(model, dir / "m.tflite");
  ASSERT_TRUE(write_file_atomic(dir / "m.qdet.json", std::string_view(R"({"score_threshold": 0.84})")).ok());
  auto det = Detector::create(dir / "m.tflite");
  ASSERT_TRUE(det.ok()) << det.status().to_string();
  EXPECT_EQ((*det)->preset_source(), "recognised + sidecar " + (dir / "m.qdet.json").string());
  auto img = image::load_image(dog_path());
  ASSERT_TRUE(img.ok());
  auto r = (*det)->detect(*img);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->detections.size(), 1u);  // only the dog (0.855) is above 0.84
  EXPECT_EQ(label_name((*det)->labels(), r->detections[0].class_id), "dog");

  ASSERT_TRUE(write_file_atomic(dir / "m.qdet.json", std::string_view("{\"score_threshold\": }")).ok());
  auto bad = Detector::create(dir / "m.tflite");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind((dir / "m.qdet.json").string() + ": invalid JSON: parse error at line 1", 0), 0u)
      << bad.status().message();

  DetectorOptions wrong;
  wrong.preset = "ssd_mobilenet_v1";
  auto w = Detector::create(model, wrong);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().message(), model.string() + ": head 'ssd' expects 4 output tensors; the model has 1");
}

TEST(Detector, CommandLine) {
  const fs::path model = data_dir() / "models" / "yolox_nano_fp32_416.tflite";
  QDET_REQUIRE_PATH(model);
  QDET_REQUIRE_PATH(dog_path());
  QDET_REQUIRE_PATH(QDET_BINARY);
  const fs::path out = testing::scratch_dir() / "dog.png";
  std::string output;
  int rc = testing::run_command(std::string(QDET_BINARY) + " detect '" + model.string() + "' '" +
                                    dog_path().string() + "' --json -o '" + out.string() + "'",
                                &output);
  ASSERT_EQ(rc, 0) << output;
  auto j = nlohmann::json::parse(output, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << output;
  EXPECT_EQ(j["preset"], "yolox_nano");
  ASSERT_GE(j["detections"].size(), 3u);
  EXPECT_EQ(j["detections"][0]["label"], "dog");
  EXPECT_EQ(j["detections"][0]["category_id"], 18);
  auto drawn = image::load_image(out);
  ASSERT_TRUE(drawn.ok());
  EXPECT_EQ(drawn->width, 768);

  rc = testing::run_command(std::string(QDET_BINARY) + " detect '" + model.string() + "' /nonexistent.jpg", &output);
  EXPECT_EQ(rc, 1);
  EXPECT_NE(output.find("qdet: error: "), std::string::npos) << output;
  EXPECT_NE(output.find("/nonexistent.jpg"), std::string::npos) << output;
}

}  // namespace
}  // namespace qdet::detect
