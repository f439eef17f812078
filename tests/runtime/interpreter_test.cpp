// The interpreter: arena planning (shared memory, alignment, lifetimes), repeatable and
// thread-count-independent results, keep_intermediates, and its error messages.
#include <gmock/gmock.h>

#include <random>

#include "graph_builder.h"
#include "runtime/arena_planner.h"

namespace qdet::rt {
namespace {

using ::testing::ElementsAre;
using namespace testing;  // graph_builder.h: GraphBuilder, run_graph, to_bytes, values_of, per_tensor, F32

TEST(ArenaPlanner, ReusesMemoryOfDeadBuffers) {
  // A chain: b0 -> b1 -> b2 -> b3, each alive for two steps; b0 and b2 can share, b1 and b3 too.
  std::vector<BufferRequest> r = {{1000, 0, 1}, {1000, 1, 2}, {1000, 2, 3}, {1000, 3, 4}};
  ArenaPlan p = plan_arena(r);
  EXPECT_EQ(p.total_bytes, 2048u);  // two 1024-byte (64-aligned) slots
  EXPECT_NE(p.offsets[0], p.offsets[1]);
  EXPECT_NE(p.offsets[1], p.offsets[2]);
  EXPECT_NE(p.offsets[2], p.offsets[3]);
}

TEST(ArenaPlanner, OverlappingLifetimesNeverShareAndOffsetsAreAligned) {
  std::mt19937 rng(3);
  std::vector<BufferRequest> r;
  for (int i = 0; i < 60; ++i) {
    const int first = static_cast<int>(rng() % 20);
    r.push_back({rng() % 5000, first, first + static_cast<int>(rng() % 6)});
  }
  ArenaPlan p = plan_arena(r);
  size_t sum = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    EXPECT_EQ(p.offsets[i] % kArenaAlignment, 0u);
    EXPECT_LE(p.offsets[i] + r[i].bytes, p.total_bytes);
    sum += r[i].bytes;
    for (size_t j = 0; j < i; ++j) {
      const bool live_together = r[i].first <= r[j].last && r[j].first <= r[i].last;
      const bool disjoint = p.offsets[i] + r[i].bytes <= p.offsets[j] ||
                            p.offsets[j] + r[j].bytes <= p.offsets[i];
      if (live_together && r[i].bytes > 0 && r[j].bytes > 0) {
        EXPECT_TRUE(disjoint) << "buffers " << i << " and " << j << " overlap";
      }
    }
  }
  EXPECT_LT(p.total_bytes, sum);
}

TEST(ArenaPlanner, LargestFirstBestFit) {
  // A long-lived small buffer, then two large ones in sequence: they reuse the same offset.
  std::vector<BufferRequest> r = {{64, 0, 3}, {4096, 0, 1}, {4096, 2, 3}};
  ArenaPlan p = plan_arena(r);
  EXPECT_EQ(p.offsets[1], p.offsets[2]);
  EXPECT_EQ(p.total_bytes, 4096u + 64u);
}

// A chain of `n` float ops on [1,8,8,c]: conv, relu, add(residual), logistic, ...
std::shared_ptr<const graph::Graph> chain_graph(int n, int c) {
  GraphBuilder b;
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  int32_t x = b.input(F32, {1, 8, 8, c});
  int32_t prev = x;
  for (int i = 0; i < n; ++i) {
    std::vector<float> w(static_cast<size_t>(c) * 9 * c), bias(c);
    for (auto& v : w) v = u(rng);
    for (auto& v : bias) v = u(rng);
    int32_t wt = b.constant(F32, {c, 3, 3, c}, w);
    int32_t bt = b.constant(F32, {c}, bias);
    int32_t conv = b.tensor(F32, {1, 8, 8, c});
    graph::OpAttrs a;
    a.padding = graph::Padding::kSame;
    b.op(graph::OpKind::kConv2d, {prev, wt, bt}, {conv}, a);
    int32_t sum = b.tensor(F32, {1, 8, 8, c});
    b.op(graph::OpKind::kAdd, {conv, prev}, {sum});
    int32_t act = b.tensor(F32, {1, 8, 8, c});
    b.op(i % 2 ? graph::OpKind::kLogistic : graph::OpKind::kRelu, {sum}, {act});
    prev = act;
  }
  b.output(prev);
  return b.shared();
}

std::vector<float> random_input(size_t n) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

TEST(Interpreter, ArenaIsSmallerThanTheSumOfTensors) {
  auto g = chain_graph(6, 8);
  auto r = Interpreter::create(g, testing::kReferenceOnly);
  ASSERT_TRUE(r.ok()) << r.status().message();
  size_t sum = 0;
  for (const auto& t : g->tensors)
    if (!t.is_constant()) sum += t.byte_size();
  EXPECT_LT((*r)->arena_bytes(), sum / 3);
  EXPECT_GE((*r)->arena_bytes(), 3 * 8 * 8 * 8 * sizeof(float));  // input, output, one live
  EXPECT_EQ(reinterpret_cast<uintptr_t>((*r)->input(0).data) % kArenaAlignment, 0u);
  EXPECT_STREQ((*r)->kernel_name(0), "reference");
}

TEST(Interpreter, InvokeTwiceGivesTheSameResultAndInputsStayValid) {
  auto g = chain_graph(5, 8);
  const auto in = random_input(8 * 8 * 8);
  auto r = run_graph(g, {to_bytes(in)});
  ASSERT_TRUE(r.ok()) << r.status().message();
  Interpreter& interp = **r;
  const auto first = values_of<float>(interp.output(0));
  EXPECT_EQ(values_of<float>(interp.input(0)), in);  // the input was not overwritten
  ASSERT_TRUE(interp.invoke().ok());
  EXPECT_EQ(values_of<float>(interp.output(0)), first);
}

TEST(Interpreter, ThreadCountsGiveBitIdenticalOutputs) {
  auto g = chain_graph(4, 17);
  const auto in = random_input(8 * 8 * 17);
  for (bool fast : {false, true}) {
    std::vector<float> reference;
    for (int threads : {1, 2, 4}) {
      auto r = run_graph(g, {to_bytes(in)}, {.num_threads = threads, .use_fast_kernels = fast});
      ASSERT_TRUE(r.ok()) << r.status().message();
      auto out = values_of<float>((*r)->output(0));
      if (threads == 1) {
        reference = out;
      } else {
        EXPECT_EQ(std::memcmp(out.data(), reference.data(), out.size() * sizeof(float)), 0)
            << threads << " threads differ from 1 (fast kernels: " << fast << ")";
      }
    }
  }
}

TEST(Interpreter, KeepIntermediatesExposesEveryTensor) {
  GraphBuilder b;
  int32_t x = b.input(F32, {3});
  int32_t t1 = b.tensor(F32, {3});
  int32_t t2 = b.tensor(F32, {3});
  int32_t t3 = b.tensor(F32, {3});
  int32_t t4 = b.tensor(F32, {3});
  b.op(graph::OpKind::kRelu, {x}, {t1});
  b.op(graph::OpKind::kAdd, {t1, t1}, {t2});
  b.op(graph::OpKind::kMul, {t2, t2}, {t3});
  b.op(graph::OpKind::kSub, {t3, t2}, {t4});
  b.output(t4);
  auto r = run_graph(b.shared(), {to_bytes(std::vector<float>{-1, 1, 2})},
                     {.keep_intermediates = true});
  ASSERT_TRUE(r.ok()) << r.status().message();
  const Interpreter& interp = **r;
  EXPECT_THAT(values_of<float>(interp.tensor(t1)), ElementsAre(0, 1, 2));
  EXPECT_THAT(values_of<float>(interp.tensor(t2)), ElementsAre(0, 2, 4));
  EXPECT_THAT(values_of<float>(interp.tensor(t3)), ElementsAre(0, 4, 16));
  EXPECT_THAT(values_of<float>(interp.tensor(t4)), ElementsAre(0, 2, 12));
  // Every tensor has its own slot.
  for (int32_t a : {x, t1, t2, t3, t4})
    for (int32_t c : {x, t1, t2, t3, t4})
      if (a != c) {
        EXPECT_NE(interp.tensor(a).data, interp.tensor(c).data);
      }
}

TEST(Interpreter, OpWithoutKernelIsNamed) {
  GraphBuilder b;
  int32_t x = b.input(F32, {2});
  int32_t y = b.tensor(F32, {2});
  b.op(graph::OpKind::kFloor, {x}, {y});
  b.output(y);
  auto r = Interpreter::create(b.shared());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
  EXPECT_EQ(r.status().message(), "op 0 (FLOOR): qdet has no kernel for this op");
}

// A dtype no kernel runs: one line with the op, its index, the dtype and the dtypes qdet runs
// it in, without repeating the op's name or naming a kernel library.
TEST(Interpreter, MissingDtypeIsOneLineNamingWhatIsSupported) {
  GraphBuilder b;
  int32_t x = b.input(DType::kInt16, {1, 4, 4, 2}, testing::per_tensor(0.1f, 0));
  int32_t y = b.tensor(DType::kInt16, {1, 4, 4, 2}, testing::per_tensor(0.1f, 0));
  b.op(graph::OpKind::kExp, {x}, {y});
  b.output(y);
  auto r = Interpreter::create(b.shared());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
  EXPECT_EQ(r.status().message(), "op 0 (EXP): no kernel for int16 input; qdet runs it in float32");
}

// A QUANTIZE between integer dtypes TFLite does not requantize (uint8 -> int16): the same kind
// of line, saying what the input dtype can become.
TEST(Interpreter, RequantizationTfliteLacksIsOneLine) {
  GraphBuilder b;
  int32_t x = b.input(DType::kUInt8, {1, 4, 4, 2}, testing::per_tensor(0.1f, 128));
  int32_t y = b.tensor(DType::kInt16, {1, 4, 4, 2}, testing::per_tensor(0.01f, 0));
  b.op(graph::OpKind::kQuantize, {x}, {y});
  b.output(y);
  auto r = Interpreter::create(b.shared());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
  EXPECT_EQ(r.status().message(),
            "op 0 (QUANTIZE): uint8 input: no int16 output (TFLite requantizes uint8 to int8 or uint8 only; "
            "DEQUANTIZE to float32 and QUANTIZE from it instead)");
}

TEST(Interpreter, InvalidGraphIsRejected) {
  GraphBuilder b;
  int32_t x = b.input(F32, {2});
  int32_t y = b.tensor(F32, {2});
  b.op(graph::OpKind::kRelu, {x, 9}, {y});
  b.output(y);
  auto r = Interpreter::create(b.shared());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "op 0 (RELU) input refers to tensor 9 of 2");
}

