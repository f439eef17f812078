// Pools (SAME padding windows, quantized max pool) and resizes (every align_corners /
// half_pixel_centers combination, hand-computed).
#include <gmock/gmock.h>

#include <numeric>

#include "graph_builder.h"

namespace qdet::rt {
namespace {

using ::testing::ElementsAre;
using ::testing::FloatNear;
using ::testing::Pointwise;
using namespace testing;  // graph_builder.h: GraphBuilder, run_graph, to_bytes, values_of, per_tensor, F32

graph::OpAttrs pool_attrs(int filter, int stride, graph::Padding p) {
  graph::OpAttrs a;
  a.filter_h = a.filter_w = filter;
  a.stride_h = a.stride_w = stride;
  a.padding = p;
  return a;
}

template <typename T>
std::vector<T> run_pool(graph::OpKind kind, DType dtype, Shape in_shape, std::vector<T> in,
                        Shape out_shape, graph::OpAttrs a, QuantParams q = {}) {
  GraphBuilder b;
  int32_t x = b.input(dtype, in_shape, q);
  int32_t out = b.tensor(dtype, out_shape, q);
  b.op(kind, {x}, {out}, a);
  b.output(out);
  auto r = run_graph(b.shared(), {to_bytes(in)});
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? values_of<T>((*r)->output(0)) : std::vector<T>{};
}

TEST(Pool, AverageSameDoesNotCountPadding) {
  // 3x3 input 1..9, 2x2 window stride 2 SAME: 2x2 output; edge windows are clipped.
  std::vector<float> in(9);
  std::iota(in.begin(), in.end(), 1.0f);
  auto out = run_pool(graph::OpKind::kAveragePool2d, F32, {1, 3, 3, 1}, in, {1, 2, 2, 1},
                      pool_attrs(2, 2, graph::Padding::kSame));
  EXPECT_THAT(out, ElementsAre((1 + 2 + 4 + 5) / 4.0f, (3 + 6) / 2.0f, (7 + 8) / 2.0f, 9));
}

TEST(Pool, MaxPoolSameStride1ThreeByThree) {
  // YOLO's SPP-style 5x5 stride-1 SAME max pool on a 3x3 map: every output sees all.
  std::vector<float> in = {1, 9, 2, 3, 4, 5, 6, 7, 8};
  auto out = run_pool(graph::OpKind::kMaxPool2d, F32, {1, 3, 3, 1}, in, {1, 3, 3, 1},
                      pool_attrs(5, 1, graph::Padding::kSame));
  EXPECT_THAT(out, ElementsAre(9, 9, 9, 9, 9, 9, 9, 9, 9));
  auto out2 = run_pool(graph::OpKind::kMaxPool2d, F32, {1, 3, 3, 1}, in, {1, 1, 1, 1},
                       pool_attrs(2, 2, graph::Padding::kValid));
  EXPECT_THAT(out2, ElementsAre(9));
}

TEST(Pool, MaxPoolInt8KeepsQuantization) {
  std::vector<int8_t> in = {-128, 5, -3, 127, 0, 1, 2, -7};
  auto out = run_pool(graph::OpKind::kMaxPool2d, DType::kInt8, {1, 2, 2, 2}, in, {1, 1, 1, 2},
                      pool_attrs(2, 2, graph::Padding::kValid), testing::per_tensor(0.1f, -3));
  EXPECT_THAT(out, ElementsAre(2, 127));
}

TEST(Pool, MaxPoolUInt8WithDifferentOutputParamsIsUnsupported) {
  GraphBuilder b;
  int32_t x = b.input(DType::kUInt8, {1, 2, 2, 1}, testing::per_tensor(0.1f, 3));
  int32_t out = b.tensor(DType::kUInt8, {1, 1, 1, 1}, testing::per_tensor(0.2f, 3));
  b.op(graph::OpKind::kMaxPool2d, {x}, {out}, pool_attrs(2, 2, graph::Padding::kValid));
  b.output(out);
  auto r = Interpreter::create(b.shared());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
}

struct ResizeCase {
  bool align_corners, half_pixel;
};

template <typename T>
std::vector<T> run_resize(graph::OpKind kind, DType dtype, Shape in_shape, std::vector<T> in,
                          int out_h, int out_w, ResizeCase rc) {
  GraphBuilder b;
  int32_t x = b.input(dtype, in_shape);
  int32_t size = b.ints({out_h, out_w});
  int32_t out = b.tensor(dtype, {in_shape[0], out_h, out_w, in_shape[3]});
  graph::OpAttrs a;
  a.align_corners = rc.align_corners;
  a.half_pixel_centers = rc.half_pixel;
  b.op(kind, {x, size}, {out}, a);
  b.output(out);
  auto r = run_graph(b.shared(), {to_bytes(in)});
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? values_of<T>((*r)->output(0)) : std::vector<T>{};
}

TEST(ResizeNearest, ThreeToFourEveryMode) {
  // Width 3 -> 4 (height 1): default floor(x * 0.75) = 0,0,1,2; half-pixel
  // floor((x + 0.5) * 0.75) = 0,1,1,2; align_corners round(x * 2/3) = 0,1,1,2.
  const std::vector<uint8_t> in = {10, 20, 30};
  EXPECT_THAT(run_resize(graph::OpKind::kResizeNearestNeighbor, DType::kUInt8, {1, 1, 3, 1}, in,
                         1, 4, {false, false}),
              ElementsAre(10, 10, 20, 30));
  EXPECT_THAT(run_resize(graph::OpKind::kResizeNearestNeighbor, DType::kUInt8, {1, 1, 3, 1}, in,
                         1, 4, {false, true}),
              ElementsAre(10, 20, 20, 30));
  EXPECT_THAT(run_resize(graph::OpKind::kResizeNearestNeighbor, DType::kUInt8, {1, 1, 3, 1}, in,
                         1, 4, {true, false}),
              ElementsAre(10, 20, 20, 30));
}

TEST(ResizeNearest, UpsampleByTwoFloatChannels) {
  const std::vector<float> in = {1, -1, 2, -2, 3, -3, 4, -4};  // 2x2x2
  auto out = run_resize(graph::OpKind::kResizeNearestNeighbor, F32, {1, 2, 2, 2}, in, 4, 4,
                        {false, false});
  ASSERT_EQ(out.size(), 32u);
  EXPECT_THAT(std::vector<float>(out.begin(), out.begin() + 8), ElementsAre(1, -1, 1, -1, 2, -2, 2, -2));
  EXPECT_THAT(std::vector<float>(out.end() - 8, out.end()), ElementsAre(3, -3, 3, -3, 4, -4, 4, -4));
}

TEST(ResizeBilinear, TwoToThreeEveryMode) {
  // f(y, x) = 2y + x on a 2x2 grid is linear, so outputs are f at the clamped source points.
  const std::vector<float> in = {0, 1, 2, 3};
  // default: sources 0, 2/3, 4/3 (clamped to 1)
  EXPECT_THAT(run_resize(graph::OpKind::kResizeBilinear, F32, {1, 2, 2, 1}, in, 3, 3, {false, false}),
              Pointwise(FloatNear(1e-6f), std::vector<float>{0, 2.f / 3, 1, 4.f / 3, 2, 7.f / 3, 2, 8.f / 3, 3}));
  // align_corners: sources 0, 0.5, 1
  EXPECT_THAT(run_resize(graph::OpKind::kResizeBilinear, F32, {1, 2, 2, 1}, in, 3, 3, {true, false}),
              Pointwise(FloatNear(1e-6f), std::vector<float>{0, 0.5f, 1, 1, 1.5f, 2, 2, 2.5f, 3}));
  // half_pixel_centers: sources -1/6 (reads pixel 0), 0.5, 7/6 (reads pixel 1)
  EXPECT_THAT(run_resize(graph::OpKind::kResizeBilinear, F32, {1, 2, 2, 1}, in, 3, 3, {false, true}),
              Pointwise(FloatNear(1e-6f), std::vector<float>{0, 0.5f, 1, 1, 1.5f, 2, 2, 2.5f, 3}));
}

TEST(ResizeBilinear, HalfPixelDownscaleBlends) {
  // 4 -> 2 wide with half-pixel centres: sources 0.5 and 2.5, i.e. pairwise means.
  const std::vector<float> in = {0, 10, 20, 40};
  EXPECT_THAT(run_resize(graph::OpKind::kResizeBilinear, F32, {1, 1, 4, 1}, in, 1, 2, {false, true}),
              ElementsAre(5, 30));
  // without: sources 0 and 2.
  EXPECT_THAT(run_resize(graph::OpKind::kResizeBilinear, F32, {1, 1, 4, 1}, in, 1, 2, {false, false}),
              ElementsAre(0, 20));
}

}  // namespace
}  // namespace qdet::rt
