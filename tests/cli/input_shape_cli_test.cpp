// --batch and --input-size through the CLI: a batched eval gives the same results file as one
// image per invoke (with a partial last batch), bench reports images per second, and a model
// whose constants fix its resolution stops with one line naming the op and the shapes.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace qdet {
namespace {

namespace fs = std::filesystem;

const fs::path kImages = data_dir() / "coco" / "val2017-139" / "images";
const fs::path kAnnotations = data_dir() / "coco" / "val2017-139" / "instances_val2017_subset.json";

nlohmann::json json_of(const std::string& out) {
  const auto start = out.find("{\n");
  return nlohmann::json::parse(out.substr(start == std::string::npos ? 0 : start));
}

TEST(InputShapeCli, EvalInBatchesGivesTheSameDetectionsAsOneImagePerInvoke) {
  const fs::path model = data_dir() / "models" / "yolov5n-int8.tflite";
  QDET_REQUIRE_PATH(model);
  QDET_REQUIRE_PATH(kAnnotations);
  const fs::path dir = testing::scratch_dir();
  nlohmann::json runs[2];
  std::string results[2];
  const int batches[2] = {1, 3};  // 5 images: batches of 3 and 2
  for (int k = 0; k < 2; ++k) {
    const fs::path out_file = dir / ("results_" + std::to_string(batches[k]) + ".json");
    std::string out;
    ASSERT_EQ(testing::run_command(std::string(QDET_BINARY) + " eval '" + model.string() +
                                       "' --images '" + kImages.string() + "' --annotations '" +
                                       kAnnotations.string() + "' --limit 5 --batch " +
                                       std::to_string(batches[k]) + " --results '" +
                                       out_file.string() + "' --json",
                                   &out),
              0)
        << out;
    runs[k] = json_of(out);
    std::ifstream f(out_file);
    results[k].assign(std::istreambuf_iterator<char>(f), {});
  }
  EXPECT_EQ(runs[0]["batch"], 1);
  EXPECT_EQ(runs[1]["batch"], 3);
  EXPECT_EQ(runs[1]["images"], 5);
  EXPECT_GT(runs[0]["detections"].get<int>(), 0);
  EXPECT_EQ(runs[0]["stats"], runs[1]["stats"]);
  EXPECT_EQ(results[0], results[1]);  // the same detections, byte for byte
}

TEST(InputShapeCli, BenchReportsImagesPerSecondForABatch) {
  const fs::path model = data_dir() / "models" / "yolov5n-int8.tflite";
  QDET_REQUIRE_PATH(model);
  std::string out;
  ASSERT_EQ(testing::run_command(std::string(QDET_BINARY) + " bench '" + model.string() +
                                     "' --batch 2 --runs 1 --warmup 0 --energy estimate --json",
                                 &out),
            0)
      << out;
  const auto j = json_of(out);
  EXPECT_EQ(j["batch"], 2);
  EXPECT_EQ(j["input_shape"], nlohmann::json({2, 640, 640, 3}));
  EXPECT_NEAR(j["images_per_s"].get<double>() * j["latency_ms"]["median"].get<double>(), 2000, 1e-6);
}

TEST(InputShapeCli, AResolutionTheModelCannotTakeIsOneLineNamingTheOp) {
  const fs::path model = data_dir() / "models" / "yolox_nano_fp32_416.tflite";
  const fs::path image = data_dir() / "models" / "dog.jpg";
  QDET_REQUIRE_PATH(model);
  QDET_REQUIRE_PATH(image);
  std::string out;
  EXPECT_NE(testing::run_command(std::string(QDET_BINARY) + " detect '" + model.string() + "' '" +
                                     image.string() + "' --input-size 320 2>&1",
                                 &out),
            0);
  EXPECT_EQ(out, "qdet: error: " + model.string() +
                     ": input 0 'serving_default_images:0' resized from [1,416,416,3] to "
                     "[1,320,320,3]: op 169 (CONCATENATION): input 1 has shape [1,20,20,128], "
                     "input 0 [1,26,26,128]: only dim 3 may differ\n");
  EXPECT_NE(testing::run_command(std::string(QDET_BINARY) + " run '" + model.string() +
                                     "' --input-size 0 2>&1",
                                 &out),
            0);
  EXPECT_NE(out.find("input size '0': expected N or WxH with each in 1..65536"), std::string::npos) << out;
}

// YOLOX-Nano's ONNX file converted at other input sizes: its upsample sizes and reshapes are
// computed for that size, so the .tflite runs at 320 or 640 where resizing the 416 conversion
// cannot. (Not at a batch: the ONNX file's own reshapes hold a batch of 1.)
TEST(InputShapeCli, OnnxConvertedAtAnotherInputShape) {
  const fs::path onnx = data_dir() / "models" / "yolox_nano_416.onnx";
  QDET_REQUIRE_PATH(onnx);
  const fs::path dir = testing::scratch_dir();
  struct Case {
    const char* shape;
    nlohmann::json input, output;
  };
  for (const Case& c : {Case{"1,3,320,320", {1, 320, 320, 3}, {1, 2100, 85}},
                        Case{"1,3,640,640", {1, 640, 640, 3}, {1, 8400, 85}}}) {
    const fs::path out = dir / (std::string("yolox_") + c.shape + ".tflite");
    std::string log;
    ASSERT_EQ(testing::run_command(std::string(QDET_BINARY) + " convert '" + onnx.string() +
                                       "' --input-shape " + c.shape + " -o '" + out.string() +
                                       "' --json",
                                   &log),
              0)
        << log;
    const auto j = json_of(log);
    EXPECT_EQ(j["inputs"][0]["shape"], c.input) << c.shape;
    EXPECT_EQ(j["outputs"][0]["shape"], c.output) << c.shape;
    ASSERT_EQ(testing::run_command(std::string(QDET_BINARY) + " run '" + out.string() + "' --json --first 0", &log), 0)
        << log;
    EXPECT_EQ(json_of(log)["outputs"][0]["shape"], c.output) << c.shape;
  }
  std::string log;
  EXPECT_NE(testing::run_command(std::string(QDET_BINARY) + " convert '" + onnx.string() +
                                     "' --input-shape 1,3,320 -o '" + (dir / "bad.tflite").string() + "' 2>&1",
                                 &log),
            0);
  EXPECT_EQ(log, "qdet: error: " + onnx.string() + ": --input-shape has 3 dims, input 'images' has 4\n");
  EXPECT_FALSE(fs::exists(dir / "bad.tflite"));
}

}  // namespace
}  // namespace qdet
