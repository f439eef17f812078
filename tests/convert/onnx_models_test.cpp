// The three ONNX models in ../shared/data/models, converted: the official TFLite (WASM peer)
// and qdet's interpreter on the converted file give ONNX Runtime's outputs on the source model
// for the same input (NCHW for ORT, the same data as NHWC for TFLite), within 1e-4 of the
// largest output magnitude.
#include <gtest/gtest.h>

#include <set>

#include "convert/onnx/importer.h"
#include "convert_test_util.h"
#include "tflite/reader.h"

namespace qdet::convert::testing {
namespace {

struct ModelCase {
  std::string stem;
  std::vector<int32_t> nchw;
  float lo, hi;  // input range the model expects
  std::set<std::string> ops;  // exactly the op kinds the converted graph has
};

const ModelCase kCases[] = {
    {"yolox_nano_416", {1, 3, 416, 416}, 0.f, 255.f,
     {"ADD", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "LOGISTIC", "MAX_POOL_2D", "MUL", "PAD", "RESHAPE",
      "RESIZE_NEAREST_NEIGHBOR", "STRIDED_SLICE"}},
    {"nanodet_m_416", {1, 3, 416, 416}, -2.f, 2.f,
     {"ADD", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "LEAKY_RELU", "LOGISTIC", "MAX_POOL_2D", "PAD", "PADV2",
      "RESHAPE", "RESIZE_BILINEAR", "SPLIT", "SPLIT_V", "TRANSPOSE"}},
    {"FastestDet_352", {1, 3, 352, 352}, 0.f, 1.f,
     {"ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "GATHER", "LOGISTIC", "MAX_POOL_2D",
      "PAD", "PADV2", "RESHAPE", "RESIZE_NEAREST_NEIGHBOR", "SOFTMAX"}},
};

class OnnxModelTest : public ::testing::TestWithParam<ModelCase> {};

// ONNX Runtime's NCHW image outputs, made NHWC like the converted model's.
std::vector<float> as_converted_layout(const std::vector<float>& ort, const Shape& tflite_shape) {
  if (tflite_shape.size() != 4) return ort;
  return nchw_to_nhwc(ort, tflite_shape[0], tflite_shape[3], tflite_shape[1], tflite_shape[2]);
}

TEST_P(OnnxModelTest, ConvertsAndMatchesOnnxRuntime) {
  const ModelCase& c = GetParam();
  const auto onnx_path = data_dir() / "models" / (c.stem + ".onnx");
  QDET_REQUIRE_PATH(onnx_path);
  auto model = onnx::import_file(onnx_path);
  ASSERT_TRUE(model.ok()) << model.status().message();
  const graph::Graph& g = model->graph;

  std::set<std::string> ops;
  for (const auto& op : g.ops) ops.insert(op.name());
  EXPECT_EQ(ops, c.ops);
  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.tensors[g.inputs[0]].shape, (Shape{c.nchw[0], c.nchw[2], c.nchw[3], c.nchw[1]}));
  EXPECT_NE(model->description.find("NHWC"), std::string::npos) << model->description;

  QDET_REQUIRE_PEERS();
  const auto dir = ::qdet::testing::scratch_dir();
  const auto tflite_path = dir / (c.stem + ".tflite");
  ASSERT_TRUE(tflite::save_tflite(tflite_path, *model).ok());
  const auto x = random_floats(num_elements(c.nchw), c.lo, c.hi);
  const auto x_nhwc = nchw_to_nhwc(x, c.nchw);
  write_floats(dir / "in_nchw.bin", x);
  write_floats(dir / "in_nhwc.bin", x_nhwc);

  const auto ort = run_peer("ort_run.js", onnx_path, dir / "in_nchw.bin", dir / "ort");
  const auto tfl = run_peer("tflite_run.js", tflite_path, dir / "in_nhwc.bin", dir / "tflite");
  // The file as written is what qdet's interpreter runs.
  auto reread = tflite::load_tflite(tflite_path);
  ASSERT_TRUE(reread.ok()) << reread.status().message();
  const auto own = run_qdet(*reread, {x_nhwc});
  ASSERT_EQ(ort.size(), g.outputs.size());
  ASSERT_EQ(tfl.size(), g.outputs.size());
  ASSERT_EQ(own.size(), g.outputs.size());
  for (size_t i = 0; i < g.outputs.size(); ++i) {
    const auto& t = g.tensors[g.outputs[i]];
    ASSERT_TRUE(ort.count(sanitized(t.name)) && tfl.count(sanitized(t.name))) << "no dump for output " << t.name;
    const auto want = as_converted_layout(ort.at(sanitized(t.name)), t.shape);
    const Diff d_tfl = compare(want, tfl.at(sanitized(t.name)));
    const Diff d_own = compare(want, own[i]);
    std::printf("[ measure ] %s output '%s' %s: max |ORT - TFLite| = %.3g, max |ORT - qdet| = %.3g, max |ORT| = %.4g\n",
                c.stem.c_str(), t.name.c_str(), shape_to_string(t.shape).c_str(), d_tfl.max_abs_diff,
                d_own.max_abs_diff, d_tfl.max_magnitude);
    EXPECT_LE(d_tfl.relative(), 1e-4) << "official TFLite vs ONNX Runtime, output " << t.name;
    EXPECT_LE(d_own.relative(), 1e-4) << "qdet vs ONNX Runtime, output " << t.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Shared, OnnxModelTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return info.param.stem; });

}  // namespace
}  // namespace qdet::convert::testing
