#include "graph/graph.h"

#include <gtest/gtest.h>

namespace qdet::graph {
namespace {

Graph two_op_graph() {
  Graph g;
  Tensor in{.name = "in", .dtype = DType::kFloat32, .shape = {1, 4}};
  Tensor mid{.name = "mid", .dtype = DType::kFloat32, .shape = {1, 4}};
  Tensor out{.name = "out", .dtype = DType::kFloat32, .shape = {1, 4}};
  g.add_tensor(in);
  g.add_tensor(mid);
  g.add_tensor(out);
  g.inputs = {0};
  g.outputs = {2};
  g.ops.push_back(Op{.kind = OpKind::kLogistic, .inputs = {0}, .outputs = {1}});
  g.ops.push_back(Op{.kind = OpKind::kExp, .inputs = {1}, .outputs = {2}});
  return g;
}

TEST(OpTable, NamesAndBuiltinCodes) {
  EXPECT_STREQ(op_name(OpKind::kConv2d), "CONV_2D");
  EXPECT_EQ(op_tflite_builtin(OpKind::kConv2d), 3);
  EXPECT_EQ(op_from_tflite_builtin(122), OpKind::kScatterNd);
  EXPECT_EQ(op_from_tflite_builtin(130), OpKind::kBroadcastTo);
  EXPECT_EQ(op_from_custom_code("TFLite_Detection_PostProcess"), OpKind::kDetectionPostProcess);
  EXPECT_FALSE(op_from_tflite_builtin(32).has_value());
  EXPECT_FALSE(op_from_tflite_builtin(9999).has_value());
}

TEST(Graph, VerifyAcceptsValidGraph) { EXPECT_TRUE(two_op_graph().verify().ok()); }

TEST(Graph, VerifyRejectsOutOfOrderOps) {
  Graph g = two_op_graph();
  std::swap(g.ops[0], g.ops[1]);
  Status s = g.verify();
  EXPECT_EQ(s.message(), "op 0 (EXP) reads tensor 1 ('mid') before it is produced");
}

TEST(Graph, VerifyRejectsBadIndexAndSizes) {
  Graph g = two_op_graph();
  g.ops[1].inputs = {7};
  EXPECT_EQ(g.verify().message(), "op 1 (EXP) input refers to tensor 7 of 3");
  g = two_op_graph();
  g.tensors[1].data = {1, 2, 3};
  g.ops.erase(g.ops.begin());
  EXPECT_EQ(g.verify().message(), "tensor 1 ('mid'): 3 bytes of data for shape [1,4] of float32");
}

}  // namespace
}  // namespace qdet::graph
