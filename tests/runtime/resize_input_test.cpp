// Interpreter::resize_input + allocate_tensors (TFLite's ResizeInputTensor + AllocateTensors):
// shapes propagated by each op's prepare, a new arena, results equal to a graph built at the
// new shape, batches equal to single images, and the errors when a constant no longer fits.
// The same against the official TFLite interpreter on whole models: tests/convert/resize_peer_test.cpp
// (it converts ONNX and darknet models, so it lives with the converter's tests).
#include <gmock/gmock.h>

#include <cstring>
#include <random>

#include "graph_builder.h"

namespace qdet::rt {
namespace {

using ::testing::ElementsAre;
using namespace testing;  // graph_builder.h: GraphBuilder, run_graph, to_bytes, values_of, per_tensor, F32

// conv 3x3 SAME -> ADD residual -> RELU -> MAX_POOL 2x2 stride 2 -> RESIZE_NEAREST x2 ->
// CONCATENATION with the pre-pool tensor, on a [n,h,w,c] input. Every dim is written into the
// graph, so building it at two shapes gives the "fresh model" to compare a resized one with.
// The upsample's size is a constant (as in TFLite files), so a graph that is to change H and W
// concatenates the convolution's output instead (`upsample` false).
std::shared_ptr<const graph::Graph> conv_graph(int n, int h, int w, int c, bool upsample = true) {
  GraphBuilder b;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  std::vector<float> weights(static_cast<size_t>(c) * 9 * c), bias(c);
  for (auto& v : weights) v = u(rng);
  for (auto& v : bias) v = u(rng);
  const int32_t x = b.input(F32, {n, h, w, c});
  const int32_t wt = b.constant(F32, {c, 3, 3, c}, weights);
  const int32_t bt = b.constant(F32, {c}, bias);
  const int32_t conv = b.tensor(F32, {n, h, w, c});
  graph::OpAttrs same;
  same.padding = graph::Padding::kSame;
  b.op(graph::OpKind::kConv2d, {x, wt, bt}, {conv}, same);
  const int32_t sum = b.tensor(F32, {n, h, w, c});
  b.op(graph::OpKind::kAdd, {conv, x}, {sum});
  const int32_t act = b.tensor(F32, {n, h, w, c});
  b.op(graph::OpKind::kRelu, {sum}, {act});
  const int32_t pooled = b.tensor(F32, {n, h / 2, w / 2, c});
  graph::OpAttrs pool;
  pool.padding = graph::Padding::kValid;
  pool.stride_h = pool.stride_w = 2;
  pool.filter_h = pool.filter_w = 2;
  b.op(graph::OpKind::kMaxPool2d, {act}, {pooled}, pool);
  int32_t up = conv;
  if (upsample) {
    up = b.tensor(F32, {n, h, w, c});
    b.op(graph::OpKind::kResizeNearestNeighbor, {pooled, b.ints({h, w})}, {up});
  }
  const int32_t cat = b.tensor(F32, {n, h, w, 2 * c});
  graph::OpAttrs axis;
  axis.axis = 3;
  b.op(graph::OpKind::kConcatenation, {act, up}, {cat}, axis);
  b.output(cat);
  if (!upsample) b.output(pooled);
  return b.shared();
}

std::vector<float> random_values(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

Result<std::vector<float>> run_once(Interpreter& interp, const std::vector<float>& input) {
  TensorRef& in = interp.input(0);
  if (in.byte_size() != input.size() * sizeof(float))
    return invalid_argument("input holds {} bytes, test gave {}", in.byte_size(),
                            input.size() * sizeof(float));
  std::memcpy(in.data, input.data(), in.byte_size());
  QDET_TRY(interp.invoke());
  return values_of<float>(interp.output(0));
}

TEST(ResizeInput, ShapesPropagateAndResultsEqualAGraphBuiltAtTheNewShape) {
  struct Case {
    Shape shape;
    bool upsample;
  };
  // A batch (the upsample's constant size still fits), then another batch, height and width.
  for (const Case& c : {Case{{3, 8, 8, 5}, true}, Case{{2, 6, 10, 5}, false}}) {
    for (bool fast : {false, true}) {
      const InterpreterOptions options{.use_fast_kernels = fast};
      auto built = Interpreter::create(conv_graph(1, 8, 8, 5, c.upsample), options);
      ASSERT_TRUE(built.ok()) << built.status().message();
      Interpreter& interp = **built;
      const size_t arena_before = interp.arena_bytes();
      ASSERT_TRUE(interp.resize_input(0, c.shape).ok());
      ASSERT_TRUE(interp.allocate_tensors().ok());
      EXPECT_TRUE(interp.inputs_resized());
      EXPECT_EQ(interp.input(0).shape, c.shape);
      EXPECT_EQ(interp.output(0).shape, (Shape{c.shape[0], c.shape[1], c.shape[2], 10}));
      EXPECT_GT(interp.arena_bytes(), arena_before);

      auto fresh = Interpreter::create(
          conv_graph(c.shape[0], c.shape[1], c.shape[2], c.shape[3], c.upsample), options);
      ASSERT_TRUE(fresh.ok()) << fresh.status().message();
      const auto input = random_values(static_cast<size_t>(num_elements(c.shape)), 3);
      auto got = run_once(interp, input);
      auto want = run_once(**fresh, input);
      ASSERT_TRUE(got.ok() && want.ok());
      EXPECT_EQ(*got, *want) << shape_to_string(c.shape) << ", fast kernels: " << fast;
      if (!c.upsample) {
        EXPECT_EQ(interp.output(1).shape, (Shape{c.shape[0], c.shape[1] / 2, c.shape[2] / 2, 5}));
        EXPECT_EQ(values_of<float>(interp.output(1)), values_of<float>((*fresh)->output(1)));
      }
    }
  }
}

TEST(ResizeInput, EveryImageOfABatchEqualsItsSingleRun) {
  for (bool fast : {false, true}) {
    const InterpreterOptions options{.use_fast_kernels = fast};
    auto single = Interpreter::create(conv_graph(1, 8, 8, 9), options);
    auto batched = Interpreter::create(conv_graph(1, 8, 8, 9), options);
    ASSERT_TRUE(single.ok() && batched.ok());
    ASSERT_TRUE((*batched)->resize_input(0, {4, 8, 8, 9}).ok());
    ASSERT_TRUE((*batched)->allocate_tensors().ok());
    const size_t per_image = 8 * 8 * 9;
    const auto input = random_values(4 * per_image, 11);
    auto all = run_once(**batched, input);
    ASSERT_TRUE(all.ok()) << all.status().message();
    ASSERT_EQ(all->size(), 4 * 2 * per_image);
    for (size_t k = 0; k < 4; ++k) {
      const std::vector<float> one(input.begin() + k * per_image, input.begin() + (k + 1) * per_image);
      auto want = run_once(**single, one);
      ASSERT_TRUE(want.ok()) << want.status().message();
      const std::vector<float> got(all->begin() + k * 2 * per_image,
                                   all->begin() + (k + 1) * 2 * per_image);
      EXPECT_EQ(got, *want) << "image " << k << " of 4, fast kernels: " << fast;
    }
  }
}

TEST(ResizeInput, SpatialResizeOfAFullyConvolutionalGraph) {
  // Without the RESIZE_NEAREST_NEIGHBOR (its size is a constant): conv, add, relu, pool.
  GraphBuilder b;
  const int32_t x = b.input(F32, {1, 6, 6, 2});
  const int32_t y = b.tensor(F32, {1, 6, 6, 2});
  b.op(graph::OpKind::kAdd, {x, x}, {y});
  const int32_t p = b.tensor(F32, {1, 3, 3, 2});
  graph::OpAttrs pool;
  pool.padding = graph::Padding::kSame;
  pool.stride_h = pool.stride_w = 2;
  pool.filter_h = pool.filter_w = 2;
  b.op(graph::OpKind::kMaxPool2d, {y}, {p}, pool);
  b.output(p);
  auto r = Interpreter::create(b.shared(), testing::kReferenceOnly);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE((*r)->resize_input(0, {1, 3, 5, 1}).ok());
  ASSERT_TRUE((*r)->allocate_tensors().ok());
  EXPECT_EQ((*r)->output(0).shape, (Shape{1, 2, 3, 1}));  // SAME: ceil(3/2), ceil(5/2)
  auto out = run_once(**r, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_THAT(*out, ElementsAre(14, 18, 20, 24, 28, 30));
}

TEST(ResizeInput, AConstantThatNoLongerFitsNamesTheInputTheOpAndTheShapes) {
  // A decoder's grid table: a constant sized for the file's input.
  GraphBuilder b;
  const int32_t x = b.input(F32, {1, 4, 2});
  const int32_t grid = b.constant(F32, {1, 4, 2}, std::vector<float>{0, 0, 1, 0, 0, 1, 1, 1});
  const int32_t y = b.tensor(F32, {1, 4, 2});
  b.op(graph::OpKind::kAdd, {x, grid}, {y});
  b.output(y);
  auto r = Interpreter::create(b.shared(), testing::kReferenceOnly);
  ASSERT_TRUE(r.ok()) << r.status().message();
  Interpreter& interp = **r;
  ASSERT_TRUE(interp.resize_input(0, {1, 6, 2}).ok());
  const Status s = interp.allocate_tensors();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(),
            "input 0 't0' resized from [1,4,2] to [1,6,2]: op 0 (ADD): shapes [1,6,2] and "
            "[1,4,2] do not broadcast");
  // Back at the last plan's shapes and usable.
  EXPECT_FALSE(interp.inputs_resized());
  EXPECT_EQ(interp.input(0).shape, (Shape{1, 4, 2}));
  auto out = run_once(interp, {1, 1, 1, 1, 1, 1, 1, 1});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_THAT(*out, ElementsAre(1, 1, 2, 1, 1, 2, 2, 2));
  // The same table broadcasts over a batch.
  ASSERT_TRUE(interp.resize_input(0, {2, 4, 2}).ok());
  ASSERT_TRUE(interp.allocate_tensors().ok());
  EXPECT_EQ(interp.output(0).shape, (Shape{2, 4, 2}));
}

TEST(ResizeInput, InvokeBeforeAllocateTensorsIsAnError) {
  auto r = Interpreter::create(conv_graph(1, 4, 4, 2), testing::kReferenceOnly);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE((*r)->resize_input(0, {2, 4, 4, 2}).ok());
  EXPECT_EQ((*r)->invoke().message(), "an input was resized: call allocate_tensors() before invoke()");
  // Resizing back to the planned shape needs no new plan.
  ASSERT_TRUE((*r)->resize_input(0, {1, 4, 4, 2}).ok());
  EXPECT_TRUE((*r)->invoke().ok());
}

TEST(ResizeInput, BadShapesAndIndicesAreRefused) {
  auto r = Interpreter::create(conv_graph(1, 4, 4, 2), testing::kReferenceOnly);
  ASSERT_TRUE(r.ok()) << r.status().message();
  Interpreter& interp = **r;
  EXPECT_EQ(interp.resize_input(1, {1, 4, 4, 2}).message(),
            "resize_input: input 1 of a model with 1 inputs");
  EXPECT_EQ(interp.resize_input(0, {1, 0, 4, 2}).message(),
            "cannot resize input 0 't0' ([1,4,4,2]) to [1,0,4,2]: every dim must be positive");
  EXPECT_EQ(interp.resize_input(0, {1, 1 << 20, 1 << 20, 2}).message(),
            "cannot resize input 0 't0' ([1,4,4,2]) to [1,1048576,1048576,2]: over 2^40 elements");
  // A rank the convolution cannot take: the op says so, and the interpreter stays usable.
  ASSERT_TRUE(interp.resize_input(0, {16, 2}).ok());
  const Status s = interp.allocate_tensors();
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), ::testing::StartsWith(
                               "input 0 't0' resized from [1,4,4,2] to [16,2]: op 0 (CONV_2D): "));
  EXPECT_TRUE(interp.invoke().ok());
}

TEST(ResizeInput, StrictResizingChangesOnlyTheDimsTheSignatureLeavesOpen) {
  GraphBuilder b;
  const int32_t x = b.input(F32, {1, 4, 2});
  b.graph().tensors[x].shape_signature = {-1, 4, 2};
  const int32_t y = b.tensor(F32, {1, 4, 2});
  b.op(graph::OpKind::kRelu, {x}, {y});
  b.output(y);
  auto r = Interpreter::create(b.shared(), testing::kReferenceOnly);
  ASSERT_TRUE(r.ok()) << r.status().message();
  Interpreter& interp = **r;
  EXPECT_TRUE(interp.resize_input(0, {5, 4, 2}, /*strict=*/true).ok());
  EXPECT_EQ(interp.resize_input(0, {1, 3, 2}, /*strict=*/true).message(),
            "cannot resize input 0 't0' ([1,4,2]) to [1,3,2]: strict resizing changes only the "
            "dims that shape_signature [-1,4,2] marks -1, and dim 1 is fixed");
  EXPECT_EQ(interp.resize_input(0, {5, 8}, /*strict=*/true).message(),
            "cannot resize input 0 't0' ([1,4,2]) to [5,8]: strict resizing keeps the rank");
  ASSERT_TRUE(interp.allocate_tensors().ok());
  EXPECT_EQ(interp.output(0).shape, (Shape{5, 4, 2}));
  // Not strict: any dim.
  ASSERT_TRUE(interp.resize_input(0, {1, 3, 2}).ok());
  ASSERT_TRUE(interp.allocate_tensors().ok());
  EXPECT_EQ(interp.output(0).shape, (Shape{1, 3, 2}));
}

TEST(ResizeInput, StrictResizingWithoutASignatureChangesNothing) {
  auto r = Interpreter::create(conv_graph(1, 4, 4, 2), testing::kReferenceOnly);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)->resize_input(0, {2, 4, 4, 2}, /*strict=*/true).message(),
            "cannot resize input 0 't0' ([1,4,4,2]) to [2,4,4,2]: strict resizing changes only "
            "the dims that shape_signature (absent) marks -1, and dim 0 is fixed");
  EXPECT_TRUE((*r)->resize_input(0, {1, 4, 4, 2}, /*strict=*/true).ok());
}

TEST(ResizeInput, BackAtTheFileShapeTheDeclaredShapesAreCheckedAgain) {
  auto r = Interpreter::create(conv_graph(1, 4, 4, 2), testing::kReferenceOnly);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE((*r)->resize_input(0, {2, 4, 4, 2}).ok());
  ASSERT_TRUE((*r)->allocate_tensors().ok());
  ASSERT_TRUE((*r)->resize_input(0, {1, 4, 4, 2}).ok());
  ASSERT_TRUE((*r)->allocate_tensors().ok());
  EXPECT_FALSE((*r)->inputs_resized());
  EXPECT_EQ((*r)->output(0).shape, (Shape{1, 4, 4, 4}));
}

}  // namespace
}  // namespace qdet::rt
