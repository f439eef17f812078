// Small ONNX models built here, one family of ops each, converted and checked against ONNX
// Runtime (qdet's interpreter and the official TFLite), plus what the converted graph looks
// like (folds, fusions, layouts) and the errors for bad input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "convert/convert.h"
#include "convert/layout.h"
#include "convert/onnx/importer.h"
#include "convert_test_util.h"
#include "tflite/reader.h"

namespace qdet::convert::testing {
namespace {

using ::testing::HasSubstr;

Result<graph::Model> import_bytes(const std::string& bytes, const std::string& name = "test.onnx") {
  auto m = onnx::parse_model(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
                             name);
  if (!m.ok()) return m.status();
  return onnx::import_model(*m);
}

std::map<std::string, int> op_counts(const graph::Graph& g) {
  std::map<std::string, int> c;
  for (const auto& op : g.ops) ++c[op.name()];
  return c;
}

// Converts `b`, runs ORT on the source and qdet + TFLite on the result with one random NCHW
// input of `shape`, and compares every output (4-D outputs in NHWC).
void check_against_ort(const OnnxBuilder& b, const std::vector<int32_t>& shape, float lo = -1.f, float hi = 1.f) {
  auto model = import_bytes(b.bytes());
  ASSERT_TRUE(model.ok()) << model.status().message();
  QDET_REQUIRE_PEERS();
  const auto dir = ::qdet::testing::scratch_dir();
  const auto onnx_path = b.save(dir / "model.onnx");
  ASSERT_TRUE(tflite::save_tflite(dir / "model.tflite", *model).ok());
  const auto x = random_floats(num_elements(shape), lo, hi, 11);
  const auto x_t = shape.size() == 4 ? nchw_to_nhwc(x, shape) : x;
  write_floats(dir / "in.bin", x);
  write_floats(dir / "in_t.bin", x_t);
  const auto ort = run_peer("ort_run.js", onnx_path, dir / "in.bin", dir / "ort");
  const auto tfl = run_peer("tflite_run.js", dir / "model.tflite", dir / "in_t.bin", dir / "tfl");
  const auto own = run_qdet(*model, {x_t});
  const graph::Graph& g = model->graph;
  ASSERT_EQ(own.size(), g.outputs.size());
  for (size_t i = 0; i < g.outputs.size(); ++i) {
    const auto& t = g.tensors[g.outputs[i]];
    const std::string key = sanitized(t.name);
    ASSERT_TRUE(ort.count(key) && tfl.count(key)) << t.name;
    auto want = ort.at(key);
    if (t.shape.size() == 4) want = nchw_to_nhwc(want, t.shape[0], t.shape[3], t.shape[1], t.shape[2]);
    EXPECT_LE(compare(want, own[i]).relative(), 1e-5) << "qdet, output " << t.name;
    EXPECT_LE(compare(want, tfl.at(key)).relative(), 1e-5) << "TFLite, output " << t.name;
  }
}

TEST(OnnxOps, ConvBatchNormReluFoldsAndFuses) {
  OnnxBuilder b(13);
  b.input("x", {1, 3, 9, 10});
  b.random("w", {4, 3, 3, 3});
  b.random("bias", {4});
  b.floats("gamma", {4}, {1.f, 0.5f, 2.f, -1.f});
  b.floats("beta", {4}, {0.1f, 0.2f, -0.3f, 0.f});
  b.floats("mean", {4}, {0.05f, -0.1f, 0.f, 0.2f});
  b.floats("var", {4}, {1.f, 0.25f, 4.f, 0.5f});
  auto& conv = b.node("Conv", {"x", "w", "bias"}, {"c"});
  OnnxBuilder::attr(conv, "pads", std::vector<int64_t>{1, 1, 1, 1});
  OnnxBuilder::attr(conv, "strides", std::vector<int64_t>{2, 2});
  b.node("BatchNormalization", {"c", "gamma", "beta", "mean", "var"}, {"bn"});
  b.node("Relu", {"bn"}, {"y"});
  b.output("y");
  auto m = import_bytes(b.bytes());
  ASSERT_TRUE(m.ok()) << m.status().message();
  // BN folded into the weights, ReLU fused; the stride-2 pads (1 before, 0 reached after) are
  // not SAME on these sizes, so an explicit PAD remains.
  EXPECT_EQ(op_counts(m->graph), (std::map<std::string, int>{{"CONV_2D", 1}, {"PAD", 1}}));
  EXPECT_EQ(m->graph.ops.back().attrs.activation, graph::Activation::kRelu);
  EXPECT_EQ(m->graph.tensors[m->graph.outputs[0]].name, "y");
  check_against_ort(b, {1, 3, 9, 10});
}

TEST(OnnxOps, GroupedDepthwiseAndStandaloneBatchNorm) {
  OnnxBuilder b(13);
  b.input("x", {1, 4, 8, 8});
  b.random("wg", {6, 2, 3, 3});  // 2 groups
  b.random("wd", {12, 1, 3, 3});  // depthwise, multiplier 2
  b.floats("gamma", {12}, std::vector<float>(12, 1.5f));
  b.floats("beta", {12}, std::vector<float>(12, 0.1f));
  b.floats("mean", {12}, std::vector<float>(12, 0.2f));
  b.floats("var", {12}, std::vector<float>(12, 2.f));
  auto& g = b.node("Conv", {"x", "wg"}, {"g"});
  OnnxBuilder::attr(g, "group", int64_t{2});
  OnnxBuilder::attr(g, "pads", std::vector<int64_t>{1, 1, 1, 1});
  auto& d = b.node("Conv", {"g", "wd"}, {"d"});
  OnnxBuilder::attr(d, "group", int64_t{6});
  OnnxBuilder::attr(d, "pads", std::vector<int64_t>{2, 2, 2, 2});
  OnnxBuilder::attr(d, "dilations", std::vector<int64_t>{2, 2});
  auto& clip = b.node("Clip", {"d"}, {"c"});
  (void)clip;
  b.node("Sigmoid", {"c"}, {"s"});
  b.node("BatchNormalization", {"s", "gamma", "beta", "mean", "var"}, {"y"});
  b.output("y");
  auto m = import_bytes(b.bytes());
  ASSERT_TRUE(m.ok()) << m.status().message();
  auto c = op_counts(m->graph);
  EXPECT_EQ(c["SPLIT"], 1);
  EXPECT_EQ(c["CONV_2D"], 2);
  EXPECT_EQ(c["DEPTHWISE_CONV_2D"], 1);
  EXPECT_EQ(c["MUL"], 1);  // standalone BN: x * s + t
  EXPECT_EQ(c["ADD"], 1);
  check_against_ort(b, {1, 4, 8, 8});
}

TEST(OnnxOps, PoolsPadResizeSoftmax) {
  OnnxBuilder b(13);
  b.input("x", {1, 3, 11, 12});
  auto& mp = b.node("MaxPool", {"x"}, {"mp"});
  OnnxBuilder::attr(mp, "kernel_shape", std::vector<int64_t>{3, 3});
  OnnxBuilder::attr(mp, "strides", std::vector<int64_t>{2, 2});
  OnnxBuilder::attr(mp, "ceil_mode", int64_t{1});
  auto& ap = b.node("AveragePool", {"x"}, {"ap"});
  OnnxBuilder::attr(ap, "kernel_shape", std::vector<int64_t>{3, 3});
  OnnxBuilder::attr(ap, "pads", std::vector<int64_t>{1, 1, 1, 1});
  OnnxBuilder::attr(ap, "strides", std::vector<int64_t>{2, 2});
  OnnxBuilder::attr(ap, "count_include_pad", int64_t{1});
  b.int64s("pads", {8}, {0, 0, 1, 2, 0, 0, 2, 1});
  b.floats("pv", {}, {0.5f});
  b.node("Pad", {"ap", "pads", "pv"}, {"p"});
  b.floats("scales", {4}, {1.f, 1.f, 2.f, 2.f});
  b.floats("roi", {0}, {});
  auto& r = b.node("Resize", {"p", "roi", "scales"}, {"r"});
  OnnxBuilder::attr_s(r, "mode", "linear");
  OnnxBuilder::attr_s(r, "coordinate_transformation_mode", "half_pixel");
  auto& sm = b.node("Softmax", {"r"}, {"y"});
  OnnxBuilder::attr(sm, "axis", int64_t{1});  // channels: the last dim in NHWC
  auto& gp = b.node("GlobalAveragePool", {"r"}, {"gap"});
  (void)gp;
  b.output("mp");
  b.output("y");
  b.output("gap");
  auto m = import_bytes(b.bytes());
  ASSERT_TRUE(m.ok()) << m.status().message();
  auto c = op_counts(m->graph);
  EXPECT_EQ(c["PADV2"], 2);  // the max pool's ceil-mode tail (lowest float) and Pad(0.5)
  EXPECT_EQ(c["TRANSPOSE"], 0);
  check_against_ort(b, {1, 3, 11, 12});
}

TEST(OnnxOps, ShapeOpsSliceSplitGatherGemm) {
  OnnxBuilder b(13);
  b.input("x", {1, 6, 4, 5});
  b.int64s("starts", {2}, {5, 1});
  b.int64s("ends", {2}, {-100, 100});
  b.int64s("axes", {2}, {1, 3});
  b.int64s("steps", {2}, {-2, 2});
  b.node("Slice", {"x", "starts", "ends", "axes", "steps"}, {"sl"});  // [1,3,4,2]
  b.int64s("split", {2}, {1, 2});
  auto& sp = b.node("Split", {"sl", "split"}, {"a", "bb"});
  OnnxBuilder::attr(sp, "axis", int64_t{1});
  b.int64s("idx", {}, {1});
  auto& ga = b.node("Gather", {"bb", "idx"}, {"g"});  // [1,4,2]
  OnnxBuilder::attr(ga, "axis", int64_t{1});
  b.node("Shape", {"a"}, {"shape_a"});
  b.node("Reshape", {"a", "shape_a"}, {"a2"});  // folds to a no-op through Shape
  b.node("Flatten", {"a2"}, {"f"});             // [1,8]
  b.random("W", {8, 3});
  b.random("C", {3});
  auto& gemm = b.node("Gemm", {"f", "W", "C"}, {"y"});
  OnnxBuilder::attr_f(gemm, "alpha", 0.5f);
  auto& tr = b.node("Transpose", {"g"}, {"gt"});
  OnnxBuilder::attr(tr, "perm", std::vector<int64_t>{0, 2, 1});
  b.random("slope", {4});
  b.node("Mul", {"gt", "slope"}, {"z"});  // broadcast along a dim the Transpose moved
  b.output("y");
  b.output("z");
  auto m = import_bytes(b.bytes());
  ASSERT_TRUE(m.ok()) << m.status().message();
  auto c = op_counts(m->graph);
  EXPECT_EQ(c["FULLY_CONNECTED"], 1);
  EXPECT_EQ(c["STRIDED_SLICE"], 1);
  EXPECT_EQ(c["SPLIT_V"], 1);
  EXPECT_EQ(c["GATHER"], 1);
  check_against_ort(b, {1, 6, 4, 5});
}

TEST(OnnxOps, ReductionsArgMaxTileDepthToSpace) {
  OnnxBuilder b(13);
  b.input("x", {1, 8, 6, 5});
  auto& rm = b.node("ReduceMean", {"x"}, {"rm"});  // over H, W: MEAN on NHWC axes 1, 2
  OnnxBuilder::attr(rm, "axes", std::vector<int64_t>{2, 3});
  auto& rx = b.node("ReduceMax", {"x"}, {"rx"});  // over C without keepdims: [1, 6, 5]
  OnnxBuilder::attr(rx, "axes", std::vector<int64_t>{1});
  OnnxBuilder::attr(rx, "keepdims", int64_t{0});
  b.int64s("sum_axes", {1}, {-1});
  b.node("ReduceSum", {"x", "sum_axes"}, {"rs"});  // opset 13: the axes are an input
  auto& am = b.node("ArgMax", {"x"}, {"am"});
  OnnxBuilder::attr(am, "axis", int64_t{1});
  auto& cast = b.node("Cast", {"am"}, {"amf"});  // int64 indices as float for the comparison
  OnnxBuilder::attr(cast, "to", int64_t{::onnx::TensorProto::FLOAT});
  b.int64s("repeats", {4}, {1, 1, 2, 1});
  b.node("Tile", {"x", "repeats"}, {"t"});
  auto& d2s = b.node("DepthToSpace", {"x"}, {"d2s"});  // DCR: [1, 2, 12, 10]
  OnnxBuilder::attr(d2s, "blocksize", int64_t{2});
  auto& s2d = b.node("SpaceToDepth", {"d2s"}, {"s2d"});  // back to x
  OnnxBuilder::attr(s2d, "blocksize", int64_t{2});
  for (const char* out : {"rm", "rx", "rs", "amf", "t", "d2s", "s2d"}) b.output(out);
  auto m = import_bytes(b.bytes());
  ASSERT_TRUE(m.ok()) << m.status().message();
  auto c = op_counts(m->graph);
  EXPECT_EQ(c["MEAN"], 1);
  EXPECT_EQ(c["REDUCE_MAX"], 1);
  EXPECT_EQ(c["SUM"], 1);
  EXPECT_EQ(c["ARG_MAX"], 1);
  EXPECT_EQ(c["TILE"], 1);
  EXPECT_EQ(c["DEPTH_TO_SPACE"], 1);
  EXPECT_EQ(c["SPACE_TO_DEPTH"], 1);
  EXPECT_EQ(c["TRANSPOSE"], 0);
  check_against_ort(b, {1, 8, 6, 5});
}

TEST(OnnxOps, ConvTransposePreluMaxMinSqrtHardSwish) {
  OnnxBuilder b(14);
  b.input("x", {1, 4, 6, 7});
  b.random("w", {4, 3, 3, 3});
  b.random("bias", {3});
  auto& ct = b.node("ConvTranspose", {"x", "w", "bias"}, {"ct"});  // cropped: [1, 3, 12, 14]
  OnnxBuilder::attr(ct, "strides", std::vector<int64_t>{2, 2});
  OnnxBuilder::attr(ct, "pads", std::vector<int64_t>{1, 1, 1, 1});
  OnnxBuilder::attr(ct, "output_padding", std::vector<int64_t>{1, 1});
  b.random("w2", {3, 2, 2, 2});
  auto& up = b.node("ConvTranspose", {"ct", "w2"}, {"up"});  // 2x2 stride 2: [1, 2, 24, 28]
  OnnxBuilder::attr(up, "strides", std::vector<int64_t>{2, 2});
  b.random("slope", {2, 1, 1});
  b.node("PRelu", {"up", "slope"}, {"pr"});
  b.floats("lo", {}, {-0.2f});
  b.floats("hi", {}, {0.3f});
  b.node("Max", {"pr", "lo"}, {"mx"});
  b.node("Min", {"mx", "hi"}, {"mn"});
  b.node("Mul", {"x", "x"}, {"sq"});
  b.node("Sqrt", {"sq"}, {"abs"});
  b.node("HardSwish", {"ct"}, {"hs"});
  for (const char* out : {"mn", "abs", "hs"}) b.output(out);
  auto m = import_bytes(b.bytes());
  ASSERT_TRUE(m.ok()) << m.status().message();
  auto c = op_counts(m->graph);
  EXPECT_EQ(c["TRANSPOSE_CONV"], 2);
  EXPECT_EQ(c["SLICE"], 1);  // the first one's pads crop; the second is SAME
  EXPECT_EQ(c["PRELU"], 1);
  check_against_ort(b, {1, 4, 6, 7}, -3.f, 3.f);
}

TEST(OnnxOps, GroupedAndDilatedConvTransposeDepthToSpaceCrd) {
  OnnxBuilder b(13);
  b.input("x", {1, 8, 5, 6});
  b.random("wg", {8, 3, 3, 3});  // group 2: 8 -> 6 channels, cropped and dilated in H
  b.random("bg", {6});
  auto& grouped = b.node("ConvTranspose", {"x", "wg", "bg"}, {"grouped"});
  OnnxBuilder::attr(grouped, "group", int64_t{2});
  OnnxBuilder::attr(grouped, "strides", std::vector<int64_t>{2, 2});
  OnnxBuilder::attr(grouped, "dilations", std::vector<int64_t>{2, 1});
  OnnxBuilder::attr(grouped, "pads", std::vector<int64_t>{1, 1, 2, 1});
  OnnxBuilder::attr(grouped, "output_padding", std::vector<int64_t>{1, 0});
  b.random("wd", {8, 1, 4, 4});  // depthwise 2x upsampling (group = channels)
  auto& depthwise = b.node("ConvTranspose", {"x", "wd"}, {"depthwise"});
  OnnxBuilder::attr(depthwise, "group", int64_t{8});
  OnnxBuilder::attr(depthwise, "strides", std::vector<int64_t>{2, 2});
  OnnxBuilder::attr(depthwise, "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.random("wdil", {8, 2, 3, 3});  // group 1, dilation 2, stride 1: the input's size
  auto& dilated = b.node("ConvTranspose", {"x", "wdil"}, {"dilated"});
  OnnxBuilder::attr(dilated, "dilations", std::vector<int64_t>{2, 2});
  OnnxBuilder::attr(dilated, "pads", std::vector<int64_t>{2, 2, 2, 2});
  auto& crd = b.node("DepthToSpace", {"x"}, {"crd"});  // [1, 2, 10, 12]
  OnnxBuilder::attr(crd, "blocksize", int64_t{2});
  OnnxBuilder::attr_s(crd, "mode", "CRD");
  b.random("wc", {8, 8, 1, 1});  // PixelShuffle after a convolution: the GATHER folds into it
  b.random("bc", {8});
  b.node("Conv", {"x", "wc", "bc"}, {"conv"});
  b.node("Relu", {"conv"}, {"relu"});
  auto& shuffle = b.node("DepthToSpace", {"relu"}, {"shuffle"});
  OnnxBuilder::attr(shuffle, "blocksize", int64_t{2});
  OnnxBuilder::attr_s(shuffle, "mode", "CRD");
  for (const char* out : {"grouped", "depthwise", "dilated", "crd", "shuffle"}) b.output(out);
  auto m = import_bytes(b.bytes());
  ASSERT_TRUE(m.ok()) << m.status().message();
  auto c = op_counts(m->graph);
  EXPECT_EQ(c["TRANSPOSE_CONV"], 2 + 8 + 1);
  EXPECT_EQ(c["SPLIT"], 2);
  EXPECT_EQ(c["DEPTH_TO_SPACE"], 2);
  EXPECT_EQ(c["GATHER"], 1);  // the one on the graph input; the convolution's folded
  EXPECT_EQ(c["RELU"], 0);
  check_against_ort(b, {1, 8, 5, 6});
}

TEST(OnnxOps, HardSigmoidEluReciprocal) {
  OnnxBuilder b(13);
  b.input("x", {1, 3, 5, 6});
  b.node("HardSigmoid", {"x"}, {"hs_default"});  // ONNX's alpha 0.2, beta 0.5
  auto& torch = b.node("HardSigmoid", {"x"}, {"hs_torch"});  // PyTorch's Hardsigmoid
  OnnxBuilder::attr_f(torch, "alpha", 1.f / 6.f);
  b.node("Elu", {"x"}, {"elu"});
  b.node("Mul", {"x", "x"}, {"square"});
  b.floats("half", {}, {0.5f});
  b.node("Add", {"square", "half"}, {"positive"});
  b.node("Reciprocal", {"positive"}, {"inverse"});
  for (const char* out : {"hs_default", "hs_torch", "elu", "inverse"}) b.output(out);
  auto m = import_bytes(b.bytes());
  ASSERT_TRUE(m.ok()) << m.status().message();
  auto c = op_counts(m->graph);
  EXPECT_EQ(c["RELU6"], 0);  // fused into the ADDs
  EXPECT_EQ(c["ADD"], 3);
  EXPECT_EQ(c["ELU"], 1);
  EXPECT_EQ(c["DIV"], 1);
  check_against_ort(b, {1, 3, 5, 6}, -5.f, 5.f);
}

TEST(OnnxLayout, ReshapePlansKeepDataOrderWithoutTransposes) {
  // ShuffleNet channel shuffle on an NHWC value: [1,C,H,W] -> [1,2,C/2,H,W] splits C in place.
  auto p = plan_reshape({1, 8, 3, 3}, Perm{0, 2, 3, 1}, {1, 2, 4, 3, 3});
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->needs_transpose);
  EXPECT_EQ(p->output_perm, (Perm{0, 3, 4, 1, 2}));
  // Flattening NHWC data in NCHW order needs the data moved.
  auto f = plan_reshape({1, 8, 3, 3}, Perm{0, 2, 3, 1}, {1, 72});
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->needs_transpose);
  EXPECT_EQ(f->input_perm, (Perm{0, 1, 2, 3}));
  // YOLOX head: [1,85,52,52] (NHWC) -> [1,85,2704] stays [1,2704,85] in TFLite.
  auto y = plan_reshape({1, 85, 52, 52}, Perm{0, 2, 3, 1}, {1, 85, 2704});
  ASSERT_TRUE(y);
  EXPECT_FALSE(y->needs_transpose);
  EXPECT_EQ(y->output_perm, (Perm{0, 2, 1}));
  EXPECT_FALSE(plan_reshape({2, 3}, Perm{0, 1}, {7}));
  // A Transpose is a change of layout only.
  EXPECT_EQ(layout_after_transpose(Perm{0, 2, 1}, Perm{0, 2, 1}), (Perm{0, 1, 2}));
}

TEST(OnnxBadInput, MalformedProtobuf) {
  static constexpr char kBroken[] = "\x08\x07\x12\xff\xff\xff\xff\x0f garbage";
  auto r = import_bytes(std::string(kBroken, sizeof kBroken - 1), "broken.onnx");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "broken.onnx: not a valid ONNX model (the protobuf does not parse)");
  auto e = import_bytes("", "empty.onnx");
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(e.status().message(), HasSubstr("empty.onnx: not a valid ONNX model"));
}

