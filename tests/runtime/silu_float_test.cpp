// Float SiLU in one pass (kSiluFloatKernel, silu_float.cpp) against the pair it replaces, XNNPACK's
// LOGISTIC then MUL (run unfused with keep_intermediates), on a graph and on values across the
// whole float range: within 4 ulp of the output (both compute sigmoid to about one ulp, in
// different ways).
#include <gtest/gtest.h>

#include <cfloat>
#include <cstring>
#include <cmath>
#include <random>

#include "runtime/kernels/simd/kernels.h"
#include "graph_builder.h"
#include "runtime/lut_fusion.h"
#include "test_support.h"

namespace qdet::rt {
namespace {

using graph::OpKind;
using namespace testing;  // graph_builder.h: GraphBuilder, run_graph, to_bytes, values_of, per_tensor, F32

// x -> LOGISTIC s -> MUL(x, s) -> out, float32.
std::shared_ptr<const graph::Graph> float_silu_graph(const Shape& shape, bool x_first) {
  GraphBuilder b;
  const int32_t x = b.input(DType::kFloat32, shape, QuantParams{});
  const int32_t s = b.tensor(DType::kFloat32, shape, QuantParams{});
  const int32_t out = b.tensor(DType::kFloat32, shape, QuantParams{});
  b.op(OpKind::kLogistic, {x}, {s});
  b.op(OpKind::kMul, x_first ? std::vector<int32_t>{x, s} : std::vector<int32_t>{s, x}, {out});
  b.output(out);
  return b.shared();
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, const std::vector<float>& x) {
  ASSERT_EQ(got.size(), want.size());
  int reported = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const float tol = 4 * FLT_EPSILON * std::fabs(want[i]) + 1e-37f;
    if (std::fabs(got[i] - want[i]) > tol && ++reported <= 5)
      ADD_FAILURE() << "x = " << x[i] << ": fused " << got[i] << ", LOGISTIC then MUL " << want[i];
  }
}

TEST(FloatSilu, OnePassWithinFourUlpOfLogisticThenMul) {
  const Shape shape = {1, 17, 33, 9};  // 5049 values: SIMD tails at every width
  std::mt19937 rng(5);
  std::vector<float> x(static_cast<size_t>(num_elements(shape)));
  std::uniform_real_distribution<float> wide(-100.f, 100.f), narrow(-8.f, 8.f);
  for (size_t i = 0; i < x.size(); ++i) x[i] = i % 3 ? narrow(rng) : wide(rng);
  const float special[] = {0.f, -0.f, 1e-30f, -1e-30f, 87.f, -87.f, -87.5f, -88.f, -103.f, 88.f, 1e30f, -1e30f};
  for (size_t i = 0; i < std::size(special); ++i) x[i] = special[i];
  std::vector<uint8_t> bytes(x.size() * 4);
  std::memcpy(bytes.data(), x.data(), bytes.size());
  for (bool x_first : {true, false}) {
    auto g = float_silu_graph(shape, x_first);
    ASSERT_EQ(find_silu_pairs(*g, /*float32=*/true).size(), 1u);
    EXPECT_TRUE(find_silu_pairs(*g).empty());  // the table fusion is for int8/uint8
    auto fused = testing::run_graph(g, {bytes}, InterpreterOptions{});
    auto plain = testing::run_graph(g, {bytes}, InterpreterOptions{.keep_intermediates = true});
    ASSERT_TRUE(fused.ok()) << fused.status().message();
    ASSERT_TRUE(plain.ok()) << plain.status().message();
    EXPECT_STREQ((*fused)->kernel_name(0), "fused");
    EXPECT_STREQ((*fused)->kernel_name(1), "silu");
    EXPECT_STRNE((*plain)->kernel_name(1), "silu");
    expect_close(testing::values_of<float>((*fused)->output(0)), testing::values_of<float>((*plain)->output(0)), x);
  }
}

// Plans that keep XNNPACK's float bytes (exact_float: int8 models' float regions, calibration)
// fuse the pair as XNNPACK's arithmetic in one pass (or its own operators a block at a time
// without AVX-512): the unfused pair's bytes exactly, for every value tried (specials, NaN and
// infinities included), at 1-3 threads and for lengths around the block size.
TEST(FloatSilu, ExactPlansKeepThePairsBytes) {
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> wide(-100.f, 100.f), narrow(-8.f, 8.f);
  const float special[] = {0.f, -0.f, 1e-30f, -1e-30f, 1e-40f, -1e-40f, 87.f, -87.f, -87.5f, -88.f, -103.f,
                           88.f, 1e30f, -1e30f, INFINITY, -INFINITY, NAN, FLT_MAX, -FLT_MAX, FLT_MIN};
  for (const int32_t n : {5, 8191, 8192, 8193, 3 * 8192 + 77}) {
    std::vector<float> x(static_cast<size_t>(n));
    for (size_t i = 0; i < x.size(); ++i) {
      uint32_t bits = static_cast<uint32_t>(rng());  // every tenth value: any bit pattern
      float any;
      std::memcpy(&any, &bits, sizeof any);
      x[i] = i % 10 == 0 ? any : (i % 3 ? narrow(rng) : wide(rng));
    }
    for (size_t i = 0; i < std::size(special) && i < x.size(); ++i) x[x.size() - 1 - i] = special[i];
    std::vector<uint8_t> bytes(x.size() * 4);
    std::memcpy(bytes.data(), x.data(), bytes.size());
    for (const int threads : {1, 2, 3}) {
      SCOPED_TRACE(::testing::Message() << n << " values, " << threads << " threads");
      auto g = float_silu_graph({1, n}, n % 2 == 0);
      InterpreterOptions exact{.num_threads = threads, .exact_float = true};
      auto fused = testing::run_graph(g, {bytes}, exact);
      exact.keep_intermediates = true;
      auto plain = testing::run_graph(g, {bytes}, exact);
      ASSERT_TRUE(fused.ok()) << fused.status().message();
      ASSERT_TRUE(plain.ok()) << plain.status().message();
      EXPECT_STREQ((*fused)->kernel_name(0), "fused");
      // XNNPACK's arithmetic in one pass on AVX-512 CPUs, else its operators a block at a time.
      EXPECT_STREQ((*fused)->kernel_name(1), simd::silu_exact_available() ? "simd-silu" : "xnnpack-silu");
      EXPECT_STREQ((*plain)->kernel_name(1), "xnnpack");
      const TensorRef& a = (*fused)->output(0);
      const TensorRef& e = (*plain)->output(0);
      EXPECT_EQ(0, std::memcmp(a.data, e.data, e.byte_size()));
    }
  }
}

// x -> LOGISTIC -> MUL -> ADD(silu, other) -> out: the one-pass SiLU takes the ADD in
// (silu-add), and gives the bytes of the one-pass SiLU then XNNPACK's ADD, which run where the
// SiLU's output is also a graph output (so it must be stored).
TEST(FloatSilu, ResidualAddFusesWithTheSameBytes) {
  const Shape shape = {1, 13, 17, 40};  // 8840 values: SIMD tails
  const int64_t n = num_elements(shape);
  std::mt19937 rng(13);
  std::uniform_real_distribution<float> d(-20.f, 20.f);
  std::vector<float> x(static_cast<size_t>(n)), other(static_cast<size_t>(n));
  for (auto& v : x) v = d(rng);
  for (auto& v : other) v = d(rng);
  const float special[] = {INFINITY, -INFINITY, NAN, 0.f, -0.f, 1e30f, -1e30f, -100.f, 1e-40f, -3e-39f};
  for (size_t i = 0; i < std::size(special); ++i) {
    x[i] = special[i];
    other[i + 8] = special[i];
    x[i + 16] = special[i];
    other[i + 16] = special[std::size(special) - 1 - i];
  }
  // Subnormal sums: XNNPACK's ADD runs with denormals off and flushes them to zero.
  x[30] = 0.f, other[30] = 1e-40f;
  x[31] = -3e-39f, other[31] = 0.f;
  x[32] = 1e-40f, other[32] = -0.f;
  std::vector<uint8_t> xb(x.size() * 4), ob(other.size() * 4);
  std::memcpy(xb.data(), x.data(), xb.size());
  std::memcpy(ob.data(), other.data(), ob.size());
  auto graph = [&](bool silu_is_output, bool other_first) {
    testing::GraphBuilder b;
    const int32_t xi = b.input(DType::kFloat32, shape, QuantParams{});
    const int32_t oi = b.input(DType::kFloat32, shape, QuantParams{});
    const int32_t s = b.tensor(DType::kFloat32, shape, QuantParams{});
    const int32_t y = b.tensor(DType::kFloat32, shape, QuantParams{});
    const int32_t out = b.tensor(DType::kFloat32, shape, QuantParams{});
    b.op(OpKind::kLogistic, {xi}, {s});
    b.op(OpKind::kMul, {xi, s}, {y});
    b.op(OpKind::kAdd, other_first ? std::vector<int32_t>{oi, y} : std::vector<int32_t>{y, oi}, {out});
    b.output(out);
    if (silu_is_output) b.output(y);
    return b.shared();
  };
  for (bool other_first : {false, true}) {
    auto fused = testing::run_graph(graph(false, other_first), {xb, ob}, InterpreterOptions{});
    auto plain = testing::run_graph(graph(true, other_first), {xb, ob}, InterpreterOptions{});
    ASSERT_TRUE(fused.ok()) << fused.status().message();
    ASSERT_TRUE(plain.ok()) << plain.status().message();
    EXPECT_STREQ((*fused)->kernel_name(1), "fused");
    EXPECT_STREQ((*fused)->kernel_name(2), "silu-add");
    EXPECT_STREQ((*plain)->kernel_name(1), "silu");
    EXPECT_STREQ((*plain)->kernel_name(2), "xnnpack");
    const auto a = testing::values_of<float>((*fused)->output(0));
    const auto e = testing::values_of<float>((*plain)->output(0));
    for (size_t i = 0; i < a.size(); ++i)
      ASSERT_TRUE(std::memcmp(&a[i], &e[i], 4) == 0 || (std::isnan(a[i]) && std::isnan(e[i])))
          << i << ": x " << x[i] << " + " << other[i] << ": fused " << a[i] << ", unfused " << e[i];
  }
}

TEST(FloatSilu, MatchesDoublePrecisionEverywhere) {
  std::vector<float> x;
  for (float v = -100.f; v <= 100.f; v += 0.0137f) x.push_back(v);
  std::vector<float> out(x.size());
  silu_float(x.data(), out.data(), x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double want = x[i] / (1.0 + std::exp(-static_cast<double>(x[i])));
    ASSERT_NEAR(out[i], want, 3 * FLT_EPSILON * std::fabs(want) + 2e-36) << "x = " << x[i];
  }
}

}  // namespace
}  // namespace qdet::rt
