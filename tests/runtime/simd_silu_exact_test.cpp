// qdet's one-pass float SiLU with XNNPACK's arithmetic (simd::kSiluExact) against XNNPACK's own
// sigmoid and multiply operators run one after the other: the same bytes on values across the
// whole float range (every exponent and both signs, zeros, subnormals, infinities, NaN), and the
// interpreter's check (xnn::silu_matches) agrees. The same for the variant whose division is
// RCP14, a Newton step and an FMA correction (the float convolution's SiLU epilogue), and that
// division equals VDIVPS on every float in [+0, 2]. Skipped (with the reason) without AVX-512.
#include <gtest/gtest.h>
#include <xnnpack.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "runtime/kernels/simd/kernels.h"
#include "runtime/kernels/simd/silu_exact.h"
#include "runtime/kernels/xnnpack/kernels.h"

namespace qdet::rt {
namespace {

// XNNPACK's pair on `x` (its threads run with denormals off; so does a null pool).
std::vector<float> xnnpack_silu(const std::vector<float>& x) {
  EXPECT_EQ(xnn_initialize(nullptr), xnn_status_success);
  const size_t n = x.size();
  std::vector<float> sigmoid(n + 16), out(n + 16), in(x);
  in.resize(n + 16);
  xnn_operator_t s = nullptr, m = nullptr;
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(xnn_create_sigmoid_nc_f32(1, 1, 1, 0, &s), xnn_status_success);
  EXPECT_EQ(xnn_create_multiply_nd_f32(-inf, inf, 0, &m), xnn_status_success);
  EXPECT_EQ(xnn_setup_sigmoid_nc_f32(s, n, in.data(), sigmoid.data(), nullptr), xnn_status_success);
  EXPECT_EQ(xnn_run_operator(s, nullptr), xnn_status_success);
  const size_t shape[1] = {n};
  EXPECT_EQ(xnn_setup_multiply_nd_f32(m, 1, shape, 1, shape, in.data(), sigmoid.data(), out.data(), nullptr),
            xnn_status_success);
  EXPECT_EQ(xnn_run_operator(m, nullptr), xnn_status_success);
  xnn_delete_operator(s);
  xnn_delete_operator(m);
  out.resize(n);
  return out;
}

void expect_xnnpacks_bytes_across_the_float_range(void (*silu)(const float*, float*, size_t)) {
  std::vector<float> x;
  for (uint64_t bits = 0; bits < (uint64_t{1} << 32); bits += 4099) {
    const uint32_t b = static_cast<uint32_t>(bits);
    float v;
    std::memcpy(&v, &b, sizeof v);
    x.push_back(v);
  }
  for (float v : {0.0f, -0.0f, 1.0f, -1.0f, 87.0f, -87.0f, -88.0f, -104.0f, 1e-40f, -1e-40f,
                  std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                  std::numeric_limits<float>::quiet_NaN()})
    x.push_back(v);
  for (int i = 0; i < 100000; ++i) x.push_back(-20.0f + 40.0f * static_cast<float>(i) / 100000.0f);
  const std::vector<float> expected = xnnpack_silu(x);
  std::vector<float> got(x.size());
  silu(x.data(), got.data(), x.size());
  int shown = 0;
  size_t differing = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::memcmp(&got[i], &expected[i], sizeof(float)) == 0) continue;
    ++differing;
    if (shown++ < 10)
      ADD_FAILURE() << "x = " << x[i] << " (" << std::hexfloat << x[i] << "): one pass " << got[i] << ", XNNPACK "
                    << expected[i] << std::defaultfloat;
  }
  EXPECT_EQ(differing, 0u) << "of " << x.size();
  EXPECT_TRUE(xnn::silu_matches(silu));
}

TEST(SimdSiluExact, ExpTableIsTwoToTheKOver32RoundedToFloat) {
  for (int k = 0; k < 32; ++k) EXPECT_EQ(simd::kSiluExp2Table[k], static_cast<float>(std::exp2(k / 32.0))) << k;
}

TEST(SimdSiluExact, GivesXnnpacksBytesAcrossTheFloatRange) {
  if (!simd::silu_exact_available()) GTEST_SKIP() << "this CPU has no AVX-512";
  expect_xnnpacks_bytes_across_the_float_range(simd::silu_exact);
}

TEST(SimdSiluExact, NewtonDivisionGivesXnnpacksBytesAcrossTheFloatRange) {
  if (!simd::silu_exact_available()) GTEST_SKIP() << "this CPU has no AVX-512";
  expect_xnnpacks_bytes_across_the_float_range(simd::silu_exact_newton);
}

// The sigmoid divides e by e + 1 with e in [+0, 1]: every float from +0 to 2 (2^30 + 1 values),
// a million at a time, gives VDIVPS's bits.
TEST(SimdSiluExact, NewtonDivisionEqualsVdivpsFromZeroToTwo) {
  if (!simd::silu_exact_available()) GTEST_SKIP() << "this CPU has no AVX-512";
  const float two = 2.0f;
  uint32_t end = 0;
  std::memcpy(&end, &two, sizeof end);
  constexpr uint32_t kChunk = 1u << 20;
  std::vector<float> e(kChunk), divided(kChunk), newton(kChunk);
  size_t differing = 0;
  for (uint64_t first = 0; first <= end; first += kChunk) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, uint64_t{end} + 1 - first));
    for (size_t i = 0; i < n; ++i) {
      const uint32_t b = static_cast<uint32_t>(first + i);
      std::memcpy(&e[i], &b, sizeof b);
    }
    simd::quotients_over_one_plus(e.data(), divided.data(), n, /*newton=*/false);
    simd::quotients_over_one_plus(e.data(), newton.data(), n, /*newton=*/true);
    for (size_t i = 0; i < n; ++i)
      if (std::memcmp(&divided[i], &newton[i], sizeof(float)) != 0 && differing++ < 10)
        ADD_FAILURE() << "e = " << std::hexfloat << e[i] << ": VDIVPS " << divided[i] << ", Newton " << newton[i];
  }
  EXPECT_EQ(differing, 0u);
}

}  // namespace
}  // namespace qdet::rt