TEST(OnnxBadInput, InitializerShapesAreCheckedAgainstTheirDataBeforeAllocating) {
  // A few bytes of protobuf declaring a [2^31-1, 511] initializer used to allocate 4 TB
  // (std::bad_alloc, exit 134) before the data was compared with the shape.
  const std::vector<int64_t> huge = {INT32_MAX, 511};
  {
    OnnxBuilder b(13);
    b.input("x", {1, 4});
    b.floats("w", huge, {1.0f});
    b.node("Add", {"x", "w"}, {"y"});
    b.output("y");
    auto r = import_bytes(b.bytes(), "huge.onnx");
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.status().message(),
                HasSubstr("huge.onnx: initializer 'w': 4 bytes of raw data for shape [2147483647,511]"));
  }
  {
    OnnxBuilder b(13);
    b.input("x", {1, 4});
    b.int64s("s", huge, {7});  // typed int64_data, one value
    b.node("Reshape", {"x", "s"}, {"y"});
    b.output("y");
    auto r = import_bytes(b.bytes(), "huge64.onnx");
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.status().message(),
                HasSubstr("huge64.onnx: initializer 's': 1 values for shape [2147483647,511]"));
  }
}

TEST(OnnxBadInput, UnsupportedOpsAreListedInOneError) {
  OnnxBuilder b(13);
  b.input("x", {1, 3, 4, 4});
  b.node("Relu", {"x"}, {"a"});
  b.node("LSTM", {"a"}, {"b"});
  b.node("NonMaxSuppression", {"b"}, {"c"});
  b.node("LSTM", {"c"}, {"y"});
  b.output("y");
  auto r = import_bytes(b.bytes(), "odd.onnx");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
  EXPECT_EQ(r.status().message(),
            "odd.onnx: unsupported ONNX ops: LSTM (2 nodes: 'b_node', 'y_node'); NonMaxSuppression (1 node: 'c_node')");
}

