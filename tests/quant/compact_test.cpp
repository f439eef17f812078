// Compaction (modes.h): constant-index SCATTER_ND as PAD and exactly-float16 tables, on small
// hand-built graphs; outputs before and after are compared bit for bit in qdet's interpreter.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "graph_builder.h"
#include "quant/graph_edit.h"
#include "quant/modes.h"
#include "runtime/interpreter.h"

namespace qdet::quant {
namespace {

using graph::OpKind;
using testing::count_ops;
using testing::find_op;
using testing::GraphBuilder;
using testing::int32_data;

std::vector<float> run(const graph::Model& m, const std::vector<float>& input) {
  auto g = std::make_shared<const graph::Graph>(m.graph);
  auto interp = rt::Interpreter::create(g);
  EXPECT_TRUE(interp.ok()) << interp.status().message();
  if (!interp.ok()) return {};
  auto& in = (*interp)->input(0);
  EXPECT_EQ(in.byte_size(), input.size() * 4);
  std::memcpy(in.data, input.data(), in.byte_size());
  EXPECT_TRUE((*interp)->invoke().ok());
  const auto& out = (*interp)->output(0);
  std::vector<float> v(static_cast<size_t>(out.num_elements()));
  std::memcpy(v.data(), out.data, v.size() * 4);
  return v;
}

std::vector<float> random_values(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-3.f, 3.f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// Indices [1, rows, cols, 3] that write a [1, rows, cols] update to [0, r, col0 + c]: YOLOX's
// decode writing its boxes back into columns col0..col0+cols of [1, rows, 85].
std::vector<int32_t> box_indices(int rows, int cols, int col0) {
  std::vector<int32_t> v;
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) v.insert(v.end(), {0, r, col0 + c});
  return v;
}

// x [1,rows,cols] -> EXP (so the updates are an activation) -> SCATTER_ND into [1,rows,width]
// -> ADD with a second input read alongside: out = scatter(exp(x)) + y.
graph::Model scatter_model(int rows, int cols, int width, const std::vector<int32_t>& indices) {
  GraphBuilder b;
  const int32_t x = b.input("x", {1, rows, cols});
  const int32_t e = b.activation("e", {1, rows, cols});
  b.op(OpKind::kExp, {x}, {e});
  const int32_t idx = b.int_constant("indices", {1, rows, cols, 3}, indices);
  const int32_t shape = b.int_constant("shape", {3}, {1, rows, width});
  const int32_t s = b.activation("scattered", {1, rows, width});
  b.op(OpKind::kScatterNd, {idx, e, shape}, {s});
  b.output(s);
  return b.model();
}

TEST(Compact, ScatterNdWritingADenseBoxBecomesPadWithEqualOutputs) {
  const int rows = 7, cols = 2, width = 9, col0 = 3;
  graph::Model m = scatter_model(rows, cols, width, box_indices(rows, cols, col0));
  const auto input = random_values(rows * cols, 1);
  const auto before = run(m, input);
  Notes notes;
  std::vector<int32_t> map;
  ASSERT_TRUE(scatter_nd_to_pad(m, &notes, &map).ok());
  const auto& g = m.graph;
  EXPECT_EQ(count_ops(g, OpKind::kScatterNd), 0);
  const int pad = find_op(g, OpKind::kPad);
  ASSERT_GE(pad, 0);
  EXPECT_EQ(int32_data(g.tensors[g.ops[pad].inputs[1]]), (std::vector<int32_t>{0, 0, 0, 0, col0, width - col0 - cols}));
  for (const auto& t : g.tensors) EXPECT_NE(t.name, "indices") << "the index table is gone";
  ASSERT_EQ(map.size(), 5u);  // x, e, indices, shape, scattered
  EXPECT_EQ(map[2], -1);
  EXPECT_EQ(map[3], -1);
  for (int t : {0, 1, 4}) {
    ASSERT_GE(map[t], 0);
    EXPECT_EQ(g.tensors[map[t]].name, (std::vector<std::string>{"x", "e", "", "", "scattered"})[t]);
  }
  ASSERT_EQ(notes.info.size(), 1u);
  EXPECT_THAT(notes.info[0], ::testing::HasSubstr("1 SCATTER_ND"));
  const auto after = run(m, input);
  ASSERT_EQ(before.size(), after.size());
  EXPECT_EQ(0, std::memcmp(before.data(), after.data(), before.size() * 4));
}

// Index tables that are not one dense box in order stay SCATTER_ND: two rows swapped, a column
// written twice (SCATTER_ND adds duplicates), every other column, a box that leaves the output.
TEST(Compact, ScatterNdThatIsNotADenseBoxInOrderStays) {
  const int rows = 4, cols = 2, width = 8;
  std::vector<std::vector<int32_t>> cases;
  auto swapped = box_indices(rows, cols, 1);
  std::swap_ranges(swapped.begin(), swapped.begin() + 3, swapped.begin() + 3);
  cases.push_back(swapped);
  auto twice = box_indices(rows, cols, 1);
  twice[5] = 1;  // row 0: columns 1, 1
  cases.push_back(twice);
  std::vector<int32_t> strided;
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) strided.insert(strided.end(), {0, r, 2 * c});
  cases.push_back(strided);
  cases.push_back(box_indices(rows, cols, width - 1));  // the last column and one past it
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    graph::Model m = scatter_model(rows, cols, width, cases[i]);
    Notes notes;
    ASSERT_TRUE(scatter_nd_to_pad(m, &notes, nullptr).ok());
    EXPECT_EQ(count_ops(m.graph, OpKind::kScatterNd), 1);
    EXPECT_EQ(count_ops(m.graph, OpKind::kPad), 0);
    EXPECT_TRUE(notes.info.empty());
  }
}

