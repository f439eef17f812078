// yolox_raw on real raw outputs: YOLOX-Nano's ONNX export (no decode in the graph) run by ONNX
// Runtime (the peer) on dog.jpg preprocessed by qdet in NCHW; decoding must find what the
// decoded TFLite model finds (oracle README: dog 0.855, bicycle 0.803, car 0.798).
#include <gtest/gtest.h>

#include "base/file.h"
#include "detect/head.h"
#include "detect/labels.h"
#include "detect/nms.h"
#include "detect/preset.h"
#include "image/codec.h"
#include "test_support.h"

namespace qdet::detect {
namespace {

namespace fs = std::filesystem;

TEST(YoloxRawPeer, OnnxRuntimeOutputsDecode) {
  const fs::path model = data_dir() / "models" / "yolox_nano_416.onnx";
  const fs::path dog = data_dir() / "models" / "dog.jpg";
  QDET_REQUIRE_PATH(model);
  QDET_REQUIRE_PATH(dog);
  QDET_REQUIRE_PEERS();
  auto preset = find_preset("yolox_nano_raw");
  ASSERT_TRUE(preset.ok());
  preset->layout = image::Layout::kNchw;
  auto img = image::load_image(dog);
  ASSERT_TRUE(img.ok());
  image::Geometry g;
  auto input = image::build_tensor(*img, preset->tensor_format(), &g);
  ASSERT_TRUE(input.ok());
  const fs::path dir = testing::scratch_dir();
  ASSERT_TRUE(write_file_atomic(dir / "input.bin", *input).ok());
  std::string out;
  const int rc = testing::run_command(testing::peer_command("ort_run.js") + " '" + model.string() +
                                          "' --input '" + (dir / "input.bin").string() +
                                          "' --warmup 0 --runs 1 --dump-dir '" + dir.string() + "'",
                                      &out);
  ASSERT_EQ(rc, 0) << out;
  fs::path raw;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind("out_", 0) == 0) raw = e.path();
  ASSERT_FALSE(raw.empty()) << out;
  auto bytes = read_file(raw);
  ASSERT_TRUE(bytes.ok());
  OutputView v;
  v.data = *bytes;
  v.shape = {1, 3549, 85};
  v.name = raw.filename().string();
  HeadOptions o;
  o.input_width = o.input_height = 416;
  o.score_threshold = preset->score_threshold;
  auto cands = (*find_head("yolox_raw"))->decode({&v, 1}, o);
  ASSERT_TRUE(cands.ok()) << cands.status().to_string();
  auto dets = map_to_source(nms(*cands, {}), g);
  ASSERT_GE(dets.size(), 3u);
  const char* names[] = {"dog", "bicycle", "car"};
  const float scores[] = {0.855f, 0.803f, 0.798f};
  for (int i = 0; i < 3; ++i) {
    EXPECT_STREQ(coco80_names()[dets[i].class_id], names[i]);
    EXPECT_NEAR(dets[i].score, scores[i], 0.01);
  }
  EXPECT_NEAR(dets[0].x0, 133, 10);
  EXPECT_NEAR(dets[0].x1, 326, 10);
}

}  // namespace
}  // namespace qdet::detect