TEST(OnnxBadInput, ShapeMismatchesNameTheNode) {
  {
    OnnxBuilder b(13);
    b.input("x", {1, 3, 4, 4});
    b.random("w", {4, 5, 1, 1});
    b.node("Conv", {"x", "w"}, {"y"});
    b.output("y");
    auto r = import_bytes(b.bytes(), "conv.onnx");
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.status().message(), HasSubstr("conv.onnx: node 'y_node' (Conv): weights [4,5,1,1] do not match input"));
  }
  {
    OnnxBuilder b(13);
    b.input("x", {1, 3, 4, 4});
    b.random("c", {5});
    b.node("Add", {"x", "c"}, {"y"});
    b.output("y");
    auto r = import_bytes(b.bytes(), "add.onnx");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(), "add.onnx: node 'y_node' (Add): shapes [1,3,4,4] and [5] do not broadcast");
  }
  {
    OnnxBuilder b(13);
    b.input("x", {1, 3, 4, 4});
    b.int64s("s", {2}, {5, -1});
    b.node("Reshape", {"x", "s"}, {"y"});
    b.output("y");
    auto r = import_bytes(b.bytes(), "reshape.onnx");
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.status().message(), HasSubstr("reshape.onnx: node 'y_node' (Reshape): cannot reshape [1,3,4,4]"));
  }
  {
    OnnxBuilder b(13);
    b.input("x", {1, 3, 4, 4});
    b.node("Relu", {"missing"}, {"y"});
    b.output("y");
    auto r = import_bytes(b.bytes(), "dangling.onnx");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(),
              "dangling.onnx: node 'y_node' (Relu): input 'missing' is not produced by any earlier node");
  }
  {
    OnnxBuilder b(13);
    b.input("x", {-1, 3, 4, 4});
    b.node("Relu", {"x"}, {"y"});
    b.output("y");
    auto r = import_bytes(b.bytes(), "dynamic.onnx");
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.status().message(), HasSubstr("dynamic.onnx: input 'x' has a symbolic or empty dimension"));
  }
}

// No partial output: a failed conversion leaves nothing at the output path.
TEST(OnnxBadInput, FailedConversionWritesNothing) {
  const auto dir = ::qdet::testing::scratch_dir();
  ASSERT_TRUE(write_file_atomic(dir / "bad.onnx", std::string("not a model")).ok());
  ConvertOptions o;
  o.model = dir / "bad.onnx";
  auto r = convert_to_file(o, dir / "out.tflite");
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(std::filesystem::exists(dir / "out.tflite"));
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1u);  // only bad.onnx: no temporary left either
}

}  // namespace
}  // namespace qdet::convert::testing
