#include "tflite/writer.h"

#include <gtest/gtest.h>

#include <fstream>

#include "base/file.h"
#include "model_compare.h"
#include "model_files.h"
#include "test_support.h"
#include "tflite/reader.h"
#include "tflite/tflite_generated.h"

namespace qdet::tflite {
namespace {

using testing::first_difference;
using testing::model_files;

class RoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(RoundTrip, ReadWriteReadPreservesTheModel) {
  testing::ModelFile file{GetParam()};
  QDET_REQUIRE_PATH(file.path());
  auto original = load_tflite(file.path());
  ASSERT_TRUE(original.ok()) << original.status().message();
  auto bytes = write_tflite(*original);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  auto again = read_tflite(*bytes, "written.tflite");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(first_difference(*original, *again), "");
  // Writing is deterministic: the same model gives the same bytes.
  auto bytes2 = write_tflite(*again);
  ASSERT_TRUE(bytes2.ok());
  EXPECT_TRUE(*bytes == *bytes2);
}

// The written file runs in the official TFLite interpreter (the WebAssembly peer) and gives
// byte-identical outputs to the original file on the model's oracle input.
TEST_P(RoundTrip, WrittenFileRunsInTfliteWithIdenticalOutputs) {
  testing::ModelFile file{GetParam()};
  QDET_REQUIRE_PATH(file.path());
  QDET_REQUIRE_PATH(file.oracle_dir() / "input.bin");
  QDET_REQUIRE_PEERS();
  auto original = load_tflite(file.path());
  ASSERT_TRUE(original.ok()) << original.status().message();
  const auto dir = ::qdet::testing::scratch_dir();
  const auto written = dir / "written.tflite";
  ASSERT_TRUE(save_tflite(written, *original).ok());

  auto run = [&](const std::filesystem::path& model, const std::filesystem::path& out) {
    std::string output;
    int rc = ::qdet::testing::run_command(
        ::qdet::testing::peer_command("tflite_run.js") + " '" + model.string() + "' --input '" +
            (file.oracle_dir() / "input.bin").string() + "' --warmup 0 --runs 1 --dump-dir '" +
            out.string() + "'",
        &output);
    EXPECT_EQ(rc, 0) << output;
  };
  // The oracle folder holds the original file's outputs from this same peer on this input;
  // when the written file's outputs differ, the original is rerun to tell a writer bug from a
  // peer that no longer matches its fixtures.
  run(written, dir / "written");
  int compared = 0;
  for (const auto& entry : std::filesystem::directory_iterator(file.oracle_dir())) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("out_", 0) != 0) continue;
    auto expected = read_file(entry.path());
    auto actual = read_file(dir / "written" / name);
    ASSERT_TRUE(expected.ok() && actual.ok()) << name;
    if (*expected != *actual) {
      run(file.path(), dir / "original");
      auto rerun = read_file(dir / "original" / name);
      ASSERT_TRUE(rerun.ok()) << name;
      EXPECT_TRUE(*rerun == *actual) << name << ": written file's output differs from the original's";
    }
    ++compared;
  }
  EXPECT_EQ(compared, static_cast<int>(original->graph.outputs.size()));
}