// out = (x + grid) * scale, concatenated with a table: the grid (small integers) becomes
// float16 + DEQUANTIZE; the scale (0.1 is not a float16 value) and the concatenated table (not
// read by arithmetic) stay float32; outputs are bit-identical.
TEST(Compact, ExactlyFloat16TablesReadByArithmeticBecomeFloat16) {
  const int n = 96;
  GraphBuilder b;
  const int32_t x = b.input("x", {1, n});
  std::vector<float> grid(n), scale(n, 0.1f), table(n);
  for (int i = 0; i < n; ++i) {
    grid[i] = static_cast<float>(i % 13) - 6.f;
    table[i] = static_cast<float>(i);
  }
  const int32_t g_id = b.constant("grid", {1, n}, grid);
  const int32_t s_id = b.constant("scale", {1, n}, scale);
  const int32_t t_id = b.constant("table", {1, n}, table);
  const int32_t a = b.activation("a", {1, n});
  const int32_t m_ = b.activation("m", {1, n});
  const int32_t out = b.activation("out", {1, 2 * n});
  b.op(OpKind::kAdd, {x, g_id}, {a});
  b.op(OpKind::kMul, {a, s_id}, {m_});
  b.op(OpKind::kConcatenation, {m_, t_id}, {out}).attrs.axis = 1;
  b.output(out);
  graph::Model m = b.model();
  const auto input = random_values(n, 2);
  const auto before = run(m, input);
  Notes notes;
  ASSERT_TRUE(exact_fp16_constants(m, &notes, 64, nullptr).ok());
  const auto& g = m.graph;
  EXPECT_EQ(count_ops(g, OpKind::kDequantize), 1);
  for (const auto& t : g.tensors) {
    if (t.name == "grid") EXPECT_EQ(t.dtype, DType::kFloat16);
    if (t.name == "scale" || t.name == "table") EXPECT_EQ(t.dtype, DType::kFloat32) << t.name;
  }
  ASSERT_EQ(notes.info.size(), 1u);
  EXPECT_THAT(notes.info[0], ::testing::HasSubstr("1 float32 tables"));
  const auto after = run(m, input);
  ASSERT_EQ(before.size(), after.size());
  EXPECT_EQ(0, std::memcmp(before.data(), after.data(), before.size() * 4));
  // Tables under the size threshold are left alone.
  graph::Model small = b.model();
  ASSERT_TRUE(exact_fp16_constants(small, nullptr, n + 1, nullptr).ok());
  EXPECT_EQ(count_ops(small.graph, OpKind::kDequantize), 0);
}

}  // namespace
}  // namespace qdet::quant