TEST(Interpreter, ArityErrorsNameTheOp) {
  GraphBuilder b;
  int32_t x = b.input(F32, {2});
  int32_t y = b.tensor(F32, {2});
  b.op(graph::OpKind::kAdd, {x}, {y});
  b.output(y);
  auto r = Interpreter::create(b.shared());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "op 0 (ADD): expects 2 inputs, got 1");
}

TEST(Interpreter, ZeroThreadsIsAnError) {
  auto r = Interpreter::create(chain_graph(1, 2), {.num_threads = 0});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "num_threads must be at least 1 (got 0)");
}

TEST(Interpreter, ActivationsOverTheMemoryBudgetAreOneErrorBeforeAnyKernelPrepares) {
  // 2 TiB of activations from a few bytes of graph: used to end in std::bad_alloc (an abort).
  GraphBuilder b;
  int32_t x = b.input(F32, {1, 65536, 65536, 64});
  int32_t y = b.tensor(F32, {1, 65536, 65536, 64});
  b.op(graph::OpKind::kAdd, {x, x}, {y});
  b.output(y);
  for (bool fast : {false, true}) {
    InterpreterOptions o;
    o.use_fast_kernels = fast;
    auto r = Interpreter::create(b.shared(), o);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kOutOfRange);
    EXPECT_THAT(r.status().message(),
                ::testing::StartsWith("the model's activations need at least 2.0 TiB of memory (op 0 (ADD)), "
                                      "over the memory budget of "));
    EXPECT_THAT(r.status().message(),
                ::testing::HasSubstr("(--max-memory); its tensors: tensor 0 't0' float32[1,65536,65536,64] 1.0 TiB, "
                                     "tensor 1 't1' float32[1,65536,65536,64] 1.0 TiB"));
  }
}