INSTANTIATE_TEST_SUITE_P(SharedModels, RoundTrip,
                         ::testing::Values("yolox_nano_fp32_416", "ssd_mobilenet_v1_1_metadata_1",
                                           "yolov5n-fp16", "yolov5n-int8"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

graph::Model small_model() {
  graph::Model m;
  graph::Graph& g = m.graph;
  g.name = "small";
  g.add_tensor({.name = "in", .dtype = DType::kFloat32, .shape = {1, 4}});
  graph::Tensor w{.name = "w", .dtype = DType::kFloat32, .shape = {1, 4}};
  w.data.assign(16, 0);
  w.data[3] = 0x3f;  // 0.5f
  g.add_tensor(w);
  g.add_tensor({.name = "sum", .dtype = DType::kFloat32, .shape = {1, 4}});
  g.add_tensor({.name = "out", .dtype = DType::kFloat32, .shape = {1, 4}});
  g.inputs = {0};
  g.outputs = {3};
  graph::Op add{.kind = graph::OpKind::kAdd, .inputs = {0, 1}, .outputs = {2}};
  add.attrs.activation = graph::Activation::kRelu6;
  g.ops.push_back(add);
  g.ops.push_back(graph::Op{.kind = graph::OpKind::kAdd, .inputs = {2, 1}, .outputs = {3}});
  m.description = "hand-made";
  m.metadata.push_back({"min_runtime_version", {'1', '.', '5'}});
  m.signatures.push_back({"serving_default", {{"x", 0}}, {{"y", 3}}, 0});
  m.trailing = {'P', 'K', 3, 4, 0, 0};
  return m;
}

TEST(WriteTflite, SmallModelRoundTripsWithSharedOpCodes) {
  graph::Model m = small_model();
  auto bytes = write_tflite(m);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  auto back = read_tflite(*bytes, "small.tflite");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(first_difference(m, *back), "");
  EXPECT_EQ(back->graph.ops[0].attrs.activation, graph::Activation::kRelu6);
}

TEST(WriteTflite, EqualVectorsAreWrittenOnce) {
  // Two int8 per-channel weights of 3 channels: their zero points (all 0) and shapes are equal
  // and shared in the file; their scales differ and are not.
  graph::Model m;
  graph::Graph& g = m.graph;
  g.name = "shared";
  for (int k = 0; k < 2; ++k) {
    graph::Tensor w{.name = "w" + std::to_string(k), .dtype = DType::kInt8, .shape = {3, 2}};
    w.data.assign(6, static_cast<uint8_t>(k + 1));
    w.quant.scale = {0.5f + k, 0.25f, 0.125f};
    w.quant.zero_point = {0, 0, 0};
    g.add_tensor(w);
  }
  g.add_tensor({.name = "in", .dtype = DType::kInt8, .shape = {3, 2}});
  g.add_tensor({.name = "out", .dtype = DType::kInt8, .shape = {3, 2}});
  g.tensors[2].quant.scale = {1.f};
  g.tensors[2].quant.zero_point = {0};
  g.tensors[3].quant = g.tensors[2].quant;
  g.inputs = {2};
  g.outputs = {3};
  g.ops.push_back(graph::Op{.kind = graph::OpKind::kAdd, .inputs = {2, 0}, .outputs = {3}});
  auto bytes = write_tflite(m);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  const auto* model = tfl::GetModel(bytes->data());
  const auto* tensors = model->subgraphs()->Get(0)->tensors();
  EXPECT_EQ(tensors->Get(0)->quantization()->zero_point(), tensors->Get(1)->quantization()->zero_point());
  EXPECT_EQ(tensors->Get(0)->shape(), tensors->Get(1)->shape());
  EXPECT_NE(tensors->Get(0)->quantization()->scale(), tensors->Get(1)->quantization()->scale());
  auto back = read_tflite(*bytes, "shared.tflite");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(first_difference(m, *back), "");
}

TEST(WriteTflite, RejectsAGraphThatDoesNotVerify) {
  graph::Model m = small_model();
  m.graph.ops[1].inputs[0] = 9;
  auto bytes = write_tflite(m);
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.status().message(), "writing TFLite: op 1 (ADD) input refers to tensor 9 of 4");
}

TEST(WriteTflite, SaveIsAtomicAndReadable) {
  const auto path = ::qdet::testing::scratch_dir() / "small.tflite";
  ASSERT_TRUE(save_tflite(path, small_model()).ok());
  auto back = load_tflite(path);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(first_difference(small_model(), *back), "");
  // Only the target remains in the folder (no temporary file left behind).
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(path.parent_path()))
    ++files;
  EXPECT_EQ(files, 1);
}

}  // namespace
}  // namespace qdet::tflite
