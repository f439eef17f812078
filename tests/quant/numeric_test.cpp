// Quantized graphs run in qdet's interpreter and stay close to the float graph they came from.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <set>

#include "graph_builder.h"
#include "quant/graph_edit.h"
#include "quant/modes.h"
#include "runtime/interpreter.h"

namespace qdet::quant {
namespace {

using graph::OpKind;
using testing::GraphBuilder;

std::vector<float> random_values(size_t n, float scale, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// Runs `model` on `input` (float32 values, quantized first when the input is integer) and
// returns every tensor's real values by id (empty for constants and tensors without data).
std::vector<std::vector<float>> run_all(const graph::Model& model, const std::vector<float>& input) {
  auto g = std::make_shared<const graph::Graph>(model.graph);
  rt::InterpreterOptions o;
  o.keep_intermediates = true;
  auto interp = rt::Interpreter::create(g, o);
  EXPECT_TRUE(interp.ok()) << interp.status().message();
  if (!interp.ok()) std::fprintf(stderr, "%s\n", interp.status().message().c_str());
  if (!interp.ok()) return {};
  auto& in = (*interp)->input(0);
  EXPECT_EQ(in.dtype, DType::kFloat32);
  std::memcpy(in.data, input.data(), input.size() * 4);
  EXPECT_TRUE((*interp)->invoke().ok());
  std::vector<std::vector<float>> out(g->tensors.size());
  for (size_t t = 0; t < g->tensors.size(); ++t) {
    if (g->tensors[t].is_constant()) continue;
    const auto& r = (*interp)->tensor(static_cast<int32_t>(t));
    if (!r.data) continue;
    const int64_t n = r.num_elements();
    out[t].resize(n);
    for (int64_t i = 0; i < n; ++i) {
      switch (r.dtype) {
        case DType::kFloat32: out[t][i] = r.as<float>()[i]; break;
        case DType::kInt8: out[t][i] = r.scale() * (r.as<int8_t>()[i] - r.zero_point()); break;
        case DType::kInt16: out[t][i] = r.scale() * (r.as<int16_t>()[i] - r.zero_point()); break;
        default: break;
      }
    }
  }
  return out;
}

double sqnr_db(const std::vector<float>& f, const std::vector<float>& q) {
  double s = 0, n = 0;
  for (size_t i = 0; i < f.size(); ++i) s += double(f[i]) * f[i], n += double(f[i] - q[i]) * (f[i] - q[i]);
  return n > 0 ? 10 * std::log10(s / n) : 1e9;
}

// in [1,8,8,16] -> CONV_2D 1x1 (32) -> c -> LOGISTIC -> s; MUL(c, s) -> m (SiLU)
//   -> DEPTHWISE_CONV_2D 3x3 -> d -> ADD(d, d2 = CONV_2D 1x1 of m) -> out
// Without `silu`, the convolutions read c directly (qdet's runtime has no int16 LOGISTIC or
// RELU kernel yet).
graph::Model silu_block(std::vector<int32_t>* ids, bool silu) {
  GraphBuilder b;
  const int32_t in = b.input("in", {1, 8, 8, 16});
  const int32_t w1 = b.constant("w1", {32, 1, 1, 16}, random_values(32 * 16, 0.3f, 1));
  const int32_t b1 = b.constant("b1", {32}, random_values(32, 0.5f, 2));
  const int32_t c = b.activation("c", {1, 8, 8, 32});
  const int32_t s = b.activation("s", {1, 8, 8, 32});
  const int32_t m = b.activation("m", {1, 8, 8, 32});
  const int32_t w2 = b.constant("w2", {1, 3, 3, 32}, random_values(9 * 32, 0.4f, 3));
  const int32_t b2 = b.constant("b2", {32}, random_values(32, 0.1f, 4));
  const int32_t d = b.activation("d", {1, 8, 8, 32});
  const int32_t w3 = b.constant("w3", {32, 1, 1, 32}, random_values(32 * 32, 0.2f, 5));
  const int32_t b3 = b.constant("b3", {32}, random_values(32, 0.1f, 6));
  const int32_t d2 = b.activation("d2", {1, 8, 8, 32});
  const int32_t out = b.activation("out", {1, 8, 8, 32});
  b.op(OpKind::kConv2d, {in, w1, b1}, {c});
  if (silu) {
    b.op(OpKind::kLogistic, {c}, {s});
    b.op(OpKind::kMul, {c, s}, {m});
  }
  const int32_t x = silu ? m : c;
  auto& dw = b.op(OpKind::kDepthwiseConv2d, {x, w2, b2}, {d});
  dw.attrs.depth_multiplier = 1;
  b.op(OpKind::kConv2d, {x, w3, b3}, {d2});
  b.op(OpKind::kAdd, {d, d2}, {out});
  b.output(out);
  *ids = silu ? std::vector<int32_t>{c, s, m, d, d2, out} : std::vector<int32_t>{c, d, d2, out};
  return b.model();
}

class NumericTest : public ::testing::TestWithParam<DType> {};

TEST_P(NumericTest, QuantizedBlockTracksFloat) {
  std::vector<int32_t> ids;
  graph::Model fm = silu_block(&ids, GetParam() == DType::kInt8);
  const auto input = random_values(8 * 8 * 16, 1.0f, 9);
  const auto fv = run_all(fm, input);
  ASSERT_FALSE(fv.empty());
  // Ranges: min/max of this very input (so that nothing is clipped).
  RangeMap ranges;
  const auto keys = tensor_keys(fm.graph);
  for (size_t t = 0; t < fv.size(); ++t)
    if (!fv[t].empty())
      ranges[keys[t]] = {*std::min_element(fv[t].begin(), fv[t].end()),
                         *std::max_element(fv[t].begin(), fv[t].end())};
  IntegerOptions o;
  o.activations = GetParam();
  auto r = quantize_integer(fm, ranges, o, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto qv = run_all(r->model, input);
  ASSERT_FALSE(qv.empty());
  // int8 activations: about 6 dB per bit on a full-range tensor (~40 dB), minus what each op
  // adds. 16x8: int16 activations, but int8 weights bound it near 40-45 dB.
  const double bound = GetParam() == DType::kInt16 ? 38.0 : 25.0;
  for (int32_t t : ids) {
    const auto& q = qv[r->tensor_map[t]];
    ASSERT_EQ(q.size(), fv[t].size()) << keys[t];
    EXPECT_GT(sqnr_db(fv[t], q), bound) << "tensor " << keys[t];
  }
}

// The ops added for detectors' backbones and heads, quantized by the same rules:
// in [1,8,8,16] -> TRANSPOSE_CONV 3x3 s2 (8) -> t -> PRELU -> p -> HARD_SWISH -> h
//   -> AVERAGE_POOL_2D 2x2 s2 -> a -> RESIZE_BILINEAR 16x16 -> r -> MAXIMUM(r, p) -> mx
//   -> TANH -> tn -> MEAN over H, W -> out
graph::Model backbone_ops_block(std::vector<int32_t>* ids) {
  GraphBuilder b;
  const int32_t in = b.input("in", {1, 8, 8, 16});
  const int32_t oshape = b.int_constant("oshape", {4}, {1, 16, 16, 8});
  const int32_t w = b.constant("w", {8, 3, 3, 16}, random_values(8 * 9 * 16, 0.2f, 11));
  const int32_t bias = b.constant("bias", {8}, random_values(8, 0.3f, 12));
  const int32_t alpha = b.constant("alpha", {8}, random_values(8, 0.3f, 13));
  const int32_t size = b.int_constant("size", {2}, {16, 16});
  const int32_t axes = b.int_constant("axes", {2}, {1, 2});
  const int32_t t = b.activation("t", {1, 16, 16, 8}), p = b.activation("p", {1, 16, 16, 8});
  const int32_t h = b.activation("h", {1, 16, 16, 8}), a = b.activation("a", {1, 8, 8, 8});
  const int32_t r = b.activation("r", {1, 16, 16, 8}), mx = b.activation("mx", {1, 16, 16, 8});
  const int32_t tn = b.activation("tn", {1, 16, 16, 8}), out = b.activation("out", {1, 1, 1, 8});
  auto& tc = b.op(OpKind::kTransposeConv, {oshape, w, in, bias}, {t});
  tc.attrs.stride_h = tc.attrs.stride_w = 2;
  b.op(OpKind::kPrelu, {t, alpha}, {p});
  b.op(OpKind::kHardSwish, {p}, {h});
  auto& pool = b.op(OpKind::kAveragePool2d, {h}, {a});
  pool.attrs.filter_h = pool.attrs.filter_w = pool.attrs.stride_h = pool.attrs.stride_w = 2;
  pool.attrs.padding = graph::Padding::kValid;
  b.op(OpKind::kResizeBilinear, {a, size}, {r}).attrs.half_pixel_centers = true;
  b.op(OpKind::kMaximum, {r, p}, {mx});
  b.op(OpKind::kTanh, {mx}, {tn});
  b.op(OpKind::kMean, {tn, axes}, {out}).attrs.keep_dims = true;
  b.output(out);
  *ids = {t, p, h, a, r, mx, tn, out};
  return b.model();
}

TEST_P(NumericTest, BackboneOpsQuantizeAndTrackFloat) {
  std::vector<int32_t> ids;
  graph::Model fm = backbone_ops_block(&ids);
  const auto input = random_values(8 * 8 * 16, 1.0f, 14);
  const auto fv = run_all(fm, input);
  ASSERT_FALSE(fv.empty());
  RangeMap ranges;
  const auto keys = tensor_keys(fm.graph);
  for (size_t t = 0; t < fv.size(); ++t)
    if (!fv[t].empty())
      ranges[keys[t]] = {*std::min_element(fv[t].begin(), fv[t].end()),
                         *std::max_element(fv[t].begin(), fv[t].end())};
  IntegerOptions o;
  o.activations = GetParam();
  Notes notes;
  auto q = quantize_integer(fm, ranges, o, &notes);
  ASSERT_TRUE(q.ok()) << q.status().message();
  // Every op runs in integer, except those TFLite has no 16x8 kernel for (PRELU, HARD_SWISH).
  const std::set<int32_t> float_ops =
      GetParam() == DType::kInt16 ? std::set<int32_t>{1, 2} : std::set<int32_t>{};
  EXPECT_EQ(q->float_ops, float_ops);
  const auto qv = run_all(q->model, input);
  ASSERT_FALSE(qv.empty());
  const double bound = GetParam() == DType::kInt16 ? 35.0 : 20.0;
  for (int32_t t : ids) {
    const auto& v = qv[q->tensor_map[t]];
    ASSERT_EQ(v.size(), fv[t].size()) << keys[t];
    EXPECT_GT(sqnr_db(fv[t], v), bound) << "tensor " << keys[t];
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, NumericTest, ::testing::Values(DType::kInt8, DType::kInt16),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

}  // namespace
}  // namespace qdet::quant
