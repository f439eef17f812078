#include "graph/stats.h"

#include <gtest/gtest.h>

namespace qdet::graph {
namespace {

int32_t add(Graph& g, DType dtype, Shape shape, bool constant = false) {
  Tensor t{.dtype = dtype, .shape = shape};
  if (constant) t.data.assign(static_cast<size_t>(num_elements(shape)) * dtype_size(dtype), 0);
  return g.add_tensor(t);
}

TEST(GraphStats, MacsOfEachCountedOp) {
  Graph g;
  const int32_t in = add(g, DType::kFloat32, {1, 8, 8, 3});
  const int32_t w = add(g, DType::kFloat32, {16, 3, 3, 3}, true);
  const int32_t b = add(g, DType::kFloat32, {16}, true);
  const int32_t c = add(g, DType::kFloat32, {1, 4, 4, 16});
  g.ops.push_back({.kind = OpKind::kConv2d, .inputs = {in, w, b}, .outputs = {c}});
  EXPECT_EQ(op_macs(g, g.ops[0]), 4 * 4 * 16 * 3 * 3 * 3);

  const int32_t dw = add(g, DType::kFloat32, {1, 3, 3, 16}, true);
  const int32_t d = add(g, DType::kFloat32, {1, 4, 4, 16});
  g.ops.push_back({.kind = OpKind::kDepthwiseConv2d, .inputs = {c, dw, -1}, .outputs = {d}});
  EXPECT_EQ(op_macs(g, g.ops[1]), 4 * 4 * 16 * 3 * 3);

  const int32_t r = add(g, DType::kFloat32, {1, 256});
  const int32_t fw = add(g, DType::kInt8, {10, 256}, true);  // hybrid: int8 weights, float input
  const int32_t f = add(g, DType::kFloat32, {1, 10});
  g.ops.push_back({.kind = OpKind::kReshape, .inputs = {d}, .outputs = {r}});
  g.ops.push_back({.kind = OpKind::kFullyConnected, .inputs = {r, fw, -1}, .outputs = {f}});
  EXPECT_EQ(op_macs(g, g.ops[3]), 10 * 256);

  const int32_t os = add(g, DType::kInt32, {4}, true);
  const int32_t tw = add(g, DType::kFloat32, {8, 2, 2, 16}, true);
  const int32_t t = add(g, DType::kFloat32, {1, 8, 8, 8});
  g.ops.push_back({.kind = OpKind::kTransposeConv, .inputs = {os, tw, d}, .outputs = {t}});
  EXPECT_EQ(op_macs(g, g.ops[4]), 4 * 4 * 16 * 8 * 2 * 2);

  GraphStats s = compute_stats(g);
  EXPECT_EQ(s.total_macs, 6912 + 2304 + 2560 + 8192);
  EXPECT_EQ(s.macs[DType::kFloat32], 6912 + 2304 + 8192);
  EXPECT_EQ(s.macs[DType::kInt8], 2560);
  EXPECT_EQ(s.parameters, 432 + 16 + 144 + 2560 + 4 + 512);
  EXPECT_EQ(s.constant_bytes[DType::kInt8], 2560);
  EXPECT_EQ(s.constant_bytes[DType::kInt32], 16);
  EXPECT_EQ(s.constant_bytes[DType::kFloat32], 4 * (432 + 16 + 144 + 512));
  EXPECT_EQ(s.op_counts["CONV_2D"], 1);
  EXPECT_EQ(s.op_counts["RESHAPE"], 1);
  EXPECT_EQ(s.ops_without_macs, 0);
}

TEST(GraphStats, MissingShapesAreCountedNotGuessed) {
  Graph g;
  const int32_t in = add(g, DType::kFloat32, {1, 8, 8, 3});
  const int32_t w = add(g, DType::kFloat32, {16, 3, 3, 3}, true);
  const int32_t out = add(g, DType::kFloat32, {});
  g.ops.push_back({.kind = OpKind::kConv2d, .inputs = {in, w, -1}, .outputs = {out}});
  GraphStats s = compute_stats(g);
  EXPECT_EQ(s.total_macs, 0);
  EXPECT_EQ(s.ops_without_macs, 1);
}

}  // namespace
}  // namespace qdet::graph
