// Quantized SiLU fused into one table lookup (lut_fusion.h): exact by construction, checked
// against the unfused pair (keep_intermediates turns fusion off) on small graphs, with both
// kernel families, and on the TFLite converter's yolov5n-int8.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <set>

#include "base/paths.h"
#include "graph_builder.h"
#include "runtime/kernel_registry.h"
#include "runtime/lut_fusion.h"
#include "test_support.h"
#include "tflite/reader.h"

namespace qdet::rt {
namespace {

using graph::OpKind;
using namespace testing;  // graph_builder.h: GraphBuilder, run_graph, to_bytes, values_of, per_tensor, F32

TEST(ByteTable, AppliesToEveryLengthAndValue) {
  ByteTable table;
  std::mt19937 rng(3);
  for (auto& v : table) v = static_cast<uint8_t>(rng());
  for (size_t n : {0u, 1u, 63u, 64u, 65u, 1000u, 4096u + 37u}) {
    std::vector<uint8_t> in(n), out(n, 0), want(n);
    for (size_t i = 0; i < n; ++i) in[i] = static_cast<uint8_t>(i * 7 + (i >> 8));
    for (size_t i = 0; i < n; ++i) want[i] = table[in[i]];
    apply_byte_table(table, in.data(), out.data(), n);
    EXPECT_EQ(out, want) << n;
  }
}

// x -> LOGISTIC s -> MUL(x, s) (operand order `x_first`) -> out; `s_is_output` also exposes s.
std::shared_ptr<const graph::Graph> silu_graph(DType t, int64_t zp_x, bool x_first, bool s_is_output) {
  GraphBuilder b;
  const Shape shape = {1, 9, 13, 5};
  const int32_t x = b.input(t, shape, per_tensor(0.07f, zp_x));
  const int64_t zp_s = t == DType::kInt8 ? -128 : 0;
  const int32_t s = b.tensor(t, shape, per_tensor(1.0f / 256, zp_s));
  const int32_t out = b.tensor(t, shape, per_tensor(0.045f, t == DType::kInt8 ? -122 : 6));
  b.op(OpKind::kLogistic, {x}, {s});
  b.op(OpKind::kMul, x_first ? std::vector<int32_t>{x, s} : std::vector<int32_t>{s, x}, {out});
  b.output(out);
  if (s_is_output) b.output(s);
  return b.shared();
}

TEST(SiluFusion, EqualsTheUnfusedPairWithEitherKernelFamily) {
  for (DType t : {DType::kInt8, DType::kUInt8}) {
    for (bool x_first : {true, false}) {
      for (bool fast : {true, false}) {
        auto g = silu_graph(t, t == DType::kInt8 ? 5 : 133, x_first, false);
        ASSERT_EQ(find_silu_pairs(*g).size(), 1u);
        std::vector<uint8_t> input(static_cast<size_t>(9 * 13 * 5));
        for (size_t i = 0; i < input.size(); ++i) input[i] = static_cast<uint8_t>(i * 37 + 11);
        InterpreterOptions fused{.use_fast_kernels = fast};
        InterpreterOptions plain{.use_fast_kernels = fast, .keep_intermediates = true};
        auto a = testing::run_graph(g, {input}, fused);
        auto b = testing::run_graph(g, {input}, plain);
        ASSERT_TRUE(a.ok()) << a.status().message();
        ASSERT_TRUE(b.ok()) << b.status().message();
        EXPECT_STREQ((*a)->kernel_name(0), "fused");
        EXPECT_STREQ((*a)->kernel_name(1), "lut");
        EXPECT_STRNE((*b)->kernel_name(1), "lut");
        EXPECT_EQ(testing::values_of<uint8_t>((*a)->output(0)), testing::values_of<uint8_t>((*b)->output(0)))
            << dtype_name(t) << (x_first ? " x first" : " s first") << (fast ? " fast" : " reference");
      }
    }
  }
}

// int16 (16x8 models): a 65536-entry table; every int16 value of x in one tensor, so each entry
// is checked against the unfused LOGISTIC and MUL.
TEST(SiluFusion, Int16TableEqualsTheUnfusedPairForEveryValue) {
  for (bool x_first : {true, false}) {
    GraphBuilder b;
    const Shape shape = {1, 64, 64, 16};
    const int32_t x = b.input(DType::kInt16, shape, per_tensor(0.00042f, 0));
    const int32_t s = b.tensor(DType::kInt16, shape, per_tensor(1.0f / 32768, 0));
    const int32_t out = b.tensor(DType::kInt16, shape, per_tensor(0.00031f, 0));
    b.op(OpKind::kLogistic, {x}, {s});
    b.op(OpKind::kMul, x_first ? std::vector<int32_t>{x, s} : std::vector<int32_t>{s, x}, {out});
    b.output(out);
    auto g = b.shared();
    ASSERT_EQ(find_silu_pairs(*g).size(), 1u);
    std::vector<uint8_t> input(65536 * 2);
    for (uint32_t i = 0; i < 65536; ++i) {
      const auto v = static_cast<uint16_t>(i * 40503u);  // every value once, shuffled
      input[2 * i] = static_cast<uint8_t>(v & 0xFF);
      input[2 * i + 1] = static_cast<uint8_t>(v >> 8);
    }
    auto a = testing::run_graph(g, {input}, InterpreterOptions{});
    auto plain = testing::run_graph(g, {input}, InterpreterOptions{.keep_intermediates = true});
    ASSERT_TRUE(a.ok()) << a.status().message();
    ASSERT_TRUE(plain.ok()) << plain.status().message();
    EXPECT_STREQ((*a)->kernel_name(1), "lut");
    EXPECT_STRNE((*plain)->kernel_name(1), "lut");
    const auto fused_values = testing::values_of<int16_t>((*a)->output(0));
    EXPECT_EQ(fused_values, testing::values_of<int16_t>((*plain)->output(0)));
    EXPECT_GT(std::set<int16_t>(fused_values.begin(), fused_values.end()).size(), 10000u);
  }
}

// A lone integer activation on the reference kernel becomes a table made by that kernel: every
// input value gives the reference's bytes (fast kernels off), for int16 and 8-bit types.
TEST(ActivationTable, EveryValueGivesTheReferenceBytes) {
  struct Case {
    OpKind kind;
    DType dtype;
    QuantParams in, out;
  };
  const std::vector<Case> cases = {
      {OpKind::kLeakyRelu, DType::kInt16, per_tensor(0.0007f, 0), per_tensor(0.0005f, 0)},
      {OpKind::kTanh, DType::kInt16, per_tensor(0.0003f, 0), per_tensor(1.0f / 32768, 0)},
      {OpKind::kLogistic, DType::kInt16, per_tensor(0.0004f, 0), per_tensor(1.0f / 32768, 0)},
      {OpKind::kTanh, DType::kInt8, per_tensor(0.05f, 3), per_tensor(1.0f / 128, 0)},
  };
  for (const Case& c : cases) {
    GraphBuilder b;
    const int32_t n = c.dtype == DType::kInt16 ? 65536 : 256;
    const int32_t x = b.input(c.dtype, {1, n}, c.in);
    const int32_t y = b.tensor(c.dtype, {1, n}, c.out);
    graph::OpAttrs attrs;
    attrs.alpha = 0.1f;
    b.op(c.kind, {x}, {y}, attrs);
    b.output(y);
    auto g = b.shared();
    ASSERT_TRUE(tabulable_unary(*g, 0));
    std::vector<uint8_t> input(static_cast<size_t>(n) * dtype_size(c.dtype));
    for (int32_t i = 0; i < n; ++i) {
      const auto v = static_cast<uint16_t>(i * 40503u);
      input[static_cast<size_t>(i) * dtype_size(c.dtype)] = static_cast<uint8_t>(v & 0xFF);
      if (c.dtype == DType::kInt16) input[2 * static_cast<size_t>(i) + 1] = static_cast<uint8_t>(v >> 8);
    }
    auto fast = testing::run_graph(g, {input}, InterpreterOptions{});
    auto reference = testing::run_graph(g, {input}, InterpreterOptions{.use_fast_kernels = false});
    ASSERT_TRUE(fast.ok()) << fast.status().message();
    ASSERT_TRUE(reference.ok()) << reference.status().message();
    const std::string what = std::string(graph::op_name(c.kind)) + " " + dtype_name(c.dtype);
    if (c.dtype == DType::kInt16) EXPECT_STREQ((*fast)->kernel_name(0), "lut") << what;
    const auto a = testing::values_of<uint8_t>((*fast)->output(0));
    EXPECT_EQ(a, testing::values_of<uint8_t>((*reference)->output(0))) << what;
    EXPECT_GT(std::set<uint8_t>(a.begin(), a.end()).size(), 50u) << what;  // not a constant output
  }
}

// A QUANTIZE that requantizes an integer tensor (the TFLite converter's uint8 input and output,
// int8 -> int8 before a concatenation) is a table made by the kernel the plan chose: every input
// value gives that kernel's bytes. Checked with the reference family (the table against the
// untabulated reference kernels); the XNNPACK family's table is checked against the official
// TFLite by the QUANTIZE rows of the conformance suite.
TEST(RequantizeTable, EveryValueGivesTheChosenKernelsBytes) {
  struct Case {
    DType in, out;
    QuantParams qin, qout;
  };
  const std::vector<Case> cases = {
      {DType::kUInt8, DType::kInt8, per_tensor(1.0f / 255, 0), per_tensor(1.0f / 255, -128)},
      {DType::kInt8, DType::kUInt8, per_tensor(0.0213f, 7), per_tensor(0.0189f, 131)},
      {DType::kInt8, DType::kInt8, per_tensor(0.043f, -5), per_tensor(0.0517f, 12)},
      {DType::kUInt8, DType::kUInt8, per_tensor(0.05f, 128), per_tensor(0.07f, 100)},
      {DType::kInt16, DType::kInt16, per_tensor(0.0007f, 0), per_tensor(0.00052f, 0)},
  };
  for (const Case& c : cases) {
    GraphBuilder b;
    const int32_t n = c.in == DType::kInt16 ? 65536 : 256;
    const int32_t x = b.input(c.in, {1, n}, c.qin);
    const int32_t y = b.tensor(c.out, {1, n}, c.qout);
    b.op(OpKind::kQuantize, {x}, {y});
    b.output(y);
    auto g = b.shared();
    ASSERT_TRUE(tabulable_unary(*g, 0));
    std::vector<uint8_t> input(static_cast<size_t>(n) * dtype_size(c.in));
    for (int32_t i = 0; i < n; ++i) {
      const auto v = static_cast<uint16_t>(i * 40503u);
      input[static_cast<size_t>(i) * dtype_size(c.in)] = static_cast<uint8_t>(v & 0xFF);
      if (c.in == DType::kInt16) input[2 * static_cast<size_t>(i) + 1] = static_cast<uint8_t>(v >> 8);
    }
    const std::string what = std::string(dtype_name(c.in)) + " -> " + dtype_name(c.out);
    for (KernelImpl family : {KernelImpl::kReference, KernelImpl::kXnnpack}) {
      OnlyFamily only(family);
      auto tabulated = testing::run_graph(g, {input}, InterpreterOptions{});
      if (!tabulated.ok()) continue;  // the family does not take this QUANTIZE
      EXPECT_STREQ((*tabulated)->kernel_name(0), "lut") << what;
      if (family != KernelImpl::kReference) continue;
      auto reference = testing::run_graph(g, {input}, InterpreterOptions{.use_fast_kernels = false});
      ASSERT_TRUE(reference.ok()) << reference.status().message();
      const auto a = testing::values_of<uint8_t>((*tabulated)->output(0));
      EXPECT_EQ(a, testing::values_of<uint8_t>((*reference)->output(0))) << what;
      EXPECT_GT(std::set<uint8_t>(a.begin(), a.end()).size(), 100u) << what;
    }
  }
  // A float -> integer QUANTIZE is not a function of 256 values.
  GraphBuilder b;
  const int32_t x = b.input(DType::kFloat32, {1, 8});
  const int32_t y = b.tensor(DType::kInt8, {1, 8}, per_tensor(0.1f, 0));
  b.op(OpKind::kQuantize, {x}, {y});
  b.output(y);
  EXPECT_FALSE(tabulable_unary(*b.shared(), 0));
}

TEST(SiluFusion, NotWhenTheSigmoidIsReadElsewhere) {
  auto g = silu_graph(DType::kInt8, 0, true, true);
  EXPECT_TRUE(find_silu_pairs(*g).empty());
  std::vector<uint8_t> input(static_cast<size_t>(9 * 13 * 5), 3);
  auto a = testing::run_graph(g, {input}, InterpreterOptions{});
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_STRNE((*a)->kernel_name(1), "lut");
}

TEST(SiluFusion, Yolov5nInt8IsByteIdenticalToTheUnfusedModel) {
  const auto path = data_dir() / "models" / "yolov5n-int8.tflite";
  QDET_REQUIRE_PATH(path);
  auto model = tflite::load_tflite(path);
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto g = std::make_shared<const graph::Graph>(model->graph);
  const auto pairs = find_silu_pairs(*g);
  EXPECT_GE(pairs.size(), 50u);
  auto fused = Interpreter::create(g);
  auto plain = Interpreter::create(g, InterpreterOptions{.keep_intermediates = true});
  ASSERT_TRUE(fused.ok() && plain.ok());
  // Every pair is a table: its own op ("lut"), or taken into the convolution that makes x
  // ("fused" MUL: fuse_output_tables, qdet's AMX pointwise and 8-bit depthwise kernels).
  size_t tables = 0;
  for (const SiluPair& pair : pairs) {
    const std::string mul = (*fused)->kernel_name(static_cast<size_t>(pair.mul_op));
    tables += mul == "lut" || mul == "fused";
  }
  EXPECT_EQ(tables, pairs.size());
  std::mt19937 rng(5);
  auto& in = (*fused)->input(0);
  for (size_t i = 0; i < in.byte_size(); ++i) in.data[i] = static_cast<uint8_t>(rng());
  std::memcpy((*plain)->input(0).data, in.data, in.byte_size());
  ASSERT_TRUE((*fused)->invoke().ok());
  ASSERT_TRUE((*plain)->invoke().ok());
  for (size_t o = 0; o < (*fused)->num_outputs(); ++o)
    EXPECT_EQ(testing::values_of<uint8_t>((*fused)->output(o)), testing::values_of<uint8_t>((*plain)->output(o)));
}

}  // namespace
}  // namespace qdet::rt
