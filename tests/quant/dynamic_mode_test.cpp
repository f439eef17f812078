// dynamic mode as TFLite's dynamic-range quantization: which ops become hybrid (int8 weights
// read directly) and with which op versions and options; which keep DEQUANTIZE weights and say
// why; and, with the TFLite peer, that each hybrid op gives TFLite's outputs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>
#include <set>
#include <sstream>

#include "base/file.h"
#include "base/paths.h"
#include "graph_builder.h"
#include "quant/graph_edit.h"
#include "quant/modes.h"
#include "runtime/interpreter.h"
#include "test_support.h"
#include "tflite/reader.h"
#include "tflite/writer.h"

namespace qdet::quant {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using graph::OpKind;
using testing::GraphBuilder;

std::vector<float> random_values(size_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// input [1,9,9,ci] -> CONV_2D 3x3 (co) -> DEPTHWISE 3x3 s2 -> CONV_2D 1x1 -> RESHAPE ->
// FULLY_CONNECTED (units) -> output.
graph::Model small_detector(int ci, int co, int units, int dilation = 1) {
  GraphBuilder b;
  const int32_t in = b.input("in", {1, 9, 9, ci});
  const int32_t w1 = b.constant("w1", {co, 3, 3, ci}, random_values(co * 9 * ci, -1, 1, 1));
  // Channel 0 of w1 gets larger weights, so per-channel scales differ.
  auto& w1d = b.model().graph.tensors[w1].data;
  for (int i = 0; i < 9 * ci; ++i) reinterpret_cast<float*>(w1d.data())[i] *= 3.0f;
  const int32_t b1 = b.constant("b1", {co}, random_values(co, -0.5f, 0.5f, 2));
  const int32_t c1 = b.activation("c1", {1, 9, 9, co});
  auto& conv1 = b.op(OpKind::kConv2d, {in, w1, b1}, {c1});
  conv1.attrs.padding = graph::Padding::kSame;
  conv1.attrs.activation = graph::Activation::kRelu;
  conv1.attrs.dilation_h = conv1.attrs.dilation_w = dilation;
  const int32_t w2 = b.constant("w2", {1, 3, 3, co}, random_values(9 * co, -1, 1, 3));
  const int32_t b2 = b.constant("b2", {co}, random_values(co, -0.5f, 0.5f, 4));
  const int32_t c2 = b.activation("c2", {1, 5, 5, co});
  auto& dw = b.op(OpKind::kDepthwiseConv2d, {c1, w2, b2}, {c2});
  dw.attrs.padding = graph::Padding::kSame;
  dw.attrs.stride_h = dw.attrs.stride_w = 2;
  dw.attrs.depth_multiplier = 1;
  const int32_t w3 = b.constant("w3", {co, 1, 1, co}, random_values(co * co, -1, 1, 5));
  const int32_t b3 = b.constant("b3", {co}, random_values(co, -0.5f, 0.5f, 6));
  const int32_t c3 = b.activation("c3", {1, 5, 5, co});
  b.op(OpKind::kConv2d, {c2, w3, b3}, {c3}).attrs.padding = graph::Padding::kValid;
  const int32_t shape = b.int_constant("shape", {2}, {1, 25 * co});
  const int32_t flat = b.activation("flat", {1, 25 * co});
  b.op(OpKind::kReshape, {c3, shape}, {flat});
  const int32_t w4 = b.constant("w4", {units, 25 * co}, random_values(units * 25 * co, -1, 1, 7));
  const int32_t b4 = b.constant("b4", {units}, random_values(units, -0.5f, 0.5f, 8));
  const int32_t out = b.activation("out", {1, units});
  b.op(OpKind::kFullyConnected, {flat, w4, b4}, {out});
  b.output(out);
  return b.model();
}

DynamicOptions all_weights() {
  DynamicOptions o;
  o.min_elements = 1;
  return o;
}

TEST(DynamicHybrid, ConvDepthwiseAndFullyConnectedReadInt8WeightsWithConverterVersions) {
  Notes notes;
  auto r = to_dynamic(small_detector(3, 8, 10), all_weights(), &notes);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto& g = r->graph;
  ASSERT_EQ(g.ops.size(), 5u);  // no DEQUANTIZE
  const auto weights = [&](int op) -> const graph::Tensor& { return g.tensors[g.ops[op].inputs[1]]; };
  EXPECT_EQ(weights(0).dtype, DType::kInt8);
  EXPECT_EQ(weights(0).quant.scale.size(), 8u);
  EXPECT_EQ(weights(0).quant.quantized_dimension, 0);
  EXPECT_EQ(g.ops[0].version, 5);  // hybrid per-channel CONV_2D
  EXPECT_EQ(weights(1).quant.scale.size(), 8u);
  EXPECT_EQ(weights(1).quant.quantized_dimension, 3);
  EXPECT_EQ(g.ops[1].version, 6);  // hybrid per-channel DEPTHWISE_CONV_2D
  EXPECT_EQ(weights(4).dtype, DType::kInt8);
  EXPECT_EQ(weights(4).quant.scale.size(), 1u);
  EXPECT_TRUE(g.ops[4].attrs.asymmetric_quantize_inputs);
  EXPECT_EQ(g.ops[4].version, 9);  // hybrid FULLY_CONNECTED, asymmetric inputs
  for (const auto& op : g.ops) EXPECT_EQ(g.tensors[op.outputs[0]].dtype, DType::kFloat32);
  ASSERT_FALSE(notes.info.empty());
  EXPECT_THAT(notes.info[0], HasSubstr("4 ops run hybrid kernels"));
}

TEST(DynamicHybrid, EqualChannelScalesBecomeOnePerTensorScale) {
  // TFLite's conv takes its per-tensor path when all channel scales are equal and then reads a
  // per-tensor scale: the file must carry one.
  GraphBuilder b;
  const int32_t in = b.input("in", {1, 2, 2, 4});
  std::vector<float> w(3 * 4);
  for (size_t i = 0; i < w.size(); ++i) w[i] = (i % 4 == 0) ? 2.0f : 0.5f;
  const int32_t wt = b.constant("w", {3, 1, 1, 4}, w);
  const int32_t out = b.activation("out", {1, 2, 2, 3});
  b.op(OpKind::kConv2d, {in, wt, -1}, {out});
  b.output(out);
  auto r = to_dynamic(b.model(), all_weights(), nullptr);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto& q = r->graph.tensors[r->graph.ops[0].inputs[1]].quant;
  EXPECT_EQ(q.scale.size(), 1u);
  EXPECT_FLOAT_EQ(q.scale[0], 2.0f / 127);
  EXPECT_EQ(r->graph.ops[0].version, 2);
}

TEST(DynamicHybrid, DilatedConvolutionKeepsDequantizeWithANote) {
  Notes notes;
  auto r = to_dynamic(small_detector(3, 8, 10, /*dilation=*/2), all_weights(), &notes);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto& g = r->graph;
  ASSERT_EQ(g.ops[0].kind, OpKind::kDequantize);
  EXPECT_EQ(g.tensors[g.ops[0].inputs[0]].dtype, DType::kInt8);
  EXPECT_EQ(g.ops[1].kind, OpKind::kConv2d);
  EXPECT_EQ(g.tensors[g.ops[1].inputs[1]].dtype, DType::kFloat32);
  EXPECT_EQ(g.ops[1].version, 1);
  EXPECT_EQ(g.tensors[g.ops[2].inputs[1]].dtype, DType::kInt8);  // depthwise still hybrid
  ASSERT_EQ(notes.info.size(), 2u);
  EXPECT_THAT(notes.info[1], HasSubstr("op 0 (CONV_2D): dilation 2x2"));
}

TEST(DynamicHybrid, WeightsOnlyFormOnRequest) {
  DynamicOptions o = all_weights();
  o.hybrid = false;
  auto r = to_dynamic(small_detector(3, 8, 10), o, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().message();
  int dequantize = 0;
  for (const auto& op : r->graph.ops) dequantize += op.kind == OpKind::kDequantize;
  EXPECT_EQ(dequantize, 4);
}

// Each hybrid op, run by the official TFLite (WebAssembly peer) and by qdet on the same input:
// the same arithmetic, so the outputs agree to float rounding.
TEST(DynamicHybrid, TfliteRunsTheFileWithQdetsOutputs) {
  QDET_REQUIRE_PEERS();
  const fs::path dir = ::qdet::testing::scratch_dir();
  for (const auto& [ci, co, units] : {std::tuple{3, 8, 10}, std::tuple{5, 17, 3}}) {
    SCOPED_TRACE(fmt::format("ci {} co {} units {}", ci, co, units));
    auto r = to_dynamic(small_detector(ci, co, units), all_weights(), nullptr);
    ASSERT_TRUE(r.ok()) << r.status().message();
    const fs::path file = dir / fmt::format("hybrid_{}_{}.tflite", ci, co);
    ASSERT_TRUE(tflite::save_tflite(file, *r).ok());
    auto loaded = tflite::load_tflite(file);
    ASSERT_TRUE(loaded.ok()) << loaded.status().message();
    const auto input = random_values(81 * ci, -1.0f, 3.0f, 11);
    auto interp = rt::Interpreter::create(std::make_shared<const graph::Graph>(loaded->graph));
    ASSERT_TRUE(interp.ok()) << interp.status().message();
    std::memcpy((*interp)->input(0).data, input.data(), input.size() * 4);
    ASSERT_TRUE((*interp)->invoke().ok());
    const auto& out = (*interp)->output(0);
    std::vector<float> ours(out.num_elements());
    std::memcpy(ours.data(), out.data, ours.size() * 4);

    const fs::path in_file = dir / "input.bin";
    std::vector<uint8_t> bytes(input.size() * 4);
    std::memcpy(bytes.data(), input.data(), bytes.size());
    ASSERT_TRUE(write_file_atomic(in_file, bytes).ok());
    const fs::path dump = dir / fmt::format("peer_{}_{}", ci, co);
    std::string log;
    ASSERT_EQ(::qdet::testing::run_command(
                  ::qdet::testing::peer_command("tflite_run.js") + " '" + file.string() +
                      "' --input '" + in_file.string() + "' --warmup 0 --runs 1 --dump-dir '" +
                      dump.string() + "'", &log), 0) << log;
    std::vector<float> theirs;
    for (const auto& e : fs::directory_iterator(dump)) {
      auto b = read_file(e.path());
      ASSERT_TRUE(b.ok());
      theirs.resize(b->size() / 4);
      std::memcpy(theirs.data(), b->data(), b->size());
    }
    ASSERT_EQ(ours.size(), theirs.size());
    float max_abs = 0, max_diff = 0;
    for (size_t i = 0; i < ours.size(); ++i) {
      max_abs = std::max(max_abs, std::fabs(theirs[i]));
      max_diff = std::max(max_diff, std::fabs(ours[i] - theirs[i]));
    }
    EXPECT_LE(max_diff, 1e-5f * max_abs) << "max difference " << max_diff << " of " << max_abs;
  }
}

// Runs `model` (one float input) in the peer; returns its only output.
std::vector<float> run_peer_floats(const graph::Model& model, const std::vector<float>& input,
                                   const fs::path& dir) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  EXPECT_TRUE(tflite::save_tflite(dir / "model.tflite", model).ok());
  std::vector<uint8_t> bytes(input.size() * 4);
  std::memcpy(bytes.data(), input.data(), bytes.size());
  EXPECT_TRUE(write_file_atomic(dir / "input.bin", bytes).ok());
  std::string log;
  EXPECT_EQ(::qdet::testing::run_command(
                ::qdet::testing::peer_command("tflite_run.js") + " '" +
                    (dir / "model.tflite").string() + "' --input '" + (dir / "input.bin").string() +
                    "' --warmup 0 --runs 1 --dump-dir '" + (dir / "peer").string() + "'", &log),
            0) << log;
  std::vector<float> out;
  if (!fs::exists(dir / "peer")) return out;
  for (const auto& e : fs::directory_iterator(dir / "peer")) {
    auto b = read_file(e.path());
    if (!b.ok()) continue;
    out.resize(b->size() / 4);
    std::memcpy(out.data(), b->data(), b->size());
  }
  return out;
}

// Every kind of hybrid op in dynamic YOLOX-Nano (3x3 stride 1 and 2, 1x1, depthwise stride 1
// and 2), cut out as a one-op model and fed the exact float input qdet computed for it: TFLite
// and qdet give the same outputs up to float rounding of the final scale multiply. (Through the
// whole network they drift further: an ulp of difference upstream can move a quantized input
// by one step, see the next test.)
TEST(DynamicHybrid, YoloxHybridOpsMatchTfliteOnTheSameInput) {
  const fs::path src = data_dir() / "models" / "yolox_nano_fp32_416.tflite";
  QDET_REQUIRE_PATH(src);
  QDET_REQUIRE_PEERS();
  auto fmodel = tflite::load_tflite(src);
  ASSERT_TRUE(fmodel.ok()) << fmodel.status().message();
  auto dyn = to_dynamic(*fmodel, DynamicOptions{}, nullptr);
  ASSERT_TRUE(dyn.ok()) << dyn.status().message();
  const graph::Graph& g = dyn->graph;
  rt::InterpreterOptions o;
  o.keep_intermediates = true;
  auto interp = rt::Interpreter::create(std::make_shared<const graph::Graph>(g), o);
  ASSERT_TRUE(interp.ok()) << interp.status().message();
  const auto image = random_values(416 * 416 * 3, 0.0f, 255.0f, 3);
  std::memcpy((*interp)->input(0).data, image.data(), image.size() * 4);
  ASSERT_TRUE((*interp)->invoke().ok());
  std::set<std::string> seen;
  const fs::path dir = ::qdet::testing::scratch_dir();
  int checked = 0;
  for (size_t k = 0; k < g.ops.size(); ++k) {
    const graph::Op& op = g.ops[k];
    if (op.kind != OpKind::kConv2d && op.kind != OpKind::kDepthwiseConv2d) continue;
    const graph::Tensor& w = g.tensors[op.inputs[1]];
    if (w.dtype != DType::kInt8) continue;
    const std::string kind = fmt::format("{} {}x{} s{}", op.name(), w.shape[1], w.shape[2],
                                         op.attrs.stride_h);
    if (!seen.insert(kind).second) continue;
    SCOPED_TRACE(fmt::format("op {} {}", k, kind));
    graph::Model one = *dyn;
    one.signatures.clear();
    one.graph.ops = {op};
    one.graph.inputs = {op.inputs[0]};
    one.graph.outputs = {op.outputs[0]};
    remove_unused_tensors(one);
    const rt::TensorRef& in = (*interp)->tensor(op.inputs[0]);
    std::vector<float> input(in.num_elements());
    std::memcpy(input.data(), in.data, input.size() * 4);
    const rt::TensorRef& out = (*interp)->tensor(op.outputs[0]);
    std::vector<float> ours(out.num_elements());
    std::memcpy(ours.data(), out.data, ours.size() * 4);
    const auto theirs = run_peer_floats(one, input, dir / std::to_string(k));
    ASSERT_EQ(ours.size(), theirs.size());
    float max_abs = 0, max_diff = 0;
    for (size_t i = 0; i < ours.size(); ++i) {
      max_abs = std::max(max_abs, std::fabs(theirs[i]));
      max_diff = std::max(max_diff, std::fabs(ours[i] - theirs[i]));
    }
    EXPECT_LE(max_diff, 1e-6f * max_abs) << "max difference " << max_diff << " of " << max_abs;
    ++checked;
  }
  EXPECT_GE(checked, 4);  // 3x3 s1, 3x3 s2, 1x1, depthwise 3x3 (the others have < 1024 weights)
}

}  // namespace
}  // namespace qdet::quant

