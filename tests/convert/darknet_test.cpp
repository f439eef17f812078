// Darknet .cfg/.weights import: the shared Yolo-Fastest models, Debian's YOLOv3 and YOLOv3-tiny
// cfgs with random weights of the right size, and bad input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <set>

#include "convert/darknet/importer.h"
#include "convert_test_util.h"

namespace qdet::convert::darknet {
namespace {

using ::qdet::convert::testing::random_floats;

std::filesystem::path fastest(const std::string& name) { return data_dir() / "models" / "darknet" / name; }

// A .weights file for `net`: version 0.2.0 header, 64-bit seen, then random values
// (variances positive).
std::vector<uint8_t> random_weights(const Network& net, int32_t major = 0, int32_t minor = 2) {
  std::vector<uint8_t> bytes(header_bytes(major, minor), 0);
  std::memcpy(bytes.data(), &major, 4);
  std::memcpy(bytes.data() + 4, &minor, 4);
  // A cheap generator: YOLOv3 needs 62 million values. Values in [0.05, 0.2).
  std::vector<float> values(static_cast<size_t>(net.weight_floats()));
  uint32_t state = 12345;
  for (float& v : values) {
    state = state * 1664525u + 1013904223u;
    v = 0.05f + 0.15f * static_cast<float>(state >> 8) / 16777216.f;
  }
  const auto* p = reinterpret_cast<const uint8_t*>(values.data());
  bytes.insert(bytes.end(), p, p + values.size() * 4);
  return bytes;
}

Result<Network> network_from_text(const std::string& text) {
  QDET_ASSIGN_OR_RETURN(auto sections, parse_cfg(text, "test.cfg"));
  return build_network(sections, "test.cfg");
}

TEST(DarknetImport, YoloFastestModelsConvert) {
  for (const std::string stem : {"yolo-fastest-1.1", "yolo-fastest-1.1-xl"}) {
    QDET_REQUIRE_PATH(fastest(stem + ".weights"));
    auto r = import_files(fastest(stem + ".cfg"), fastest(stem + ".weights"));
    ASSERT_TRUE(r.ok()) << r.status().message();
    const graph::Graph& g = r->model.graph;
    std::set<std::string> ops;
    for (const auto& op : g.ops) ops.insert(op.name());
    EXPECT_EQ(ops, (std::set<std::string>{"ADD", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "LEAKY_RELU",
                                          "MAX_POOL_2D", "PAD", "RESIZE_NEAREST_NEIGHBOR"}))
        << stem;
    ASSERT_EQ(g.outputs.size(), 2u);
    EXPECT_EQ(g.tensors[g.inputs[0]].shape, (Shape{1, 320, 320, 3}));
    EXPECT_EQ(g.tensors[g.outputs[0]].shape, (Shape{1, 10, 10, 255}));
    EXPECT_EQ(g.tensors[g.outputs[1]].shape, (Shape{1, 20, 20, 255}));
    EXPECT_NE(r->sidecar_json.find("\"head\": \"yolo\""), std::string::npos);
    EXPECT_NE(r->sidecar_json.find("115.0"), std::string::npos) << r->sidecar_json;  // mask 3,4,5 first
  }
}

// Debian's darknet package ships the original YOLOv3 cfgs; their weights are the user's, so a
// random file of exactly the right size stands in.
TEST(DarknetImport, DebianYolov3CfgsWithRandomWeights) {
  struct Case {
    std::string cfg;
    std::vector<Shape> outputs;
  };
  const Case cases[] = {
      {"yolov3-tiny.cfg", {{1, 13, 13, 255}, {1, 26, 26, 255}}},
      {"yolov3.cfg", {{1, 19, 19, 255}, {1, 38, 38, 255}, {1, 76, 76, 255}}},  // Debian's cfg is 608x608
  };
  for (const auto& c : cases) {
    const std::filesystem::path cfg = std::filesystem::path("/usr/share/darknet/cfg") / c.cfg;
    QDET_REQUIRE_PATH(cfg);
    auto net = load_network(cfg.string());
    ASSERT_TRUE(net.ok()) << net.status().message();
    const auto bytes = random_weights(*net);
    // The published files: yolov3.weights 248007048 bytes, yolov3-tiny.weights 35434956.
    EXPECT_EQ(bytes.size(), c.cfg == "yolov3.cfg" ? 248007048u : 35434956u);
    auto w = parse_weights(bytes, *net, c.cfg);
    ASSERT_TRUE(w.ok()) << w.status().message();
    auto r = import_network(*net, *w);
    ASSERT_TRUE(r.ok()) << r.status().message();
    const graph::Graph& g = r->model.graph;
    const int32_t size = c.cfg == "yolov3.cfg" ? 608 : 416;
    EXPECT_EQ(g.tensors[g.inputs[0]].shape, (Shape{1, size, size, 3}));
    ASSERT_EQ(g.outputs.size(), c.outputs.size());
    for (size_t i = 0; i < c.outputs.size(); ++i) EXPECT_EQ(g.tensors[g.outputs[i]].shape, c.outputs[i]) << c.cfg;
  }
}

// Every layer kind and option the importer handles, in a small network: the graph verifies,
// runs in qdet and its shapes are darknet's.
TEST(DarknetImport, SmallNetworkWithEveryLayerKind) {
  const std::string cfg = R"([net]
width=32
height=24
channels=3
[convolutional]
filters=8
size=3
stride=2
pad=1
batch_normalize=1
activation=leaky
[convolutional]
filters=8
groups=2
size=3
stride=1
pad=1
activation=relu
[convolutional]
filters=8
groups=8
size=3
stride=1
pad=1
batch_normalize=1
activation=swish
[shortcut]
from=-2
activation=linear
[maxpool]
size=2
stride=2
[maxpool]
size=3
stride=1
[route]
layers=-1
groups=2
group_id=1
[upsample]
stride=2
[route]
layers=-1,3
[dropout]
probability=.5
[convolutional]
filters=18
size=1
stride=1
pad=1
activation=linear
[yolo]
mask=0,1
anchors=4,5, 8,9, 12,13
classes=4
num=3
)";
  auto net = network_from_text(cfg);
  ASSERT_TRUE(net.ok()) << net.status().message();
  EXPECT_EQ(net->layers[0].out_h, 12);
  EXPECT_EQ(net->layers[4].out_w, 8);   // maxpool 2/2 on 16x12
  EXPECT_EQ(net->layers[6].out_c, 4);   // route group 1 of 2
  EXPECT_EQ(net->layers[8].out_c, 12);  // upsampled 4 + layer 3's 8
  auto w = parse_weights(random_weights(*net), *net, "test.weights");
  ASSERT_TRUE(w.ok()) << w.status().message();
  auto r = import_network(*net, *w);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto out = testing::run_qdet(r->model, {random_floats(32 * 24 * 3, 0.f, 1.f)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].size(), 12u * 16 * 18);
  std::set<std::string> ops;
  for (const auto& op : r->model.graph.ops) ops.insert(op.name());
  for (const char* want : {"SPLIT", "LOGISTIC", "MUL", "STRIDED_SLICE", "LEAKY_RELU", "DEPTHWISE_CONV_2D"})
    EXPECT_TRUE(ops.count(want)) << want;
}

TEST(DarknetBadInput, TruncatedAndOversizedWeights) {
  QDET_REQUIRE_PATH(fastest("yolo-fastest-1.1.weights"));
  auto net = load_network(fastest("yolo-fastest-1.1.cfg").string());
  ASSERT_TRUE(net.ok());
  auto bytes = read_file(fastest("yolo-fastest-1.1.weights"));
  ASSERT_TRUE(bytes.ok());
  std::vector<uint8_t> cut(bytes->begin(), bytes->end() - 1000);
  auto t = parse_weights(cut, *net, "cut.weights");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), ::testing::HasSubstr("cut.weights: truncated: layer 129 (convolutional"));
  std::vector<uint8_t> longer = *bytes;
  longer.resize(longer.size() + 8, 0);
  auto l = parse_weights(longer, *net, "long.weights");
  ASSERT_FALSE(l.ok());
  EXPECT_THAT(l.status().message(), ::testing::HasSubstr("long.weights: 8 bytes left after the last layer"));
  auto h = parse_weights(std::vector<uint8_t>(10, 0), *net, "tiny.weights");
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(h.status().message(), ::testing::HasSubstr("too short"));
}

