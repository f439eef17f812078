// Whole quantized models through qdet's interpreter (default kernel choice: XNNPACK first)
// against the official TFLite interpreter (TFLite ~2.12 WebAssembly with its XNNPACK
// delegate): the stored oracle outputs for dog.jpg in ../shared/fixtures/oracle, a seeded
// random input, and intermediate tensors, which the peer dumps when the model's output list is
// patched to name them.
//
// The oracle runs CONV_2D / DEPTHWISE_CONV_2D / ADD / MUL / LOGISTIC / QUANTIZE through XNNPACK,
// whose requantization differs from TFLite's reference kernels (one fp32 round-half-even, or
// an 8-bit multiplier for QUANTIZE, instead of double-rounding fixed point). With qdet's
// reference kernels those one-step differences grew through YOLOv5's SiLU blocks to ~95%
// within one step (max 67 steps). qdet's XNNPACK kernels (and the XNNPACK-style requantization
// of QUANTIZE) compute what the oracle computes: measured 100% exact on yolov5n-int8 (dog.jpg
// and random input) and on the SSD's box encodings and class scores. The tests assert the
// brief's targets (>= 99.9% within one step, the same detections) with the exactness printed.
// DISABLED_FirstOpDifferingFromPeer at the end locates the first op that departs from the peer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <cstdlib>

#include "base/file.h"
#include "base/paths.h"
#include "kernel_test_support.h"
#include "runtime/interpreter.h"
#include "test_support.h"
#include "tflite/reader.h"
#include "tflite/tflite_generated.h"