namespace qdet::quant {
namespace {
// A diagnostic, not a check (--gtest_also_run_disabled_tests): for each op index in
// QDET_DIAG_OPS of the dynamic file QDET_DIAG_FILE, makes its output the graph output and
// prints qdet's and TFLite's max difference there on a random image.
TEST(DynamicHybrid, DISABLED_ProbeOpsAgainstPeer) {
  QDET_REQUIRE_PEERS();
  const char* file = std::getenv("QDET_DIAG_FILE");
  const char* ops = std::getenv("QDET_DIAG_OPS");
  if (!file || !ops) GTEST_SKIP() << "set QDET_DIAG_FILE and QDET_DIAG_OPS";
  auto m = tflite::load_tflite(file);
  ASSERT_TRUE(m.ok()) << m.status().message();
  const fs::path dir = ::qdet::testing::scratch_dir();
  const auto input = random_values(static_cast<size_t>(num_elements(m->graph.tensors[m->graph.inputs[0]].shape)), 0.0f, 255.0f, 3);
  std::vector<uint8_t> bytes(input.size() * 4);
  std::memcpy(bytes.data(), input.data(), bytes.size());
  ASSERT_TRUE(write_file_atomic(dir / "input.bin", bytes).ok());
  std::stringstream ss(ops);
  size_t k;
  while (ss >> k) {
    graph::Model probe = *m;
    probe.signatures.clear();
    probe.graph.outputs = {probe.graph.ops[k].outputs[0]};
    probe.graph.ops.resize(k + 1);
    remove_unused_tensors(probe);
    ASSERT_TRUE(tflite::save_tflite(dir / "probe.tflite", probe).ok());
    auto interp = rt::Interpreter::create(std::make_shared<const graph::Graph>(probe.graph));
    ASSERT_TRUE(interp.ok());
    std::memcpy((*interp)->input(0).data, bytes.data(), bytes.size());
    ASSERT_TRUE((*interp)->invoke().ok());
    const auto& out = (*interp)->output(0);
    std::vector<float> ours(out.num_elements());
    std::memcpy(ours.data(), out.data, ours.size() * 4);
    fs::remove_all(dir / "peer");
    std::string log;
    ASSERT_EQ(::qdet::testing::run_command(::qdet::testing::peer_command("tflite_run.js") + " '" +
                                               (dir / "probe.tflite").string() + "' --input '" +
                                               (dir / "input.bin").string() +
                                               "' --warmup 0 --runs 1 --dump-dir '" +
                                               (dir / "peer").string() + "'", &log), 0) << log;
    std::vector<float> theirs;
    for (const auto& e : fs::directory_iterator(dir / "peer")) {
      auto b = read_file(e.path());
      theirs.resize(b->size() / 4);
      std::memcpy(theirs.data(), b->data(), b->size());
    }
    float max_abs = 0, max_diff = 0;
    size_t at = 0;
    for (size_t i = 0; i < std::min(ours.size(), theirs.size()); ++i) {
      max_abs = std::max(max_abs, std::fabs(theirs[i]));
      if (std::fabs(ours[i] - theirs[i]) > max_diff) { max_diff = std::fabs(ours[i] - theirs[i]); at = i; }
    }
    std::vector<float> rel;
    for (size_t i = 0; i < std::min(ours.size(), theirs.size()); ++i)
      rel.push_back(std::fabs(ours[i] - theirs[i]) / max_abs);
    std::sort(rel.begin(), rel.end());
    std::printf("  relative diff p50 %g p99 %g p99.9 %g max %g\n", rel[rel.size() / 2],
                rel[rel.size() * 99 / 100], rel[rel.size() * 999 / 1000], rel.back());
    std::printf("op %zu %s v%d kernel %s: max diff %g of %g at %zu (%g vs %g)\n", k,
                probe.graph.ops[k].name(), probe.graph.ops[k].version,
                (*interp)->kernel_name(k), max_diff, max_abs, at, ours[at], theirs[at]);
  }
}
}  // namespace
}  // namespace qdet::quant