TEST(Interpreter, ArenaOverAnExplicitBudgetNamesTheLargestBuffers) {
  // x -> y1 -> y2, with x, y1 and y2 all alive at the end (input, outputs): each op needs 8 KiB,
  // the arena 12 KiB.
  GraphBuilder b;
  int32_t x = b.input(F32, {1024});
  int32_t y1 = b.tensor(F32, {1024});
  int32_t y2 = b.tensor(F32, {1024});
  b.op(graph::OpKind::kAdd, {x, x}, {y1});
  b.op(graph::OpKind::kAdd, {y1, y1}, {y2});
  b.output(y1);
  b.output(y2);
  InterpreterOptions o = testing::kReferenceOnly;
  o.max_memory_bytes = 64 << 10;
  EXPECT_TRUE(Interpreter::create(b.shared(), o).ok());
  o.max_memory_bytes = 10 << 10;
  auto r = Interpreter::create(b.shared(), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "the model's activations need 12.0 KiB of memory, over the memory budget of 10.0 KiB "
            "(--max-memory); largest: tensor 0 't0' float32[1024] 4.0 KiB, tensor 1 't1' float32[1024] 4.0 KiB, "
            "tensor 2 't2' float32[1024] 4.0 KiB");
  o.max_memory_bytes = 6 << 10;
  r = Interpreter::create(b.shared(), o);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), ::testing::StartsWith("the model's activations need at least 8.0 KiB"));
}

}  // namespace
}  // namespace qdet::rt

