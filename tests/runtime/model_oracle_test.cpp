// Whole models against the official TFLite interpreter: the oracle fixtures (dog.jpg
// preprocessed, outputs of the WebAssembly TFLite peer) and seeded random inputs run through
// the peer itself. Float outputs must agree within 1e-4 of the output's largest magnitude
// (summation order differs from XNNPACK's; measured differences are ~6e-6).
#include <gmock/gmock.h>

#include <cmath>
#include <cstring>
#include <random>

#include "base/file.h"
#include "base/paths.h"
#include "graph_builder.h"
#include "test_support.h"
#include "tflite/reader.h"

namespace qdet::rt {
namespace {

namespace fs = std::filesystem;
using ::qdet::testing::peer_command;
using ::qdet::testing::run_command;
using ::qdet::testing::scratch_dir;

fs::path model_path(const std::string& stem) { return data_dir() / "models" / (stem + ".tflite"); }
fs::path oracle_dir(const std::string& stem) { return fixtures_dir() / "oracle" / stem; }

// The file out_<id>_*.bin in `dir`, or an empty path.
fs::path output_file(const fs::path& dir, int32_t id) {
  const std::string prefix = "out_" + std::to_string(id) + "_";
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind(prefix, 0) == 0) return e.path();
  return {};
}

std::vector<float> as_floats(const std::vector<uint8_t>& bytes) {
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
  return v;
}

// Runs `stem` on `input` and compares every float output with the files in `expected_dir`.
void expect_outputs_match(const std::string& stem, const std::vector<uint8_t>& input,
                          const fs::path& expected_dir, InterpreterOptions options) {
  auto model = tflite::load_tflite(model_path(stem));
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto graph = std::make_shared<const graph::Graph>(std::move(model->graph));
  auto r = testing::run_graph(graph, {input}, options);
  ASSERT_TRUE(r.ok()) << r.status().message();
  for (size_t i = 0; i < (*r)->num_outputs(); ++i) {
    const TensorRef& out = (*r)->output(i);
    ASSERT_EQ(out.dtype, DType::kFloat32);
    const fs::path file = output_file(expected_dir, out.id);
    ASSERT_FALSE(file.empty()) << "no out_" << out.id << "_*.bin in " << expected_dir;
    auto expected_bytes = read_file(file);
    ASSERT_TRUE(expected_bytes.ok()) << expected_bytes.status().message();
    ASSERT_EQ(expected_bytes->size(), out.byte_size()) << file;
    const auto expected = as_floats(*expected_bytes);
    const auto actual = testing::values_of<float>(out);
    float max_mag = 0, max_diff = 0;
    size_t worst = 0;
    for (size_t k = 0; k < expected.size(); ++k) {
      max_mag = std::max(max_mag, std::fabs(expected[k]));
      const float diff = std::fabs(expected[k] - actual[k]);
      if (!(diff <= max_diff)) {  // also catches NaN
        max_diff = diff;
        worst = k;
      }
    }
    EXPECT_LE(max_diff, 1e-4f * max_mag)
        << stem << " output " << out.id << ": worst element " << worst << " is " << actual[worst]
        << ", TFLite gives " << expected[worst] << " (largest magnitude " << max_mag << ")";
  }
}

class FloatModel : public ::testing::TestWithParam<std::string> {};

TEST_P(FloatModel, MatchesTfliteOnOracleInput) {
  const std::string stem = GetParam();
  QDET_REQUIRE_PATH(model_path(stem));
  QDET_REQUIRE_PATH(oracle_dir(stem) / "input.bin");
  auto input = read_file(oracle_dir(stem) / "input.bin");
  ASSERT_TRUE(input.ok());
  // The reference kernels, then whatever the default (fast-first) choice is.
  expect_outputs_match(stem, *input, oracle_dir(stem), testing::kReferenceOnly);
  expect_outputs_match(stem, *input, oracle_dir(stem), InterpreterOptions{});
}

TEST_P(FloatModel, MatchesTflitePeerOnRandomInput) {
  const std::string stem = GetParam();
  QDET_REQUIRE_PATH(model_path(stem));
  QDET_REQUIRE_PEERS();
  auto model = tflite::load_tflite(model_path(stem));
  ASSERT_TRUE(model.ok()) << model.status().message();
  const graph::Tensor& in = model->graph.tensors[model->graph.inputs.at(0)];
  ASSERT_EQ(in.dtype, DType::kFloat32);
  // Pixel-like values in [0, 255) (YOLOX) or [0, 1) (YOLOv5), seeded.
  const float range = stem.find("yolox") != std::string::npos ? 255.0f : 1.0f;
  std::mt19937 rng(2024);
  std::uniform_real_distribution<float> u(0.0f, range);
  std::vector<float> values(static_cast<size_t>(in.num_elements()));
  for (float& v : values) v = u(rng);
  const fs::path dir = scratch_dir();
  const auto bytes = testing::to_bytes(values);
  ASSERT_TRUE(write_file_atomic(dir / "input.bin", bytes).ok());
  std::string log;
  const int rc = run_command(peer_command("tflite_run.js") + " '" + model_path(stem).string() +
                                 "' --input '" + (dir / "input.bin").string() +
                                 "' --warmup 0 --runs 0 --dump-dir '" + (dir / "peer").string() + "'",
                             &log);
  ASSERT_EQ(rc, 0) << log;
  expect_outputs_match(stem, bytes, dir / "peer", {.num_threads = 2, .use_fast_kernels = false});
}

// yolov5n-fp16 stores its weights as float16 behind DEQUANTIZE ops: those are folded at plan
// time, so every CONV_2D sees constant float32 weights and runs on a fast family (the outputs'
// agreement with the oracle under these default options is MatchesTfliteOnOracleInput).
TEST(Fp16Model, DequantizedWeightsAreFoldedAndConvolutionsRunOnXnnpack) {
  QDET_REQUIRE_PATH(model_path("yolov5n-fp16"));
  auto model = tflite::load_tflite(model_path("yolov5n-fp16"));
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto graph = std::make_shared<const graph::Graph>(std::move(model->graph));
  auto interp = Interpreter::create(graph, InterpreterOptions{});
  ASSERT_TRUE(interp.ok()) << interp.status().message();
  int convs = 0, dequantizes = 0;
  for (size_t i = 0; i < graph->ops.size(); ++i) {
    const graph::OpKind kind = graph->ops[i].kind;
    const std::string kernel = (*interp)->kernel_name(i);
    if (kind == graph::OpKind::kConv2d) {
      ++convs;
      // A fast family packs the folded constant weights: qdet's 1x1 tiles, oneDNN's JIT, or XNNPACK.
      EXPECT_TRUE(kernel == "simd" || kernel == "onednn" || kernel == "xnnpack") << "op " << i << ": " << kernel;
    }
    if (kind == graph::OpKind::kDequantize) {
      ++dequantizes;
      EXPECT_EQ(kernel, "folded") << "op " << i;
    }
  }
  EXPECT_EQ(convs, 60);
  EXPECT_EQ(dequantizes, 131);
}

INSTANTIATE_TEST_SUITE_P(SharedModels, FloatModel,
                         ::testing::Values("yolox_nano_fp32_416", "yolov5n-fp16"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

}  // namespace
}  // namespace qdet::rt
