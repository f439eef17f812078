// GPTQ weight rounding (gptq.h) on small hand-built float layers with correlated random inputs:
// the layer's output error over the samples is lower than with nearest rounding, the scales are
// nearest rounding's, every value stays in [-127, 127], and the int8 rewrite uses the result.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "graph_builder.h"
#include "quant/gptq.h"
#include "quant/modes.h"
#include "runtime/interpreter.h"

namespace qdet::quant {
namespace {

using graph::OpKind;
using testing::GraphBuilder;

std::vector<float> randn(size_t n, std::mt19937& rng, double sd = 1.0) {
  std::normal_distribution<double> d(0.0, sd);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(d(rng));
  return v;
}

// Inputs with correlated channels (a shared component plus noise), as feature maps have: the
// case where GPTQ's error compensation pays.
std::vector<std::vector<uint8_t>> correlated_samples(size_t count, size_t elements, int channels, std::mt19937& rng) {
  std::vector<std::vector<uint8_t>> samples;
  std::normal_distribution<double> d(0.0, 1.0);
  for (size_t s = 0; s < count; ++s) {
    std::vector<float> v(elements);
    for (size_t i = 0; i < elements; i += channels) {
      const double shared = d(rng);
      for (int c = 0; c < channels && i + c < elements; ++c) v[i + c] = static_cast<float>(shared + 0.3 * d(rng) + 0.1 * c);
    }
    samples.emplace_back(elements * 4);
    std::memcpy(samples.back().data(), v.data(), samples.back().size());
  }
  return samples;
}

// Sum of squared output differences between `model` and `reference` over the samples.
double output_sse(const graph::Model& model, const graph::Model& reference,
                  const std::vector<std::vector<uint8_t>>& samples) {
  auto a = rt::Interpreter::create(std::make_shared<const graph::Graph>(model.graph));
  auto b = rt::Interpreter::create(std::make_shared<const graph::Graph>(reference.graph));
  EXPECT_TRUE(a.ok() && b.ok());
  double sse = 0;
  for (const auto& s : samples) {
    std::memcpy((*a)->input(0).data, s.data(), s.size());
    std::memcpy((*b)->input(0).data, s.data(), s.size());
    EXPECT_TRUE((*a)->invoke().ok());
    EXPECT_TRUE((*b)->invoke().ok());
    const auto& oa = (*a)->output(0);
    const auto& ob = (*b)->output(0);
    for (int64_t i = 0; i < oa.num_elements(); ++i) {
      const double e = static_cast<double>(oa.as<const float>()[i]) - ob.as<const float>()[i];
      sse += e * e;
    }
  }
  return sse;
}

// `model` with the weights of tensor `w` replaced by the dequantized values of `q`.
graph::Model with_weights(graph::Model model, int32_t w, const QuantizedConstant& q, int axis) {
  auto& t = model.graph.tensors[w];
  std::vector<float> v(t.data.size() / 4);
  const int64_t channels = t.shape[axis];
  int64_t inner = 1;
  for (size_t d = static_cast<size_t>(axis) + 1; d < t.shape.size(); ++d) inner *= t.shape[d];
  for (size_t i = 0; i < v.size(); ++i) {
    const size_t c = q.params.scale.size() == 1 ? 0 : (i / inner) % channels;
    v[i] = static_cast<int8_t>(q.data[i]) * q.params.scale[c];
  }
  std::memcpy(t.data.data(), v.data(), t.data.size());
  return model;
}

struct LayerCase {
  OpKind kind;
  const char* name;
};

class Gptq : public ::testing::TestWithParam<LayerCase> {};

TEST_P(Gptq, LowersTheLayersOutputErrorOnTheSamples) {
  const OpKind kind = GetParam().kind;
  std::mt19937 rng(7);
  GraphBuilder b;
  const int channels = 24, out_c = 16;
  Shape in_shape = kind == OpKind::kFullyConnected ? Shape{8, channels} : Shape{1, 6, 6, channels};
  const int32_t in = b.input("in", in_shape);
  Shape w_shape = kind == OpKind::kConv2d           ? Shape{out_c, 3, 3, channels}
                  : kind == OpKind::kDepthwiseConv2d ? Shape{1, 3, 3, channels}
                                                     : Shape{out_c, channels};
  const int oc = kind == OpKind::kDepthwiseConv2d ? channels : out_c;
  const auto wv = randn(static_cast<size_t>(::qdet::num_elements(w_shape)), rng, 0.2);
  const int32_t w = b.constant("w", w_shape, wv);
  const int32_t bias = b.constant("b", {oc}, std::vector<float>(oc, 0.1f));
  Shape out_shape = kind == OpKind::kFullyConnected ? Shape{8, out_c} : Shape{1, 6, 6, oc};
  const int32_t out = b.activation("out", out_shape);
  auto& op = b.op(kind, {in, w, bias}, {out});
  op.attrs.padding = graph::Padding::kSame;
  b.output(out);
  const auto samples = correlated_samples(12, static_cast<size_t>(::qdet::num_elements(in_shape)), channels, rng);

  GptqOptions o;
  if (kind == OpKind::kDepthwiseConv2d) {  // off by default
    auto skipped = gptq_round_weights(b.model(), samples, {}, o);
    ASSERT_TRUE(skipped.ok());
    EXPECT_EQ(skipped->layers, 0);
    o.depthwise = true;
  }
  auto r = gptq_round_weights(b.model(), samples, {}, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->layers, 1);
  ASSERT_EQ(r->weights.count(w), 1u);
  const QuantizedConstant& g = r->weights.at(w);
  const int axis = kind == OpKind::kDepthwiseConv2d ? 3 : 0;
  auto nearest = quantize_weights_symmetric(wv, w_shape, axis);
  ASSERT_TRUE(nearest.ok());
  EXPECT_EQ(g.params.scale, nearest->params.scale);
  EXPECT_EQ(g.params.quantized_dimension, axis);
  ASSERT_EQ(g.data.size(), nearest->data.size());
  size_t changed = 0;
  for (size_t i = 0; i < g.data.size(); ++i) {
    const int v = static_cast<int8_t>(g.data[i]);
    EXPECT_GE(v, -127);
    EXPECT_LE(v, 127);
    changed += g.data[i] != nearest->data[i];
  }
  EXPECT_GT(changed, 0u) << "GPTQ rounded every weight to nearest";
  EXPECT_LT(r->error_gptq, r->error_nearest);
  // The measured output error of the layer, over the same samples.
  const double e_gptq = output_sse(with_weights(b.model(), w, g, axis), b.model(), samples);
  const double e_nearest = output_sse(with_weights(b.model(), w, *nearest, axis), b.model(), samples);
  EXPECT_LT(e_gptq, 0.8 * e_nearest) << "gptq " << e_gptq << " nearest " << e_nearest;

  // The int8 rewrite takes the rounded weights as they are.
  IntegerOptions io;
  io.rounded_weights = r->weights;
  RangeMap ranges = {{"in", {-4.f, 4.f}}, {"out", {-6.f, 6.f}}};
  auto q = quantize_integer(b.model(), ranges, io, nullptr);
  ASSERT_TRUE(q.ok()) << q.status().message();
  bool found = false;
  for (const auto& t : q->model.graph.tensors)
    if (t.name == "w" && t.dtype == DType::kInt8) {
      found = true;
      EXPECT_EQ(t.data, g.data);
      EXPECT_EQ(t.quant.scale, g.params.scale);
    }
  EXPECT_TRUE(found);
}

INSTANTIATE_TEST_SUITE_P(Layers, Gptq,
                         ::testing::Values(LayerCase{OpKind::kConv2d, "Conv"},
                                           LayerCase{OpKind::kDepthwiseConv2d, "Depthwise"},
                                           LayerCase{OpKind::kFullyConnected, "FullyConnected"}),
                         [](const ::testing::TestParamInfo<LayerCase>& i) { return std::string(i.param.name); });

// Ops kept float, shared weights and no samples leave the weights to nearest rounding.
TEST(GptqSkips, KeptFloatSharedWeightsAndNoSamples) {
  std::mt19937 rng(3);
  GraphBuilder b;
  const int32_t in = b.input("in", {4, 8});
  const int32_t w = b.constant("w", {8, 8}, randn(64, rng));
  const int32_t a = b.activation("a", {4, 8});
  const int32_t c = b.activation("c", {4, 8});
  b.op(OpKind::kFullyConnected, {in, w, -1}, {a});
  b.op(OpKind::kFullyConnected, {a, w, -1}, {c});  // the same weights again
  b.output(c);
  const auto samples = correlated_samples(2, 32, 8, rng);
  auto shared = gptq_round_weights(b.model(), samples, {}, {});
  ASSERT_TRUE(shared.ok()) << shared.status().message();
  EXPECT_EQ(shared->layers, 0);
  GraphBuilder b2;
  const int32_t in2 = b2.input("in", {4, 8});
  const int32_t w2 = b2.constant("w", {8, 8}, randn(64, rng));
  const int32_t o2 = b2.activation("o", {4, 8});
  b2.op(OpKind::kFullyConnected, {in2, w2, -1}, {o2});
  b2.output(o2);
  auto kept = gptq_round_weights(b2.model(), samples, {0}, {});
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->layers, 0);
  // Over the memory budget (H is 8 x 8 doubles here, 512 bytes): nearest rounding, counted.
  GptqOptions small;
  small.max_bytes = 500;
  auto over = gptq_round_weights(b2.model(), samples, {}, small);
  ASSERT_TRUE(over.ok());
  EXPECT_EQ(over->layers, 0);
  EXPECT_EQ(over->over_budget, 1);
  auto none = gptq_round_weights(b2.model(), {}, {}, {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->weights.empty());
  // A sample of the wrong size is an error naming it.
  std::vector<std::vector<uint8_t>> bad = {std::vector<uint8_t>(3)};
  auto wrong = gptq_round_weights(b2.model(), bad, {}, {});
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("sample 0"), std::string::npos);
}

}  // namespace
}  // namespace qdet::quant