TEST(DarknetBadInput, WeightsHeaderVersions) {
  auto net = network_from_text("[net]\nwidth=4\nheight=4\nchannels=1\n[convolutional]\nfilters=1\nsize=1\n");
  ASSERT_TRUE(net.ok()) << net.status().message();
  // Version 0.1: 32-bit seen, so 16 header bytes + 2 floats.
  auto old = random_weights(*net, 0, 1);
  EXPECT_EQ(old.size(), 16u + 8u);
  EXPECT_TRUE(parse_weights(old, *net, "old.weights").ok());
  auto wide = random_weights(*net, 0, 2);
  EXPECT_EQ(wide.size(), 20u + 8u);
  EXPECT_TRUE(parse_weights(wide, *net, "new.weights").ok());
  // The same bytes read with the other header size are off by 4 bytes: an error, not garbage.
  int32_t one = 1;
  std::memcpy(wide.data() + 4, &one, 4);
  EXPECT_FALSE(parse_weights(wide, *net, "mislabelled.weights").ok());
}

TEST(DarknetBadInput, InconsistentCfgsNameTheLine) {
  struct Case {
    std::string text, message;
  };
  const std::string head = "[net]\nwidth=16\nheight=16\nchannels=3\n";
  const Case cases[] = {
      {head + "[convolutional]\nfilters=4\nsize=3\n[route]\nlayers=-3\n", "test.cfg:8: [route]: refers to layer -3"},
      {head + "[convolutional]\nfilters=4\nsize=1\n[maxpool]\nsize=2\nstride=2\n[shortcut]\nfrom=-2\n",
       "test.cfg:11: [shortcut]: adds layer 0 (16x16x4) to the previous layer (8x8x4): shapes differ"},
      {head + "[convolutional]\nfilters=20\nsize=1\n[yolo]\nmask=0,1\nanchors=1,2,3,4\nclasses=80\nnum=2\n",
       "[yolo]: input has 20 channels; 2 masks x (5 + 80 classes) = 170 expected"},
      {head + "[convolutional]\nfilters=6\ngroups=4\nsize=1\n", "groups=4 does not divide 3 input channels"},
      {head + "[lstm]\noutput=4\n", "layer type [lstm] is not supported"},
      {head + "[convolutional]\nfilters=four\n", "'filters' is not an integer: 'four'"},
      {head + "[convolutional]\nfilters=4\nactivation=mish\n", "activation 'mish' is not supported"},
      {"[convolutional]\nfilters=4\n", "the first section must be [net]"},
      {head + "filters 4\n", "expected key=value"},
      {"[net]\nwidth=16\n", "missing 'height'"},
  };
  for (const auto& c : cases) {
    auto n = network_from_text(c.text);
    ASSERT_FALSE(n.ok()) << c.text;
    EXPECT_THAT(n.status().message(), ::testing::HasSubstr(c.message)) << c.text;
  }
}

}  // namespace
}  // namespace qdet::convert::darknet
