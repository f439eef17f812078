// The NCHW head join of ONNX-exported detectors (TRANSPOSE [0,3,1,2] -> RESHAPE [N, C, H*W] ->
// CONCATENATION on axis 2 -> TRANSPOSE [0,2,1], transpose_concat.h) is one copy of each level at
// plan time: the same bytes as the unfused ops (keep_intermediates turns fusion off), float32
// and int8, batches of 2; a chain with an intermediate read elsewhere or another permutation is
// left alone.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "graph_builder.h"

namespace qdet::rt::testing {
namespace {

using graph::OpKind;

struct Level {
  int32_t h, w;
};
constexpr int32_t kBatch = 2, kChannels = 6;
const Level kLevels[] = {{4, 5}, {2, 3}, {1, 1}};

// The join of three levels; `extra_reader`: the concatenation is a graph output too;
// `first_perm`: the levels' transpose.
std::shared_ptr<const graph::Graph> join(DType t, bool extra_reader = false,
                                         std::vector<int32_t> first_perm = {0, 3, 1, 2}) {
  GraphBuilder b;
  const QuantParams q = t == DType::kInt8 ? per_tensor(0.1f, 3) : QuantParams{};
  std::vector<int32_t> flats;
  int32_t rows = 0;
  for (const Level& l : kLevels) {
    const int32_t x = b.input(t, {kBatch, l.h, l.w, kChannels}, q);
    Shape transposed;
    const Shape nhwc = {kBatch, l.h, l.w, kChannels};
    for (int32_t p : first_perm) transposed.push_back(nhwc[p]);
    const int32_t nchw = b.tensor(t, transposed, q);
    b.op(OpKind::kTranspose, {x, b.ints(first_perm)}, {nchw});
    const int32_t flat = b.tensor(t, {kBatch, transposed[1], l.h * l.w * kChannels / transposed[1]}, q);
    b.op(OpKind::kReshape, {nchw, b.ints({kBatch, transposed[1], -1})}, {flat});
    flats.push_back(flat);
    rows += l.h * l.w;
  }
  const int32_t c = b.tensor(t, {kBatch, kChannels, rows}, q);
  graph::OpAttrs a;
  a.axis = 2;
  b.op(OpKind::kConcatenation, flats, {c}, a);
  const int32_t y = b.tensor(t, {kBatch, rows, kChannels}, q);
  b.op(OpKind::kTranspose, {c, b.ints({0, 2, 1})}, {y});
  b.output(y);
  if (extra_reader) b.output(c);
  return b.shared();
}

void expect_same_bytes(const std::shared_ptr<const graph::Graph>& g, DType t, bool fused) {
  std::mt19937 rng(3);
  std::vector<std::vector<uint8_t>> inputs;
  for (const Level& l : kLevels) {
    std::vector<uint8_t> v(static_cast<size_t>(kBatch * l.h * l.w * kChannels) * dtype_size(t));
    for (auto& x : v) x = static_cast<uint8_t>(rng());
    inputs.push_back(std::move(v));
  }
  auto a = run_graph(g, inputs, InterpreterOptions{});
  auto e = run_graph(g, inputs, InterpreterOptions{.keep_intermediates = true});
  ASSERT_TRUE(a.ok()) << a.status().message();
  ASSERT_TRUE(e.ok()) << e.status().message();
  const size_t last = g->ops.size() - 1;
  if (fused) {
    for (size_t i = 0; i < last; ++i) EXPECT_STREQ((*a)->kernel_name(i), "fused") << i;
  } else {
    EXPECT_STRNE((*a)->kernel_name(last - 1), "fused");
  }
  const TensorRef& got = (*a)->output(0);
  const TensorRef& want = (*e)->output(0);
  ASSERT_EQ(got.shape, want.shape);
  EXPECT_EQ(0, std::memcmp(got.data, want.data, want.byte_size()));
}

TEST(TransposeConcat, HeadJoinIsOneCopyWithTheSameBytes) {
  expect_same_bytes(join(DType::kFloat32), DType::kFloat32, true);
  expect_same_bytes(join(DType::kInt8), DType::kInt8, true);
}

TEST(TransposeConcat, ConcatenationReadElsewhereIsLeftAlone) {
  expect_same_bytes(join(DType::kFloat32, true), DType::kFloat32, false);
}

TEST(TransposeConcat, AnotherPermutationIsLeftAlone) {
  expect_same_bytes(join(DType::kFloat32, false, {0, 3, 2, 1}), DType::kFloat32, false);
}

}  // namespace
}  // namespace qdet::rt::testing
