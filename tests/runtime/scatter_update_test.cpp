// TensorFlow's tensor_scatter_nd_update as TFLite holds it, ADD(MUL(x, K), SCATTER_ND(indices,
// updates, shape)), runs as one pass at plan time (scatter_update.h): the same bytes as the
// unfused ops (keep_intermediates turns fusion off; MUL and ADD then run on XNNPACK), with NaN,
// infinities, -0 and subnormals in x and in the updates, element and row updates, 1 and 2
// threads; likewise with a zero PAD of the updates in place of the SCATTER_ND; with a position
// updated twice, a temporary read elsewhere or a PAD of another value it is left alone. The
// constant mask chain before it (BROADCAST_TO -> SCATTER_ND -> SUB of constants) is folded.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "graph_builder.h"

namespace qdet::rt::testing {
namespace {

using graph::OpKind;

constexpr int32_t kRows = 40, kCols = 6;

struct Pattern {
  std::shared_ptr<const graph::Graph> graph;
  std::vector<std::vector<uint8_t>> inputs;
  size_t add_op = 0;
};

std::vector<uint8_t> bytes_of(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(float));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// x [1, kRows, kCols] and updates -> ADD(MUL(x, K), SCATTER_ND(indices, updates, [1, kRows, kCols])).
// `row_updates`: indices [n, 2] replace whole rows, else [n, 3] single elements (YOLOX's decode).
// K is 1 - mask as the converter computes it, from constants (folded) when `mask_chain`, else a
// constant of arbitrary values. `duplicate`: one position twice. `extra_reader`: the scatter's
// output is a graph output too.
Pattern pattern(bool row_updates, bool mask_chain, bool duplicate = false, bool extra_reader = false) {
  std::mt19937 rng(5);
  std::vector<int32_t> indices;
  std::vector<int32_t> rows;
  for (int32_t r = 1; r < kRows; r += 3) rows.push_back(r);
  if (duplicate) rows.push_back(rows.front());
  const int32_t n = static_cast<int32_t>(rows.size());
  for (int32_t r : rows) {
    if (row_updates) {
      indices.insert(indices.end(), {0, r});
    } else {
      indices.insert(indices.end(), {0, r, 1});
      indices.insert(indices.end(), {0, r, 4});
    }
  }
  const int32_t slices = row_updates ? n : 2 * n;
  const Shape update_shape = row_updates ? Shape{n, kCols} : Shape{slices};
  const int64_t update_count = num_elements(update_shape);

  GraphBuilder b;
  const int32_t x = b.input(DType::kFloat32, {1, kRows, kCols});
  const int32_t updates = b.input(DType::kFloat32, update_shape);
  const int32_t idx = b.constant(DType::kInt32, {slices, row_updates ? 2 : 3}, indices);
  const int32_t shape = b.ints({1, kRows, kCols});
  int32_t k;
  if (mask_chain) {
    const int32_t one = b.constant(DType::kFloat32, {}, std::vector<float>{1.0f});
    const int32_t ones = b.tensor(DType::kFloat32, update_shape);
    std::vector<int32_t> dims(update_shape.begin(), update_shape.end());
    b.op(OpKind::kBroadcastTo, {one, b.ints(dims)}, {ones});
    const int32_t mask = b.tensor(DType::kFloat32, {1, kRows, kCols});
    b.op(OpKind::kScatterNd, {idx, ones, shape}, {mask});
    k = b.tensor(DType::kFloat32, {1, kRows, kCols});
    b.op(OpKind::kSub, {one, mask}, {k});
  } else {
    std::vector<float> values(kRows * kCols);
    for (auto& v : values) v = std::uniform_real_distribution<float>(-2.0f, 2.0f)(rng);
    values[7] = 0.0f;
    values[8] = -0.0f;
    k = b.constant(DType::kFloat32, {1, kRows, kCols}, values);
  }
  const int32_t kept = b.tensor(DType::kFloat32, {1, kRows, kCols});
  b.op(OpKind::kMul, {x, k}, {kept});
  const int32_t scattered = b.tensor(DType::kFloat32, {1, kRows, kCols});
  b.op(OpKind::kScatterNd, {idx, updates, shape}, {scattered});
  const int32_t y = b.tensor(DType::kFloat32, {1, kRows, kCols});
  b.op(OpKind::kAdd, {kept, scattered}, {y});
  b.output(y);
  if (extra_reader) b.output(scattered);

  constexpr float kInf = std::numeric_limits<float>::infinity(), kNan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> xv(kRows * kCols);
  for (auto& v : xv) v = std::uniform_real_distribution<float>(-100.0f, 100.0f)(rng);
  const float specials[] = {kNan, kInf, -kInf, -0.0f, 0.0f, 1e-40f, -1e-40f, 3e38f};
  for (size_t i = 0; i < std::size(specials); ++i) {
    xv[i * 5] = specials[i];              // some where updates land, some where they do not
    xv[i * 5 + kCols + 1] = specials[i];
  }
  std::vector<float> uv(static_cast<size_t>(update_count));
  for (auto& v : uv) v = std::uniform_real_distribution<float>(-10.0f, 10.0f)(rng);
  for (size_t i = 0; i < std::size(specials) && i < uv.size(); ++i) uv[i] = specials[i];
  Pattern p;
  p.graph = b.shared();
  p.inputs = {bytes_of(xv), bytes_of(uv)};
  p.add_op = p.graph->ops.size() - 1;
  return p;
}

void expect_same_bytes(const Pattern& p, bool fused) {
  for (int threads : {1, 2}) {
    SCOPED_TRACE(threads);
    auto a = run_graph(p.graph, p.inputs, InterpreterOptions{.num_threads = threads});
    auto e = run_graph(p.graph, p.inputs, InterpreterOptions{.num_threads = threads, .keep_intermediates = true});
    ASSERT_TRUE(a.ok()) << a.status().message();
    ASSERT_TRUE(e.ok()) << e.status().message();
    EXPECT_STREQ((*a)->kernel_name(p.add_op), fused ? "scatter-update" : "xnnpack");
    EXPECT_STREQ((*e)->kernel_name(p.add_op), "xnnpack");
    const TensorRef& got = (*a)->output(0);
    const TensorRef& want = (*e)->output(0);
    ASSERT_EQ(got.shape, want.shape);
    EXPECT_EQ(0, std::memcmp(got.data, want.data, want.byte_size()));
    for (int64_t i = 0; i < want.num_elements(); ++i) {
      uint32_t g, w;
      std::memcpy(&g, got.data + 4 * i, 4);
      std::memcpy(&w, want.data + 4 * i, 4);
      if (g != w) ADD_FAILURE() << "element " << i << " fused " << std::hex << g << " unfused " << w;
    }
  }
}

// The same with the scatter written as a zero PAD of updates [1, kRows, 2] into columns 3 and 4
// (as qdet's quantizer writes a contiguous box), PAD or PADV2 with `value`.
Pattern padded(OpKind kind = OpKind::kPad, float value = 0.0f) {
  std::mt19937 rng(6);
  GraphBuilder b;
  const int32_t x = b.input(DType::kFloat32, {1, kRows, kCols});
  const int32_t updates = b.input(DType::kFloat32, {1, kRows, 2});
  std::vector<float> values(kRows * kCols);
  for (auto& v : values) v = std::uniform_real_distribution<float>(-2.0f, 2.0f)(rng);
  const int32_t k = b.constant(DType::kFloat32, {1, kRows, kCols}, values);
  const int32_t kept = b.tensor(DType::kFloat32, {1, kRows, kCols});
  b.op(OpKind::kMul, {k, x}, {kept});
  const int32_t placed = b.tensor(DType::kFloat32, {1, kRows, kCols});
  const int32_t paddings = b.constant(DType::kInt32, {3, 2}, std::vector<int32_t>{0, 0, 0, 0, 3, kCols - 5});
  if (kind == OpKind::kPadV2)
    b.op(kind, {updates, paddings, b.constant(DType::kFloat32, {}, std::vector<float>{value})}, {placed});
  else
    b.op(kind, {updates, paddings}, {placed});
  const int32_t y = b.tensor(DType::kFloat32, {1, kRows, kCols});
  b.op(OpKind::kAdd, {placed, kept}, {y});
  b.output(y);
  constexpr float kInf = std::numeric_limits<float>::infinity(), kNan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> xv(kRows * kCols), uv(kRows * 2);
  for (auto& v : xv) v = std::uniform_real_distribution<float>(-100.0f, 100.0f)(rng);
  for (auto& v : uv) v = std::uniform_real_distribution<float>(-10.0f, 10.0f)(rng);
  const float specials[] = {kNan, kInf, -kInf, -0.0f, 0.0f, 1e-40f, -1e-40f, 3e38f};
  for (size_t i = 0; i < std::size(specials); ++i) {
    xv[i * kCols + 3] = specials[i];
    xv[i * 7] = specials[i];
    uv[2 * i + 1] = specials[i];
  }
  Pattern p;
  p.graph = b.shared();
  p.inputs = {bytes_of(xv), bytes_of(uv)};
  p.add_op = p.graph->ops.size() - 1;
  return p;
}

TEST(ScatterUpdate, ZeroPadOfTheUpdatesGivesTheUnfusedBytes) {
  expect_same_bytes(padded(), true);
  expect_same_bytes(padded(OpKind::kPadV2, 0.0f), true);
}
TEST(ScatterUpdate, PadWithAnotherValueIsLeftAlone) {
  expect_same_bytes(padded(OpKind::kPadV2, -0.0f), false);
  expect_same_bytes(padded(OpKind::kPadV2, 1.0f), false);
}

TEST(ScatterUpdate, ElementUpdatesGiveTheUnfusedBytes) { expect_same_bytes(pattern(false, true), true); }
TEST(ScatterUpdate, RowUpdatesGiveTheUnfusedBytes) { expect_same_bytes(pattern(true, true), true); }
TEST(ScatterUpdate, AnyConstantFactorGivesTheUnfusedBytes) { expect_same_bytes(pattern(false, false), true); }
TEST(ScatterUpdate, PositionUpdatedTwiceIsLeftAlone) { expect_same_bytes(pattern(false, true, true), false); }
TEST(ScatterUpdate, ScatterReadElsewhereIsLeftAlone) { expect_same_bytes(pattern(true, false, false, true), false); }

// BROADCAST_TO, SCATTER_ND and SUB of constants run once, at plan time.
TEST(ScatterUpdate, TheConstantMaskChainIsFolded) {
  const Pattern p = pattern(false, true);
  auto a = run_graph(p.graph, p.inputs, InterpreterOptions{});
  ASSERT_TRUE(a.ok()) << a.status().message();
  for (size_t i = 0; i < 3; ++i) EXPECT_STREQ((*a)->kernel_name(i), "folded") << i;
}

}  // namespace
}  // namespace qdet::rt::testing
