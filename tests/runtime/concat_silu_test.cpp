// A float CONCATENATION on the last axis takes in the one-pass SiLUs (and SiLU + residual ADDs)
// that only it reads (concat_silu.h): the same bytes as the SiLU ops writing their outputs and
// the concatenation copying them (the same graph with those outputs also graph outputs, which
// keeps the fusion off), with specials (NaN, infinities, -0, subnormals), parts of 16, 5 and 3
// channels, 1 and 2 threads, more rows than one chunk.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "graph_builder.h"

namespace qdet::rt::testing {
namespace {

using graph::OpKind;

const Shape kOuter = {1, 37, 41};  // 1517 rows: several 16 KiB chunks for the wide part

Shape with_channels(int32_t c) { return {kOuter[0], kOuter[1], kOuter[2], c}; }

// concat(silu(a) [16 ch], silu(b) + r [5 ch], z [3 ch]); `keep_parts`: the SiLU and the ADD
// outputs are graph outputs too.
std::shared_ptr<const graph::Graph> csp(bool keep_parts) {
  GraphBuilder b;
  const int32_t a = b.input(DType::kFloat32, with_channels(16));
  const int32_t bb = b.input(DType::kFloat32, with_channels(5));
  const int32_t r = b.input(DType::kFloat32, with_channels(5));
  const int32_t z = b.input(DType::kFloat32, with_channels(3));
  auto silu = [&](int32_t x, int32_t c) {
    const int32_t s = b.tensor(DType::kFloat32, with_channels(c));
    b.op(OpKind::kLogistic, {x}, {s});
    const int32_t y = b.tensor(DType::kFloat32, with_channels(c));
    b.op(OpKind::kMul, {x, s}, {y});
    return y;
  };
  const int32_t y1 = silu(a, 16);
  const int32_t y2 = silu(bb, 5);
  const int32_t y2r = b.tensor(DType::kFloat32, with_channels(5));
  b.op(OpKind::kAdd, {y2, r}, {y2r});
  const int32_t out = b.tensor(DType::kFloat32, with_channels(24));
  graph::OpAttrs axis;
  axis.axis = 3;
  b.op(OpKind::kConcatenation, {y1, y2r, z}, {out}, axis);
  b.output(out);
  if (keep_parts) {
    b.output(y1);
    b.output(y2r);
  }
  return b.shared();
}

std::vector<uint8_t> random_floats_with_specials(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = std::uniform_real_distribution<float>(-12.0f, 12.0f)(rng);
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(), INFINITY, -INFINITY, 0.0f, -0.0f, 1e-40f,
                            -3e-39f, 1e30f, -100.0f};
  for (size_t i = 0; i < std::size(specials); ++i) v[i * 7 + seed % 5] = specials[i];
  std::vector<uint8_t> bytes(n * sizeof(float));
  std::memcpy(bytes.data(), v.data(), bytes.size());
  return bytes;
}

TEST(ConcatSilu, TakesTheSilusInWithTheSameBytes) {
  const size_t rows = static_cast<size_t>(num_elements(kOuter));
  const std::vector<std::vector<uint8_t>> inputs = {
      random_floats_with_specials(rows * 16, 1), random_floats_with_specials(rows * 5, 2),
      random_floats_with_specials(rows * 5, 3), random_floats_with_specials(rows * 3, 4)};
  for (int threads : {1, 2}) {
    SCOPED_TRACE(threads);
    auto fused = run_graph(csp(false), inputs, InterpreterOptions{.num_threads = threads});
    auto plain = run_graph(csp(true), inputs, InterpreterOptions{.num_threads = threads});
    ASSERT_TRUE(fused.ok()) << fused.status().message();
    ASSERT_TRUE(plain.ok()) << plain.status().message();
    const size_t concat = 5;
    EXPECT_STREQ((*fused)->kernel_name(concat), "concat-silu");
    EXPECT_STREQ((*fused)->kernel_name(1), "fused");  // silu(a): taken in
    EXPECT_STREQ((*fused)->kernel_name(4), "fused");  // silu(b) + r: taken in
    EXPECT_STRNE((*plain)->kernel_name(concat), "concat-silu");
    EXPECT_STREQ((*plain)->kernel_name(1), "silu");
    EXPECT_STREQ((*plain)->kernel_name(4), "silu-add");
    const TensorRef& got = (*fused)->output(0);
    const TensorRef& want = (*plain)->output(0);
    ASSERT_EQ(got.shape, want.shape);
    EXPECT_EQ(0, std::memcmp(got.data, want.data, want.byte_size()));
  }
}

}  // namespace
}  // namespace qdet::rt::testing
