// A space-to-depth block (CONCATENATION of STRIDED_SLICEs of one tensor, slice_concat.h) is one
// copy from the source at plan time: the same bytes as the unfused ops (keep_intermediates turns
// fusion off), for float32 and int8 (narrow and wide rows: the VBMI gather), masks or explicit
// bounds, negative indices and strides of 2 and 3; a block that does not qualify is left alone.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "graph_builder.h"

namespace qdet::rt::testing {
namespace {

using graph::OpKind;

struct SliceSpec {
  std::vector<int32_t> begin, end, strides;
  int32_t begin_mask = 0, end_mask = 0;
};

// x [2, H, W, 3] -> one STRIDED_SLICE per spec -> CONCATENATION on channels -> y; with
// `extra_reader`, the first slice's output is also a graph output.
std::shared_ptr<const graph::Graph> block(DType t, int32_t h, int32_t w, const std::vector<SliceSpec>& specs,
                                          int32_t out_h, int32_t out_w, bool extra_reader = false) {
  GraphBuilder b;
  const QuantParams q = t == DType::kInt8 ? per_tensor(0.1f, 3) : QuantParams{};
  const int32_t x = b.input(t, {2, h, w, 3}, q);
  std::vector<int32_t> parts;
  for (const SliceSpec& s : specs) {
    const int32_t out = b.tensor(t, {2, out_h, out_w, 3}, q);
    graph::OpAttrs a;
    a.begin_mask = s.begin_mask;
    a.end_mask = s.end_mask;
    b.op(OpKind::kStridedSlice, {x, b.ints(s.begin), b.ints(s.end), b.ints(s.strides)}, {out}, a);
    parts.push_back(out);
  }
  const int32_t y = b.tensor(t, {2, out_h, out_w, 3 * static_cast<int32_t>(specs.size())}, q);
  graph::OpAttrs a;
  a.axis = 3;
  b.op(OpKind::kConcatenation, parts, {y}, a);
  b.output(y);
  if (extra_reader) b.output(parts[0]);
  return b.shared();
}

std::vector<uint8_t> random_input(size_t bytes) {
  std::mt19937 rng(11);
  std::vector<uint8_t> v(bytes);
  for (auto& x : v) x = static_cast<uint8_t>(rng());
  return v;
}

void expect_fused_equals_unfused(const std::shared_ptr<const graph::Graph>& g, size_t input_bytes, bool fused) {
  const auto input = random_input(input_bytes);
  for (int threads : {1, 2}) {
    auto a = run_graph(g, {input}, InterpreterOptions{.num_threads = threads});
    auto e = run_graph(g, {input}, InterpreterOptions{.num_threads = threads, .keep_intermediates = true});
    ASSERT_TRUE(a.ok()) << a.status().message();
    ASSERT_TRUE(e.ok()) << e.status().message();
    const size_t concat = g->ops.size() - 1;
    if (fused) {
      for (size_t i = 0; i < concat; ++i) EXPECT_STREQ((*a)->kernel_name(i), "fused") << i;
    } else {
      EXPECT_STRNE((*a)->kernel_name(0), "fused");
    }
    EXPECT_STREQ((*e)->kernel_name(0), "reference");
    const TensorRef& got = (*a)->output(0);
    const TensorRef& want = (*e)->output(0);
    ASSERT_EQ(got.shape, want.shape);
    EXPECT_EQ(0, std::memcmp(got.data, want.data, want.byte_size()));
  }
}

// YOLOv5's Focus: x[:, ::2, ::2], x[:, 1::2, ::2], x[:, ::2, 1::2], x[:, 1::2, 1::2].
std::vector<SliceSpec> focus() {
  const int32_t masked = 0b1111;  // every dim from 0 / to its end unless given
  return {{{0, 0, 0, 0}, {0, 0, 0, 0}, {1, 2, 2, 1}, masked, masked},
          {{0, 1, 0, 0}, {0, 0, 0, 0}, {1, 2, 2, 1}, masked & ~0b0010, masked},
          {{0, 0, 1, 0}, {0, 0, 0, 0}, {1, 2, 2, 1}, masked & ~0b0100, masked},
          {{0, 1, 1, 0}, {0, 0, 0, 0}, {1, 2, 2, 1}, masked & ~0b0110, masked}};
}

TEST(SliceConcat, FocusIsOneCopyWithTheSameBytes) {
  for (DType t : {DType::kFloat32, DType::kInt8}) {
    SCOPED_TRACE(dtype_name(t));
    auto g = block(t, 10, 14, focus(), 5, 7);
    expect_fused_equals_unfused(g, 2 * 10 * 14 * 3 * dtype_size(t), /*fused=*/true);
  }
}

// Rows of 16 output pixels or more: with AVX-512 VBMI the 8-bit block is gathered 64 bytes at a
// time (whole groups of 16 pixels), the rest copied pixel by pixel; also a 3 x 3 grid (three
// source rows: copied).
TEST(SliceConcat, WideInt8FocusHasTheSameBytes) {
  for (int32_t w : {32, 64, 74, 100, 130}) {
    for (int32_t h : {2, 8}) {
      SCOPED_TRACE(::testing::Message() << h << " x " << w);
      expect_fused_equals_unfused(block(DType::kInt8, h, w, focus(), h / 2, w / 2), 2 * h * w * 3, /*fused=*/true);
    }
  }
  std::vector<SliceSpec> nine;
  for (int32_t y = 0; y < 3; ++y)
    for (int32_t x = 0; x < 3; ++x) nine.push_back({{0, y, x, 0}, {2, 12, 99, 3}, {1, 3, 3, 1}});
  expect_fused_equals_unfused(block(DType::kInt8, 12, 99, nine, 4, 33), 2 * 12 * 99 * 3, /*fused=*/true);
}

// Explicit bounds, negative begin and end, stride 3 and a 1-row grid.
TEST(SliceConcat, ExplicitAndNegativeBoundsAndStrideThree) {
  const std::vector<SliceSpec> specs = {{{0, 0, 0, 0}, {2, 9, 12, 3}, {1, 3, 3, 1}},
                                        {{0, -8, -11, 0}, {2, 9, -1, 3}, {1, 3, 3, 1}},
                                        {{0, 2, 2, -3}, {2, 100, 100, 3}, {1, 3, 3, 1}}};
  expect_fused_equals_unfused(block(DType::kFloat32, 9, 12, specs, 3, 4), 2 * 9 * 12 * 3 * 4, /*fused=*/true);
}

TEST(SliceConcat, SliceWithAnotherReaderIsLeftAlone) {
  expect_fused_equals_unfused(block(DType::kFloat32, 10, 14, focus(), 5, 7, /*extra_reader=*/true),
                              2 * 10 * 14 * 3 * 4, /*fused=*/false);
}

// A slice over channels (not every channel) does not qualify.
TEST(SliceConcat, ChannelSliceIsLeftAlone) {
  GraphBuilder b;
  const int32_t x = b.input(DType::kFloat32, {1, 4, 4, 6});
  const int32_t p = b.tensor(DType::kFloat32, {1, 4, 4, 3});
  const int32_t r = b.tensor(DType::kFloat32, {1, 4, 4, 3});
  b.op(OpKind::kStridedSlice, {x, b.ints({0, 0, 0, 0}), b.ints({1, 4, 4, 3}), b.ints({1, 1, 1, 1})}, {p});
  b.op(OpKind::kStridedSlice, {x, b.ints({0, 0, 0, 3}), b.ints({1, 4, 4, 6}), b.ints({1, 1, 1, 1})}, {r});
  const int32_t y = b.tensor(DType::kFloat32, {1, 4, 4, 6});
  graph::OpAttrs a;
  a.axis = 3;
  b.op(OpKind::kConcatenation, {r, p}, {y}, a);
  b.output(y);
  expect_fused_equals_unfused(b.shared(), 4 * 4 * 6 * 4, /*fused=*/false);
}

}  // namespace
}  // namespace qdet::rt::testing
