// The SSD's own TFLite_Detection_PostProcess op (its anchors and options from
// ssd_mobilenet_v1_1_metadata_1.tflite), cut out into a one-op model, written with qdet's
// writer and run on seeded random inputs by both qdet and the official TFLite interpreter:
// uint8 inputs with the file's options (fast NMS), and float inputs with regular NMS and
// options rebuilt by DetectionPostProcessParams::build().
#include <gmock/gmock.h>

#include <cstring>
#include <random>

#include "base/file.h"
#include "base/paths.h"
#include "graph_builder.h"
#include "runtime/detection_postprocess_params.h"
#include "test_support.h"
#include "tflite/reader.h"
#include "tflite/writer.h"

namespace qdet::rt {
namespace {

namespace fs = std::filesystem;

struct Cut {
  graph::Model model;
  std::vector<std::vector<uint8_t>> inputs;  // box encodings, class predictions
};

// The postprocess op alone: its two activations become graph inputs, anchors stay constant.
// With `float_inputs`, inputs and anchors are float32 (anchors dequantized).
Result<Cut> cut_postprocess(const graph::Model& ssd, bool float_inputs,
                            const DetectionPostProcessParams* params, uint32_t seed) {
  const graph::Graph& g = ssd.graph;
  const graph::Op* op = nullptr;
  for (const auto& o : g.ops)
    if (o.kind == graph::OpKind::kDetectionPostProcess) op = &o;
  if (!op || op->inputs.size() != 3 || op->outputs.size() != 4)
    return invalid_argument("no TFLite_Detection_PostProcess op with 3 inputs and 4 outputs");
  Cut cut;
  graph::Graph& c = cut.model.graph;
  std::mt19937 rng(seed);
  for (int k = 0; k < 3; ++k) {
    graph::Tensor t = g.tensors[op->inputs[k]];
    if (float_inputs && t.dtype == DType::kUInt8) {
      std::vector<float> f(static_cast<size_t>(t.num_elements()));
      for (size_t i = 0; i < f.size(); ++i)
        f[i] = k == 2 ? (static_cast<float>(t.data[i]) - t.quant.zero_point[0]) * t.quant.scale[0]
                      : std::uniform_real_distribution<float>(k == 0 ? -3.0f : 0.0f, 1.0f)(rng);
      t.dtype = DType::kFloat32;
      t.quant = {};
      if (k == 2) t.data = testing::to_bytes(f);
      else cut.inputs.push_back(testing::to_bytes(f));
    } else if (k < 2) {
      std::vector<uint8_t> b(t.byte_size());
      for (auto& v : b) v = static_cast<uint8_t>(rng() & 0xff);
      cut.inputs.push_back(b);
    }
    const int32_t id = c.add_tensor(t);
    if (k < 2) c.inputs.push_back(id);
  }
  graph::Op copy = *op;
  copy.inputs = {0, 1, 2};
  copy.outputs.clear();
  for (int k = 0; k < 4; ++k) {
    copy.outputs.push_back(c.add_tensor(g.tensors[op->outputs[k]]));
    c.outputs.push_back(copy.outputs.back());
  }
  c.ops.push_back(copy);
  if (params) QDET_TRY(set_detection_postprocess_params(c, 0, *params));
  return cut;
}

void compare_with_peer(const Cut& cut, const fs::path& dir) {
  ASSERT_TRUE(tflite::save_tflite(dir / "postprocess.tflite", cut.model).ok());
  std::string args;
  for (size_t i = 0; i < cut.inputs.size(); ++i) {
    const fs::path f = dir / ("in" + std::to_string(i) + ".bin");
    ASSERT_TRUE(write_file_atomic(f, cut.inputs[i]).ok());
    args += " --input '" + f.string() + "'";
  }
  std::string log;
  const int rc = ::qdet::testing::run_command(
      ::qdet::testing::peer_command("tflite_run.js") + " '" + (dir / "postprocess.tflite").string() +
          "'" + args + " --warmup 0 --runs 0 --dump-dir '" + (dir / "peer").string() + "'",
      &log);
  ASSERT_EQ(rc, 0) << log;
  auto graph = std::make_shared<const graph::Graph>(cut.model.graph);
  auto r = testing::run_graph(graph, cut.inputs);
  ASSERT_TRUE(r.ok()) << r.status().message();
  std::vector<std::vector<float>> peer(4), ours(4);
  for (int k = 0; k < 4; ++k) {
    const TensorRef& out = (*r)->output(k);
    ours[k] = testing::values_of<float>(out);
    fs::path file;
    for (const auto& e : fs::directory_iterator(dir / "peer"))
      if (e.path().filename().string().rfind("out_" + std::to_string(out.id) + "_", 0) == 0) file = e.path();
    auto bytes = read_file(file);
    ASSERT_TRUE(bytes.ok()) << "peer output " << out.id << " missing";
    ASSERT_EQ(bytes->size(), out.byte_size());
    peer[k].resize(ours[k].size());
    std::memcpy(peer[k].data(), bytes->data(), bytes->size());
  }
  // The count, then the rows that count covers (TFLite leaves the other rows unwritten).
  ASSERT_EQ(ours[3][0], peer[3][0]);
  const int n = static_cast<int>(ours[3][0]);
  // Random scores leave far more candidates than rows: every row is a detection.
  EXPECT_EQ(n, static_cast<int>(ours[2].size()));
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(ours[1][i], peer[1][i]) << "class of detection " << i;
    EXPECT_FLOAT_EQ(ours[2][i], peer[2][i]) << "score of detection " << i;
    for (int j = 0; j < 4; ++j)
      EXPECT_NEAR(ours[0][4 * i + j], peer[0][4 * i + j], 1e-6f) << "box " << i << " coordinate " << j;
  }
}

fs::path ssd_path() { return data_dir() / "models" / "ssd_mobilenet_v1_1_metadata_1.tflite"; }

TEST(SsdPostProcess, UInt8InputsFastNmsMatchTflite) {
  QDET_REQUIRE_PATH(ssd_path());
  QDET_REQUIRE_PEERS();
  auto ssd = tflite::load_tflite(ssd_path());
  ASSERT_TRUE(ssd.ok()) << ssd.status().message();
  auto cut = cut_postprocess(*ssd, false, nullptr, 1);
  ASSERT_TRUE(cut.ok()) << cut.status().message();
  compare_with_peer(*cut, ::qdet::testing::scratch_dir());
}

TEST(SsdPostProcess, FloatInputsRegularNmsRebuiltOptionsMatchTflite) {
  QDET_REQUIRE_PATH(ssd_path());
  QDET_REQUIRE_PEERS();
  auto ssd = tflite::load_tflite(ssd_path());
  ASSERT_TRUE(ssd.ok()) << ssd.status().message();
  const graph::Op* op = nullptr;
  for (const auto& o : ssd->graph.ops)
    if (o.kind == graph::OpKind::kDetectionPostProcess) op = &o;
  ASSERT_NE(op, nullptr);
  auto p = DetectionPostProcessParams::parse(op->custom_options);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->num_classes, 90);
  EXPECT_EQ(p->max_detections, 10);
  p->max_detections = 40;
  p->use_regular_nms = true;
  p->detections_per_class = 5;
  p->nms_score_threshold = 0.9f;
  auto cut = cut_postprocess(*ssd, true, &*p, 2);
  ASSERT_TRUE(cut.ok()) << cut.status().message();
  compare_with_peer(*cut, ::qdet::testing::scratch_dir());
}

}  // namespace
}  // namespace qdet::rt
