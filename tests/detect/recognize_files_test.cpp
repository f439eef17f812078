// Recognition of the shipped .tflite files from their contents (copied under a neutral name, so
// the file name cannot help).
#include <gtest/gtest.h>

#include "detect/preset.h"
#include "graph/graph.h"
#include "tflite/reader.h"
#include "test_support.h"

namespace qdet::detect {
namespace {

TEST(RecognizeFiles, ShippedModels) {
  const std::pair<const char*, const char*> cases[] = {
      {"yolox_nano_fp32_416.tflite", "yolox_nano"},
      {"ssd_mobilenet_v1_1_metadata_1.tflite", "ssd_mobilenet_v1"},
      {"yolov5n-fp16.tflite", "yolov5n"},
      {"yolov5n-int8.tflite", "yolov5n_uint8"},
  };
  const auto dir = testing::scratch_dir();
  for (auto [file, preset] : cases) {
    SCOPED_TRACE(file);
    const auto path = data_dir() / "models" / file;
    QDET_REQUIRE_PATH(path);
    std::filesystem::copy_file(path, dir / "model.tflite", std::filesystem::copy_options::overwrite_existing);
    auto model = tflite::load_tflite(dir / "model.tflite");
    ASSERT_TRUE(model.ok()) << model.status().to_string();
    auto p = recognize(signature_of(model->graph));
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    EXPECT_EQ(p->name, preset);
    EXPECT_EQ(p->input_dtype, model->graph.tensors[model->graph.inputs[0]].dtype);
    EXPECT_EQ(p->input_width, p->name == "ssd_mobilenet_v1" ? 300 : p->name == "yolox_nano" ? 416 : 640);
  }
}

}  // namespace
}  // namespace qdet::detect
