#include "tflite/reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "model_files.h"
#include "test_support.h"

namespace qdet::tflite {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAreArray;
using testing::model_files;

std::set<std::string> op_names(const graph::Model& m) {
  std::set<std::string> names;
  for (const auto& op : m.graph.ops) names.insert(op.name());
  return names;
}

graph::Model load_or_die(const std::string& stem) {
  auto path = data_dir() / "models" / (stem + ".tflite");
  auto model = load_tflite(path);
  EXPECT_TRUE(model.ok()) << model.status().message();
  return model.ok() ? std::move(model).value() : graph::Model{};
}

TEST(ReadTflite, YoloxNanoFp32) {
  QDET_REQUIRE_PATH(model_files()[0].path());
  graph::Model m = load_or_die("yolox_nano_fp32_416");
  const graph::Graph& g = m.graph;
  EXPECT_EQ(m.version, 3u);
  EXPECT_THAT(op_names(m),
              UnorderedElementsAreArray(std::set<std::string>{
                  "CONV_2D", "DEPTHWISE_CONV_2D", "LOGISTIC", "MUL", "CONCATENATION", "ADD",
                  "STRIDED_SLICE", "PAD", "TRANSPOSE", "SCATTER_ND", "MAX_POOL_2D", "RESHAPE",
                  "RESIZE_NEAREST_NEIGHBOR", "SUB", "BROADCAST_TO", "EXP"}));
  ASSERT_EQ(g.inputs.size(), 1u);
  ASSERT_EQ(g.outputs.size(), 1u);
  EXPECT_EQ(g.tensors[g.inputs[0]].shape, (Shape{1, 416, 416, 3}));
  EXPECT_EQ(g.tensors[g.inputs[0]].dtype, DType::kFloat32);
  EXPECT_EQ(g.outputs[0], 642);
  EXPECT_EQ(g.tensors[g.outputs[0]].shape, (Shape{1, 3549, 85}));
  EXPECT_EQ(g.tensors[g.outputs[0]].dtype, DType::kFloat32);
  EXPECT_TRUE(m.trailing.empty());
  // The first convolution: a 3x3 (or larger) float kernel with its bias, both constants.
  const graph::Op* conv = nullptr;
  for (const auto& op : g.ops)
    if (op.kind == graph::OpKind::kConv2d) { conv = &op; break; }
  ASSERT_NE(conv, nullptr);
  ASSERT_EQ(conv->inputs.size(), 3u);
  EXPECT_TRUE(g.tensors[conv->inputs[1]].is_constant());
  EXPECT_EQ(g.tensors[conv->inputs[1]].shape.size(), 4u);
  EXPECT_GE(conv->attrs.stride_w, 1);
}

TEST(ReadTflite, SsdMobilenetCustomOpAndMetadata) {
  QDET_REQUIRE_PATH(model_files()[1].path());
  graph::Model m = load_or_die("ssd_mobilenet_v1_1_metadata_1");
  const graph::Graph& g = m.graph;
  EXPECT_THAT(op_names(m), UnorderedElementsAreArray(std::set<std::string>{
                               "CONV_2D", "DEPTHWISE_CONV_2D", "RESHAPE", "CONCATENATION",
                               "LOGISTIC", "TFLite_Detection_PostProcess"}));
  ASSERT_EQ(g.inputs.size(), 1u);
  const graph::Tensor& in = g.tensors[g.inputs[0]];
  EXPECT_EQ(in.shape, (Shape{1, 300, 300, 3}));
  EXPECT_EQ(in.dtype, DType::kUInt8);
  EXPECT_EQ(in.quant.scale.size(), 1u);
  EXPECT_THAT(g.outputs, ElementsAre(167, 168, 169, 170));
  // The post-processing outputs carry no shape in the file: TFLite sets it ([1,10,4], [1,10],
  // [1,10], [1]) when the op is prepared.
  for (int32_t id : g.outputs) EXPECT_TRUE(g.tensors[id].shape.empty());
  for (int32_t id : g.outputs) EXPECT_EQ(g.tensors[id].dtype, DType::kFloat32);
  const graph::Op& post = g.ops.back();
  EXPECT_EQ(post.kind, graph::OpKind::kDetectionPostProcess);
  EXPECT_EQ(post.custom_code, "TFLite_Detection_PostProcess");
  EXPECT_FALSE(post.custom_options.empty());  // flexbuffer map (num_classes 90, ...)
  // TFLite metadata (a flatbuffer with its own identifier "M001") and the zip of associated
  // files appended after the model flatbuffer.
  ASSERT_FALSE(m.metadata.empty());
  bool found = false;
  for (const auto& md : m.metadata)
    if (md.name == "TFLITE_METADATA") {
      found = true;
      ASSERT_GE(md.data.size(), 8u);
      EXPECT_EQ(std::string(md.data.begin() + 4, md.data.begin() + 8), "M001");
    }
  EXPECT_TRUE(found);
  ASSERT_GE(m.trailing.size(), 4u);
  EXPECT_EQ(std::string(m.trailing.begin(), m.trailing.begin() + 4), std::string("PK\x03\x04"));
}

TEST(ReadTflite, Yolov5nFp16) {
  QDET_REQUIRE_PATH(model_files()[2].path());
  graph::Model m = load_or_die("yolov5n-fp16");
  const graph::Graph& g = m.graph;
  EXPECT_THAT(op_names(m), UnorderedElementsAreArray(std::set<std::string>{
                               "DEQUANTIZE", "MUL", "LOGISTIC", "CONV_2D", "CONCATENATION",
                               "ADD", "STRIDED_SLICE", "PAD", "RESHAPE", "MAX_POOL_2D",
                               "RESIZE_NEAREST_NEIGHBOR"}));
  EXPECT_EQ(g.tensors[g.inputs[0]].shape, (Shape{1, 640, 640, 3}));
  EXPECT_EQ(g.tensors[g.inputs[0]].dtype, DType::kFloat32);
  EXPECT_EQ(g.outputs[0], 401);
  EXPECT_EQ(g.tensors[401].shape, (Shape{1, 25200, 85}));
  int fp16_constants = 0;
  for (const auto& t : g.tensors) fp16_constants += t.dtype == DType::kFloat16 && t.is_constant();
  EXPECT_GT(fp16_constants, 50);
  for (const auto& op : g.ops)
    if (op.kind == graph::OpKind::kDequantize) {
      EXPECT_EQ(g.tensors[op.inputs[0]].dtype, DType::kFloat16);
    }
}

TEST(ReadTflite, Yolov5nInt8) {
  QDET_REQUIRE_PATH(model_files()[3].path());
  graph::Model m = load_or_die("yolov5n-int8");
  const graph::Graph& g = m.graph;
  EXPECT_THAT(op_names(m), UnorderedElementsAreArray(std::set<std::string>{
                               "QUANTIZE", "MUL", "LOGISTIC", "CONV_2D", "CONCATENATION",
                               "ADD", "STRIDED_SLICE", "PAD", "RESHAPE", "MAX_POOL_2D",
                               "RESIZE_NEAREST_NEIGHBOR"}));
  const graph::Tensor& in = g.tensors[g.inputs[0]];
  EXPECT_EQ(in.shape, (Shape{1, 640, 640, 3}));
  EXPECT_EQ(in.dtype, DType::kUInt8);
  ASSERT_EQ(g.outputs[0], 427);
  const graph::Tensor& out = g.tensors[427];
  EXPECT_EQ(out.shape, (Shape{1, 25200, 85}));
  EXPECT_EQ(out.dtype, DType::kUInt8);
  ASSERT_EQ(out.quant.scale.size(), 1u);
  EXPECT_NEAR(out.quant.scale[0], 0.0044835, 5e-7);
  EXPECT_EQ(out.quant.zero_point[0], 3);
  // Converter int8: per-channel int8 conv weights along dimension 0, int32 biases.
  int per_channel = 0;
  for (const auto& op : g.ops) {
    if (op.kind != graph::OpKind::kConv2d) continue;
    const graph::Tensor& w = g.tensors[op.inputs[1]];
    EXPECT_EQ(w.dtype, DType::kInt8);
    EXPECT_EQ(g.tensors[op.inputs[2]].dtype, DType::kInt32);
    if (w.quant.per_axis()) {  // NOLINT
      ++per_channel;
      EXPECT_EQ(w.quant.quantized_dimension, 0);
      EXPECT_EQ(w.quant.scale.size(), static_cast<size_t>(w.shape[0]));
    }
  }
  EXPECT_GT(per_channel, 0);
}

TEST(ReadTflite, BuiltinNames) {
  EXPECT_EQ(tflite_builtin_name(3), "CONV_2D");
  EXPECT_EQ(tflite_builtin_name(150), "GELU");
  EXPECT_EQ(tflite_builtin_name(32), "CUSTOM");
  EXPECT_EQ(tflite_builtin_name(-1), "UNKNOWN");
  EXPECT_EQ(tflite_builtin_name(100000), "UNKNOWN");
}

TEST(ReadTflite, MissingFileNamesThePath) {
  auto m = load_tflite("/nonexistent/model.tflite");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("/nonexistent/model.tflite"), std::string::npos);
}

}  // namespace
}  // namespace qdet::tflite
