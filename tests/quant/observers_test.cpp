#include "quant/observers.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace qdet::quant {
namespace {

TEST(Histogram, GrowsByExactMergesAndKeepsEveryCount) {
  Histogram h(16);
  h.add(std::vector<float>{0.f, 1.f});
  EXPECT_EQ(h.count(), 2);
  h.add(std::vector<float>{3.9f, -5.f, 100.f});
  EXPECT_EQ(h.count(), 5);
  EXPECT_EQ(h.min(), -5.f);
  EXPECT_EQ(h.max(), 100.f);
  double total = 0;
  for (double b : h.bins()) total += b;
  EXPECT_EQ(total, 5.0);
  EXPECT_LE(h.lo(), -5.0);
  EXPECT_GT(h.hi(), 100.0);
  // Every value sits in the bin that covers it.
  auto bin_of = [&](double v) { return static_cast<size_t>((v - h.lo()) / h.bin_width()); };
  EXPECT_GE(h.bins()[bin_of(100.0)], 1.0);
  EXPECT_GE(h.bins()[bin_of(-5.0)], 1.0);
}

TEST(Histogram, NonFiniteValuesAreCountedApart) {
  Histogram h;
  h.add(std::vector<float>{NAN, INFINITY});
  EXPECT_EQ(h.count(), 0);
  EXPECT_EQ(h.nonfinite(), 2);
  h.add(std::vector<float>{1.f, NAN});
  EXPECT_EQ(h.count(), 1);
  EXPECT_EQ(h.nonfinite(), 3);
  EXPECT_EQ(observe_range(Histogram(), {}), (Range{0.f, 0.f}));
}

Histogram gaussian_with_outliers() {
  std::mt19937 rng(7);
  std::normal_distribution<float> n(0.f, 1.f);
  std::vector<float> v(200000);
  for (auto& x : v) x = n(rng);
  v[0] = 40.f;  // one far outlier
  v[1] = -25.f;
  Histogram h;
  h.add(v);
  return h;
}

TEST(Observers, MinMaxIsTheExtremes) {
  auto h = gaussian_with_outliers();
  EXPECT_EQ(minmax_range(h), (Range{-25.f, 40.f}));
}

TEST(Observers, PercentileCutsTheTails) {
  auto h = gaussian_with_outliers();
  const Range r = percentile_range(h, 99.9);
  // The 99.9% quantile of N(0,1) is 3.09; the histogram is coarse (bins of ~0.03).
  EXPECT_NEAR(r.max, 3.09, 0.15);
  EXPECT_NEAR(r.min, -3.09, 0.15);
  // One-signed data keeps its exact minimum.
  Histogram pos;
  pos.add(std::vector<float>{0.f, 1.f, 2.f, 3.f, 1000.f});
  EXPECT_EQ(percentile_range(pos, 90).min, 0.f);
}

TEST(Observers, MseFindsTheKnownOptimalClipOfALaplacian) {
  // Banner et al. (ACIQ): for Laplace(0, b) and 4-bit (16-level) uniform quantization the
  // clipping value minimizing the MSE is about 5.03 b.
  std::mt19937 rng(11);
  std::exponential_distribution<float> e(1.f);
  std::uniform_int_distribution<int> sign(0, 1);
  std::vector<float> v(400000);
  for (auto& x : v) x = sign(rng) ? e(rng) : -e(rng);
  Histogram h;
  h.add(v);
  const Range r = mse_range(h, 16);
  EXPECT_NEAR(r.max, 5.03, 0.5);
  EXPECT_NEAR(r.min, -5.03, 0.5);
  EXPECT_LT(quantization_mse(h, r, 16), 0.5 * quantization_mse(h, minmax_range(h), 16));
  EXPECT_LE(quantization_mse(h, r, 16), quantization_mse(h, percentile_range(h, 99.99), 16));
  // With 256 levels, two far outliers among 200000 Gaussian values cost less kept than
  // clipped: the MSE range keeps most of them (unlike percentile).
  auto g = gaussian_with_outliers();
  EXPECT_GT(mse_range(g, 256).max, 10.f);
}

TEST(Observers, KlChoosesAThresholdInsideTheRange) {
  auto h = gaussian_with_outliers();
  const Range r = kl_range(h, 256);
  EXPECT_GT(r.max, 2.f);
  EXPECT_LT(r.max, 15.f);
  EXPECT_FLOAT_EQ(r.min, -r.max);
  // Uniform data has nothing to clip: the threshold is (close to) the maximum.
  std::vector<float> u(100000);
  for (size_t i = 0; i < u.size(); ++i) u[i] = static_cast<float>(i) / u.size();
  Histogram hu;
  hu.add(u);
  EXPECT_GT(kl_range(hu, 256).max, 0.95f);
}

TEST(Observers, MethodNames) {
  EXPECT_EQ(*parse_method("mse"), Method::kMse);
  EXPECT_EQ(*parse_method("entropy"), Method::kKl);
  EXPECT_FALSE(parse_method("best").ok());
}

}  // namespace
}  // namespace qdet::quant
