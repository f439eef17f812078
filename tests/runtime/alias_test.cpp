// RESHAPE, SQUEEZE and EXPAND_DIMS become views of their input's memory (interpreter.cpp
// alias_reshapes): the op shows as "alias", and the input's memory stays reserved until the
// view's last reader, so buffers made in between do not overwrite it. Checked against the same
// graph with intermediates kept (no views) on values that would differ if it were overwritten.
#include <gtest/gtest.h>

#include "graph_builder.h"

namespace qdet::rt::testing {
namespace {

using graph::OpKind;

TEST(ReshapeViews, TheSourceMemoryLivesUntilTheViewsLastReader) {
  GraphBuilder b;
  const int32_t x = b.input(DType::kFloat32, {1, 4, 6});
  const int32_t one = b.constant(DType::kFloat32, {1}, std::vector<float>{1.0f});
  const int32_t three = b.constant(DType::kFloat32, {1}, std::vector<float>{3.0f});
  const int32_t a = b.tensor(DType::kFloat32, {1, 4, 6});
  b.op(OpKind::kAdd, {x, one}, {a});  // a = x + 1
  const int32_t r = b.tensor(DType::kFloat32, {4, 6});
  b.op(OpKind::kReshape, {a, b.ints({4, 6})}, {r});  // r: a view of a
  const int32_t e = b.tensor(DType::kFloat32, {1, 4, 6, 1});
  b.op(OpKind::kExpandDims, {a, b.ints({3})}, {e});  // e: another view of a
  // Buffers made after the views: the planner may not give them a's memory.
  const int32_t m = b.tensor(DType::kFloat32, {1, 4, 6});
  b.op(OpKind::kMul, {x, three}, {m});
  const int32_t m2 = b.tensor(DType::kFloat32, {1, 4, 6});
  b.op(OpKind::kAdd, {m, three}, {m2});
  const int32_t mr = b.tensor(DType::kFloat32, {4, 6});
  b.op(OpKind::kReshape, {m2, b.ints({4, 6})}, {mr});
  const int32_t out = b.tensor(DType::kFloat32, {4, 6});
  b.op(OpKind::kMul, {r, mr}, {out});  // (x + 1) * (3x + 3)
  const int32_t es = b.tensor(DType::kFloat32, {1, 4, 6});
  graph::OpAttrs squeeze;
  squeeze.squeeze_dims = {3};
  b.op(OpKind::kSqueeze, {e}, {es}, squeeze);
  const int32_t out2 = b.tensor(DType::kFloat32, {1, 4, 6});
  b.op(OpKind::kAdd, {es, m}, {out2});  // (x + 1) + 3x
  b.output(out);
  b.output(out2);
  auto g = b.shared();
  std::vector<float> in(24);
  for (size_t i = 0; i < in.size(); ++i) in[i] = 0.25f * static_cast<float>(i) - 2.0f;
  auto views = run_graph(g, {to_bytes(in)}, InterpreterOptions{});
  auto copies = run_graph(g, {to_bytes(in)}, InterpreterOptions{.keep_intermediates = true});
  ASSERT_TRUE(views.ok()) << views.status().message();
  ASSERT_TRUE(copies.ok()) << copies.status().message();
  EXPECT_STREQ((*views)->kernel_name(1), "alias");
  EXPECT_STREQ((*views)->kernel_name(2), "alias");
  EXPECT_STRNE((*copies)->kernel_name(1), "alias");
  for (int o = 0; o < 2; ++o) {
    const auto got = values_of<float>((*views)->output(o));
    EXPECT_EQ(got, values_of<float>((*copies)->output(o))) << "output " << o;
    for (size_t i = 0; i < in.size(); ++i) {
      const float want = o == 0 ? (in[i] + 1) * (3 * in[i] + 3) : (in[i] + 1) + 3 * in[i];
      EXPECT_FLOAT_EQ(got[i], want) << "output " << o << " element " << i;
    }
  }
}

}  // namespace
}  // namespace qdet::rt::testing