namespace qdet::rt {
namespace {

struct Agreement {
  int64_t n = 0, exact = 0, within_one = 0;
  int32_t max_diff = 0;
  double exact_fraction() const { return n ? static_cast<double>(exact) / n : 0; }
  double within_one_fraction() const { return n ? static_cast<double>(within_one) / n : 0; }
};

Agreement compare_bytes(const TensorRef& got, std::span<const uint8_t> want) {
  Agreement a;
  const bool is_signed = got.dtype == DType::kInt8;
  const uint8_t* g = got.as<const uint8_t>();
  a.n = static_cast<int64_t>(want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const int32_t x = is_signed ? int32_t{static_cast<int8_t>(g[i])} : int32_t{g[i]};
    const int32_t y = is_signed ? int32_t{static_cast<int8_t>(want[i])} : int32_t{want[i]};
    const int32_t d = std::abs(x - y);
    a.exact += d == 0;
    a.within_one += d <= 1;
    a.max_diff = std::max(a.max_diff, d);
  }
  return a;
}

void report(const std::string& what, const Agreement& a) {
  std::printf("[ quantized oracle ] %s: %lld elements, exact %.4f%%, within one step %.4f%%, "
              "max diff %d steps\n",
              what.c_str(), static_cast<long long>(a.n), 100 * a.exact_fraction(),
              100 * a.within_one_fraction(), a.max_diff);
  ::testing::Test::RecordProperty(what + " exact", std::to_string(a.exact_fraction()));
  ::testing::Test::RecordProperty(what + " within one", std::to_string(a.within_one_fraction()));
  ::testing::Test::RecordProperty(what + " max diff", std::to_string(a.max_diff));
}

// The file of output tensor `id` in a dump folder: out_<id>_<name>.bin.
std::filesystem::path output_file(const std::filesystem::path& dir, int32_t id) {
  const std::string prefix = "out_" + std::to_string(id) + "_";
  if (std::filesystem::exists(dir))
    for (const auto& e : std::filesystem::directory_iterator(dir))
      if (e.path().filename().string().rfind(prefix, 0) == 0) return e.path();
  return dir / (prefix + "missing.bin");
}

void write_bytes(const std::filesystem::path& path, std::span<const uint8_t> bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// A copy of a .tflite file whose first outputs of subgraph 0 are `ids` (same count or fewer
// than the file has): the peer then computes and dumps those tensors.
std::vector<uint8_t> with_outputs(std::vector<uint8_t> bytes, const std::vector<int32_t>& ids) {
  const tfl::Model* m = tfl::GetModel(bytes.data());
  const auto* outs = m->subgraphs()->Get(0)->outputs();
  EXPECT_LE(ids.size(), outs->size());
  const size_t off = static_cast<size_t>(reinterpret_cast<const uint8_t*>(outs->data()) - bytes.data());
  for (size_t i = 0; i < ids.size() && i < outs->size(); ++i)
    std::memcpy(bytes.data() + off + 4 * i, &ids[i], 4);  // little-endian int32, like flatbuffers
  return bytes;
}

// Runs the peer on `model_bytes` with `input`, dumping outputs into dir/peer.
::testing::AssertionResult run_peer(const std::filesystem::path& dir,
                                    std::span<const uint8_t> model_bytes,
                                    std::span<const uint8_t> input) {
  write_bytes(dir / "model.tflite", model_bytes);
  write_bytes(dir / "input.bin", input);
  std::string log;
  const std::string cmd = qdet::testing::peer_command("tflite_run.js") + " '" +
                          (dir / "model.tflite").string() + "' --input '" +
                          (dir / "input.bin").string() + "' --warmup 0 --runs 1 --dump-dir '" +
                          (dir / "peer").string() + "'";
  if (qdet::testing::run_command(cmd, &log) != 0)
    return ::testing::AssertionFailure() << "peer failed: " << log;
  return ::testing::AssertionSuccess();
}

class QuantizedModel : public ::testing::Test {
 protected:
  // `fast`: the default kernel choice (XNNPACK first); false: reference kernels only.
  void load(const std::string& name, bool fast = true) {
    model_path_ = data_dir() / "models" / (name + ".tflite");
    QDET_REQUIRE_PATH(model_path_);
    auto bytes = read_file(model_path_);
    ASSERT_TRUE(bytes.ok()) << bytes.status().message();
    bytes_ = std::move(bytes).value();
    auto m = tflite::read_tflite(bytes_, model_path_.string());
    ASSERT_TRUE(m.ok()) << m.status().message();
    model_ = std::make_unique<graph::Model>(std::move(m).value());
    // The SSD file declares its TFLite_Detection_PostProcess outputs with shape [] (TFLite
    // resizes them at prepare); qdet's interpreter compares computed shapes with declared ones,
    // so give them the shapes the op computes (max_detections = 10: [1,10,4], [1,10], [1,10],
    // [1]). Reported to the runtime owner: the interpreter should accept an empty declared shape.
    for (const auto& op : model_->graph.ops)
      if (op.kind == graph::OpKind::kDetectionPostProcess && op.outputs.size() == 4) {
        const Shape shapes[4] = {{1, 10, 4}, {1, 10}, {1, 10}, {1}};
        for (size_t i = 0; i < 4; ++i) {
          graph::Tensor& t = model_->graph.tensors[static_cast<size_t>(op.outputs[i])];
          if (t.shape.empty()) t.shape = shapes[i];
        }
      }
    graph_ = std::make_shared<const graph::Graph>(model_->graph);
    // Every tensor kept readable.
    InterpreterOptions options;
    options.use_fast_kernels = fast;
    options.keep_intermediates = true;
    auto interp = Interpreter::create(graph_, options);
    ASSERT_TRUE(interp.ok()) << interp.status().message();
    interp_ = std::move(interp).value();
  }

  void run(std::span<const uint8_t> input) {
    TensorRef& in = interp_->input(0);
    ASSERT_EQ(input.size(), in.byte_size());
    std::memcpy(in.data, input.data(), input.size());
    const Status s = interp_->invoke();
    ASSERT_TRUE(s.ok()) << s.message();
  }

  int32_t first_op_output(graph::OpKind kind) const {
    for (const auto& op : model_->graph.ops)
      if (op.kind == kind) return op.outputs[0];
    return -1;
  }

  std::filesystem::path model_path_;
  std::vector<uint8_t> bytes_;
  std::unique_ptr<graph::Model> model_;
  std::shared_ptr<const graph::Graph> graph_;
  std::unique_ptr<Interpreter> interp_;
};

// YOLOv5 output rows: [cx, cy, w, h, objectness, 80 class scores].
struct BestScores {
  std::vector<double> per_class = std::vector<double>(80, 0.0);
};
BestScores best_scores(std::span<const uint8_t> out, float scale, int32_t zp) {
  BestScores b;
  for (size_t r = 0; r + 85 <= out.size(); r += 85) {
    const double obj = scale * (out[r + 4] - zp);
    for (int c = 0; c < 80; ++c)
      b.per_class[c] = std::max(b.per_class[c], obj * scale * (out[r + 5 + c] - zp));
  }
  return b;
}

TEST_F(QuantizedModel, Yolov5nInt8MatchesOracleOnDogImage) {
  load("yolov5n-int8");
  const auto dir = fixtures_dir() / "oracle" / "yolov5n-int8";
  QDET_REQUIRE_PATH(dir / "input.bin");
  auto input = read_file(dir / "input.bin");
  ASSERT_TRUE(input.ok()) << input.status().message();
  run(*input);
  auto want = read_file(output_file(dir, model_->graph.outputs[0]));
  ASSERT_TRUE(want.ok()) << want.status().message();
  const TensorRef& out = interp_->output(0);
  ASSERT_EQ(want->size(), out.byte_size());
  const Agreement a = compare_bytes(out, *want);
  report("yolov5n-int8 dog.jpg output", a);
  EXPECT_GE(a.within_one_fraction(), 0.999);
  // The hot ops ran on the fast kernels (the reference path is what this file used to measure).
  for (size_t i = 0; i < model_->graph.ops.size(); ++i) {
    const graph::OpKind k = model_->graph.ops[i].kind;
    if (k == graph::OpKind::kConv2d || k == graph::OpKind::kAdd || k == graph::OpKind::kMul ||
        k == graph::OpKind::kLogistic || k == graph::OpKind::kMaxPool2d ||
        k == graph::OpKind::kPad || k == graph::OpKind::kConcatenation) {
      EXPECT_STRNE(interp_->kernel_name(i), "reference") << "op " << i;
    }
  }

  // Same detections: the classes the oracle scores >= 0.4 (bicycle, car, dog) get a best score
  // within 0.005 from qdet; no class is >= 0.4 on one side and < 0.2 on the other.
  const BestScores ours = best_scores({out.as<const uint8_t>(), out.byte_size()}, out.scale(),
                                      out.zero_point());
  const BestScores oracle = best_scores(*want, out.scale(), out.zero_point());
  int found = 0;
  for (int c = 0; c < 80; ++c) {
    if (oracle.per_class[c] >= 0.25 || ours.per_class[c] >= 0.25)
      std::printf("[ quantized oracle ] class %d: best score qdet %.3f, oracle %.3f\n", c,
                  ours.per_class[c], oracle.per_class[c]);
    if (oracle.per_class[c] >= 0.4) {
      ++found;
      EXPECT_NEAR(ours.per_class[c], oracle.per_class[c], 0.005) << "class " << c;
    }
    EXPECT_FALSE(oracle.per_class[c] >= 0.4 && ours.per_class[c] < 0.2) << "class " << c;
    EXPECT_FALSE(ours.per_class[c] >= 0.4 && oracle.per_class[c] < 0.2) << "class " << c;
  }
  EXPECT_EQ(found, 3);  // bicycle (1), car (2), dog (16)
}

TEST_F(QuantizedModel, Yolov5nInt8MatchesPeerOnSeededRandomInput) {
  QDET_REQUIRE_PEERS();
  load("yolov5n-int8");
  const auto dir = qdet::testing::scratch_dir();
  std::mt19937 rng(20240611);
  std::vector<uint8_t> input(interp_->tensor(model_->graph.inputs[0]).byte_size());
  for (auto& v : input) v = static_cast<uint8_t>(rng() & 0xFF);
  ASSERT_TRUE(run_peer(dir, bytes_, input));
  run(input);
  auto want = read_file(output_file(dir / "peer", model_->graph.outputs[0]));
  ASSERT_TRUE(want.ok()) << want.status().message();
  ASSERT_EQ(want->size(), interp_->output(0).byte_size());
  const Agreement a = compare_bytes(interp_->output(0), *want);
  report("yolov5n-int8 random input output", a);
  EXPECT_GE(a.within_one_fraction(), 0.999);
}

TEST_F(QuantizedModel, Yolov5nInt8FirstConvolutionMatchesPeer) {
  // Identical inputs (the QUANTIZE and PAD before it are exact) and the same XNNPACK qc8
  // arithmetic: identical outputs. (TFLite's reference rounding differs on ~0.03% of them, by
  // one step: XnnpackQuantizedConv tests bound that.)
  QDET_REQUIRE_PEERS();
  load("yolov5n-int8");
  const auto oracle_dir = fixtures_dir() / "oracle" / "yolov5n-int8";
  QDET_REQUIRE_PATH(oracle_dir / "input.bin");
  auto input = read_file(oracle_dir / "input.bin");
  ASSERT_TRUE(input.ok());
  const int32_t conv_out = first_op_output(graph::OpKind::kConv2d);
  ASSERT_GE(conv_out, 0);
  const auto dir = qdet::testing::scratch_dir();
  ASSERT_TRUE(run_peer(dir, with_outputs(bytes_, {conv_out}), *input));
  run(*input);
  auto want = read_file(output_file(dir / "peer", conv_out));
  ASSERT_TRUE(want.ok()) << want.status().message();
  ASSERT_EQ(want->size(), interp_->tensor(conv_out).byte_size());
  const Agreement a = compare_bytes(interp_->tensor(conv_out), *want);
  report("yolov5n-int8 first CONV_2D", a);
  EXPECT_LE(a.max_diff, 1);
  EXPECT_GE(a.exact_fraction(), 0.999);
}

// SSD MobileNet V1 (uint8): the two tensors TFLite_Detection_PostProcess reads (box encodings
// [1,1917,4] and class scores [1,1917,91] after LOGISTIC), computed by qdet's kernels, against
// the same tensors from the peer.
TEST_F(QuantizedModel, SsdMobilenetV1RawOutputsMatchPeerOnDogImage) {
  QDET_REQUIRE_PEERS();
  load("ssd_mobilenet_v1_1_metadata_1");
  const auto oracle_dir = fixtures_dir() / "oracle" / "ssd_mobilenet_v1_1_metadata_1";
  QDET_REQUIRE_PATH(oracle_dir / "input.bin");
  auto input = read_file(oracle_dir / "input.bin");
  ASSERT_TRUE(input.ok());
  const graph::Op* post = nullptr;
  for (const auto& op : model_->graph.ops)
    if (op.kind == graph::OpKind::kDetectionPostProcess) post = &op;
  ASSERT_NE(post, nullptr);
  const int32_t boxes = post->inputs[0], scores = post->inputs[1];
  const auto dir = qdet::testing::scratch_dir();
  ASSERT_TRUE(run_peer(dir, with_outputs(bytes_, {boxes, scores}), *input));
  run(*input);
  for (int32_t id : {boxes, scores}) {
    auto want = read_file(output_file(dir / "peer", id));
    ASSERT_TRUE(want.ok()) << want.status().message();
    ASSERT_EQ(want->size(), interp_->tensor(id).byte_size());
    const Agreement a = compare_bytes(interp_->tensor(id), *want);
    report(fmt::format("ssd_mobilenet_v1 {}", id == boxes ? "box encodings" : "class scores"), a);
    EXPECT_GE(a.within_one_fraction(), 0.999);
  }
}

// SSD's first DEPTHWISE_CONV_2D (uint8, per-tensor weights with zero point) run by qdet on the
// peer's own input tensor: every element within one step of the peer's output.
TEST_F(QuantizedModel, SsdMobilenetV1DepthwiseOnPeerInputWithinOneStep) {
  QDET_REQUIRE_PEERS();
  load("ssd_mobilenet_v1_1_metadata_1");
  const auto oracle_dir = fixtures_dir() / "oracle" / "ssd_mobilenet_v1_1_metadata_1";
  QDET_REQUIRE_PATH(oracle_dir / "input.bin");
  auto input = read_file(oracle_dir / "input.bin");
  ASSERT_TRUE(input.ok());
  const graph::Op* dw = nullptr;
  for (const auto& op : model_->graph.ops)
    if (op.kind == graph::OpKind::kDepthwiseConv2d && dw == nullptr) dw = &op;
  ASSERT_NE(dw, nullptr);
  const int32_t in_id = dw->inputs[0], out_id = dw->outputs[0];
  const auto dir = qdet::testing::scratch_dir();
  ASSERT_TRUE(run_peer(dir, with_outputs(bytes_, {in_id, out_id}), *input));
  auto peer_in = read_file(output_file(dir / "peer", in_id));
  auto peer_out = read_file(output_file(dir / "peer", out_id));
  ASSERT_TRUE(peer_in.ok() && peer_out.ok());

  const graph::Graph& g = model_->graph;
  testing::KernelHarness h(graph::OpKind::kDepthwiseConv2d);
  h.op = *dw;
  const graph::Tensor& tin = g.tensors[static_cast<size_t>(in_id)];
  h.add_input<uint8_t>(tin.shape, *peer_in, tin.quant);
  const graph::Tensor& tw = g.tensors[static_cast<size_t>(dw->inputs[1])];
  h.add_input<uint8_t>(tw.shape, tw.data, tw.quant, true);
  const graph::Tensor& tb = g.tensors[static_cast<size_t>(dw->inputs[2])];
  std::vector<int32_t> bias(tb.data.size() / 4);
  std::memcpy(bias.data(), tb.data.data(), tb.data.size());
  h.add_input<int32_t>(tb.shape, bias, tb.quant, true);
  h.add_output(DType::kUInt8, g.tensors[static_cast<size_t>(out_id)].quant);
  h.run();
  const auto got = h.output<uint8_t>();
  ASSERT_EQ(got.size(), peer_out->size());
  Agreement a;
  a.n = static_cast<int64_t>(got.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const int32_t d = std::abs(int32_t{got[i]} - int32_t{(*peer_out)[i]});
    a.exact += d == 0;
    a.within_one += d <= 1;
    a.max_diff = std::max(a.max_diff, d);
  }
  report("ssd_mobilenet_v1 first DEPTHWISE_CONV_2D on the peer's input", a);
  EXPECT_LE(a.max_diff, 1);
  EXPECT_GE(a.exact_fraction(), 0.95);
}

// The whole SSD, post-processing included (the runtime's TFLite_Detection_PostProcess kernel),
// against the stored detections.
TEST_F(QuantizedModel, SsdMobilenetV1MatchesOracleDetections) {
  load("ssd_mobilenet_v1_1_metadata_1");
  const auto dir = fixtures_dir() / "oracle" / "ssd_mobilenet_v1_1_metadata_1";
  QDET_REQUIRE_PATH(dir / "input.bin");
  auto input = read_file(dir / "input.bin");
  ASSERT_TRUE(input.ok());
  run(*input);
  // outputs: boxes [1,10,4], classes [1,10], scores [1,10], count [1] (float32)
  std::vector<std::vector<float>> want(4), got(4);
  for (size_t i = 0; i < 4; ++i) {
    auto bytes = read_file(output_file(dir, model_->graph.outputs[i]));
    ASSERT_TRUE(bytes.ok()) << bytes.status().message();
    want[i].resize(bytes->size() / 4);
    std::memcpy(want[i].data(), bytes->data(), bytes->size());
    const TensorRef& t = interp_->output(i);
    got[i].assign(t.as<const float>(), t.as<const float>() + t.num_elements());
  }
  ASSERT_EQ(got[3].size(), 1u);
  EXPECT_EQ(got[3][0], want[3][0]);
  // Match detections by class and box, not by rank: the oracle has near-ties (car and dog both
  // score 0.645 on dog.jpg) whose order one quantization step can swap.
  auto iou = [](const float* a, const float* b) {  // boxes [ymin, xmin, ymax, xmax]
    const float ih = std::max(0.f, std::min(a[2], b[2]) - std::max(a[0], b[0]));
    const float iw = std::max(0.f, std::min(a[3], b[3]) - std::max(a[1], b[1]));
    const float inter = ih * iw;
    const float uni = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    return uni > 0 ? inter / uni : 0.f;
  };
  const int n_want = static_cast<int>(want[3][0]), n_got = static_cast<int>(got[3][0]);
  for (int d = 0; d < n_want; ++d) {
    int best = -1;
    float best_iou = 0;
    for (int e = 0; e < n_got; ++e)
      if (got[1][e] == want[1][d] && iou(&got[0][4 * e], &want[0][4 * d]) > best_iou) {
        best = e;
        best_iou = iou(&got[0][4 * e], &want[0][4 * d]);
      }
    std::printf("[ quantized oracle ] ssd detection %d: class %g score %.3f -> qdet score %.3f, "
                "IoU %.3f\n", d, want[1][d], want[2][d], best >= 0 ? got[2][best] : -1.f, best_iou);
    ASSERT_GE(best, 0) << "oracle detection " << d << " (class " << want[1][d] << ") not found";
    EXPECT_GE(best_iou, 0.9f) << "detection " << d;
    EXPECT_NEAR(got[2][best], want[2][d], 0.005) << "detection " << d;
  }
}

}  // namespace
}  // namespace qdet::rt

namespace qdet::rt {
namespace {
// A diagnostic, not a check (run with --gtest_also_run_disabled_tests): binary search for the
// first op whose output differs from the peer's on the oracle input, printing each probe.
// QDET_DIAG_MODEL=<stem> picks the model, QDET_DIAG_OPS="3 7 12" probes those ops instead,
// QDET_DIAG_REFERENCE=1 uses the reference kernels. Assumes that once an op departs, later
// ones stay departed; the peer cannot dump every tensor (those probes count as agreeing).
TEST_F(QuantizedModel, DISABLED_FirstOpDifferingFromPeer) {
  QDET_REQUIRE_PEERS();
  const char* name = std::getenv("QDET_DIAG_MODEL");
  load(name ? name : "yolov5n-int8", std::getenv("QDET_DIAG_REFERENCE") == nullptr);
  const auto oracle_dir = fixtures_dir() / "oracle" / (name ? name : "yolov5n-int8");
  auto input = read_file(oracle_dir / "input.bin");
  ASSERT_TRUE(input.ok());
  run(*input);
  const auto dir = qdet::testing::scratch_dir();
  auto agree = [&](size_t op_index) {
    const int32_t id = model_->graph.ops[op_index].outputs[0];
    std::filesystem::remove_all(dir / "peer");
    EXPECT_TRUE(run_peer(dir, with_outputs(bytes_, {id}), *input));
    auto want = read_file(output_file(dir / "peer", id));
    if (!want.ok()) return Agreement{};
    const Agreement a = compare_bytes(interp_->tensor(id), *want);
    std::string ins;
    for (int32_t in : model_->graph.ops[op_index].inputs) {
      if (in < 0) continue;
      const TensorRef& t = interp_->tensor(in);
      ins += fmt::format(" in {}{} {} s={} zp={}", in, t.is_constant ? "c" : "",
                         shape_to_string(t.shape), t.scale(), t.zero_point());
    }
    const TensorRef& o = interp_->tensor(id);
    report(fmt::format("op {} {} ({} s={} zp={}) kernel {}{}", op_index,
                       model_->graph.ops[op_index].name(), id, o.scale(), o.zero_point(),
                       interp_->kernel_name(op_index), ins), a);
    return a;
  };
  size_t lo = 0, hi = model_->graph.ops.size() - 1;
  if (const char* ops = std::getenv("QDET_DIAG_OPS")) {
    std::stringstream ss(ops);
    size_t i;
    while (ss >> i) agree(i);
    return;
  }
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    const Agreement a = agree(mid);
    if (a.exact == a.n) lo = mid + 1; else hi = mid;
  }
  agree(lo);
}
}  // namespace
}  // namespace qdet::rt