namespace qdet::rt::testing {
namespace {

// Ops whose inputs are all constant run once at plan time, but their outputs live outside the
// arena's budget, so at most 256 MiB of them: of five 64 MiB BROADCAST_TOs of a constant, four
// are folded and the fifth runs from the arena; every result is the same.
TEST(Interpreter, ConstantFoldingIsBounded) {
  GraphBuilder b;
  const int32_t two = b.constant(DType::kFloat32, {}, std::vector<float>{2.0f});
  const int32_t shape = b.ints({4, 4194304});  // 64 MiB of float32
  std::vector<int32_t> outs;
  for (int i = 0; i < 5; ++i) {
    const int32_t big = b.tensor(DType::kFloat32, {4, 4194304});
    b.op(graph::OpKind::kBroadcastTo, {two, shape}, {big});
    const int32_t corner = b.tensor(DType::kFloat32, {1, 1});
    b.op(graph::OpKind::kSlice, {big, b.ints({3, 4194303}), b.ints({1, 1})}, {corner});
    b.output(corner);
    outs.push_back(corner);
  }
  auto run = run_graph(b.shared(), {}, InterpreterOptions{});
  ASSERT_TRUE(run.ok()) << run.status().message();
  int folded = 0;
  for (size_t i = 0; i < 10; i += 2) folded += std::string((*run)->kernel_name(i)) == "folded";
  EXPECT_EQ(folded, 4);
  EXPECT_STRNE((*run)->kernel_name(8), "folded");
  for (size_t o = 0; o < outs.size(); ++o) EXPECT_EQ((*run)->output(o).as<const float>()[0], 2.0f) << o;
}

}  // namespace
}  // namespace qdet::rt::testing
