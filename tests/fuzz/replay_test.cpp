// Replays every fuzz target (tests/fuzz/*_fuzz.cpp, linked here without libFuzzer) on small
// valid seeds made here and on each file of the committed regression corpus
// tests/fuzz/regressions/<target>/: inputs that once crashed a target (found by
// scripts/fuzz.sh) stay tested in every build, under the sanitizers in CI.
// QDET_FUZZ_SEEDS_DIR=DIR writes the seeds to DIR/<target>/ (scripts/fuzz.sh's starting corpus).
#include <gmock/gmock.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "base/file.h"
#include "convert/convert_test_util.h"
#include "fuzz_target.h"
#include "image/codec.h"
#include "quant/calib_table.h"
#include "test_support.h"
#include "tflite/writer.h"

namespace qdet::fuzz {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }

Bytes tflite_seed() {
  graph::Model m;
  graph::Graph& g = m.graph;
  graph::Tensor x;
  x.name = "x";
  x.dtype = DType::kFloat32;
  x.shape = {1, 4, 4, 2};
  graph::Tensor c = x;
  c.name = "c";
  c.shape = {2};
  c.data = Bytes(8, 0);
  graph::Tensor y = x;
  y.name = "y";
  const int32_t xi = g.add_tensor(std::move(x)), ci = g.add_tensor(std::move(c)), yi = g.add_tensor(std::move(y));
  graph::Op op;
  op.kind = graph::OpKind::kAdd;
  op.inputs = {xi, ci};
  op.outputs = {yi};
  g.ops.push_back(op);
  g.inputs = {xi};
  g.outputs = {yi};
  auto bytes = tflite::write_tflite(m);
  EXPECT_TRUE(bytes.ok());
  return bytes.ok() ? *bytes : Bytes{};
}

Bytes onnx_seed() {
  convert::testing::OnnxBuilder b(13);
  b.input("x", {1, 3, 4, 4});
  b.random("w", {2, 3, 1, 1});
  b.node("Conv", {"x", "w"}, {"a"});
  b.node("Relu", {"a"}, {"y"});
  b.output("y");
  return text(b.bytes());
}

Bytes darknet_seed() {
  // cfg, NUL, weights: version 0.2 header (20 bytes), then 2 biases and 2x3 weights.
  Bytes out = text("[net]\nwidth=8\nheight=8\nchannels=3\n[convolutional]\nfilters=2\nsize=1\nactivation=leaky\n");
  out.push_back(0);
  const int32_t header[3] = {0, 2, 0};
  const uint64_t seen = 0;
  const float values[8] = {0.1f, -0.2f, 0.3f, 0.4f, -0.5f, 0.6f, 0.7f, -0.8f};
  auto append = [&](const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out.insert(out.end(), b, b + n);
  };
  append(header, sizeof header);
  append(&seen, sizeof seen);
  append(values, sizeof values);
  return out;
}

Bytes image_seed(bool png) {
  image::Image img(5, 3, 3);
  for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<uint8_t>(i * 17);
  auto bytes = png ? image::encode_png(img) : image::encode_jpeg(img);
  EXPECT_TRUE(bytes.ok());
  return bytes.ok() ? *bytes : Bytes{};
}

Bytes calib_table_seed() {
  quant::CalibrationTable t;
  t.model = "m.tflite";
  t.method = "mse";
  t.images = 2;
  t.tensors["x"].range = {-1.0f, 2.0f};
  t.tensors["x"].method = "mse";
  return text(quant::table_to_json(t));
}

std::map<std::string, std::vector<Bytes>> seeds() {
  return {
      {"tflite", {tflite_seed()}},
      {"onnx", {onnx_seed()}},
      {"darknet", {darknet_seed()}},
      {"coco_instances",
       {text(R"({"images":[{"id":1,"width":100,"height":80}],"categories":[{"id":1,"name":"a"}],)"
             R"("annotations":[{"id":1,"image_id":1,"category_id":1,"bbox":[10,10,20,30],"area":600,"iscrowd":0}]})")}},
      {"coco_results", {text(R"([{"image_id":1,"category_id":1,"bbox":[10,10,20,30],"score":0.9}])")}},
      {"image", {image_seed(true), image_seed(false)}},
      {"sidecar", {text(R"({"score_threshold":0.3,"iou_threshold":0.5,"max_detections":10})")}},
      {"calib_table", {calib_table_seed()}},
  };
}

class FuzzReplay : public ::testing::TestWithParam<std::string> {};

TEST_P(FuzzReplay, SeedsAndRegressionCorpusRunClean) {
  const std::string name = GetParam();
  ASSERT_TRUE(targets().count(name)) << "no fuzz target " << name;
  set_memory_budget(kFuzzMemoryBudget);
  const Target target = targets().at(name);
  const auto all_seeds = seeds();
  ASSERT_TRUE(all_seeds.count(name));
  const char* seeds_dir = std::getenv("QDET_FUZZ_SEEDS_DIR");
  int n = 0;
  for (const Bytes& seed : all_seeds.at(name)) {
    ASSERT_FALSE(seed.empty());
    EXPECT_EQ(target(seed.data(), seed.size()), 0);
    if (seeds_dir) {
      const fs::path dir = fs::path(seeds_dir) / name;
      ASSERT_TRUE(ensure_directory(dir).ok());
      ASSERT_TRUE(write_file_atomic(dir / fmt::format("seed_{}", n++), seed).ok());
    }
  }
  const fs::path corpus = fs::path(QDET_SOURCE_DIR) / "tests" / "fuzz" / "regressions" / name;
  if (!fs::is_directory(corpus)) return;
  for (const auto& entry : fs::directory_iterator(corpus)) {
    if (!entry.is_regular_file() || entry.path().filename() == "README.md") continue;
    SCOPED_TRACE(entry.path().string());
    auto bytes = read_file(entry.path());
    ASSERT_TRUE(bytes.ok());
    EXPECT_EQ(target(bytes->data(), bytes->size()), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzReplay,
                         ::testing::Values("tflite", "onnx", "darknet", "coco_instances", "coco_results",
                                           "image", "sidecar", "calib_table"));

TEST(FuzzReplay, EveryTargetIsReplayed) {
  EXPECT_EQ(targets().size(), 8u);
}

}  // namespace
}  // namespace qdet::fuzz
