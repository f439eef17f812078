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
#include <filesystem>
#include <limits>
#include <random>

#include "graph_builder.h"
#include "tflite/reader.h"

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

// The fused float output `got` has the unfused `want`'s bytes; the first 10 differing elements
// are shown with their bits.
void expect_same_float_bits(const TensorRef& got, const TensorRef& want) {
  ASSERT_EQ(got.byte_size(), want.byte_size());
  int shown = 0;
  for (int64_t i = 0; i < want.num_elements(); ++i) {
    uint32_t g, w;
    std::memcpy(&g, got.data + 4 * i, 4);
    std::memcpy(&w, want.data + 4 * i, 4);
    if (g != w && shown++ < 10) ADD_FAILURE() << "element " << i << " fused " << std::hex << g << " unfused " << w;
  }
  EXPECT_EQ(0, std::memcmp(got.data, want.data, want.byte_size()));
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
    expect_same_float_bits(got, want);
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

// YOLOX's decode at another size: x [1, rows, kChainCols] (a CONCATENATION of two inputs, or an
// input itself with `x_is_input`); the first update replaces columns 0-1
// (the boxes' centres, from input u1), then STRIDED_SLICE -> EXP -> MUL(., u2) computes the
// second's updates from the first's columns 2-3, which it replaces (the sizes). Each update is a
// zero PAD (qdet's int8 files) or a SCATTER_ND of single elements (the TFLite converter's).
// The second skips the first's updated positions unless the first placed a -0 or a negative
// subnormal (`negative_zero_updates`). K is 1 - the mask, and with `odd_factors` other values at
// some positions too (0, -0, 2, NaN, a subnormal, -1, the float after 1), some where the other
// op updates.
struct ChainOptions {
  bool pad_first = true, pad_second = false;
  bool odd_factors = true;
  bool negative_zero_updates = true;  // -0 and negative subnormals among u1's values
  bool x_is_input = false;
  bool x_late_reader = false;    // x read again after the first (a graph output)
  bool late_reader = false;      // the first's output read again after the second (a graph output)
  bool first_is_output = false;  // the first's output a graph output
  int32_t rows = 3001;           // over one 16 Ki-element block of the fused pass
};
constexpr int32_t kChainCols = 7;

struct Chain {
  std::shared_ptr<const graph::Graph> graph;
  std::vector<std::vector<uint8_t>> inputs;
  size_t first_op = 0, second_op = 0;
  int32_t x = -1, first_out = -1, second_out = -1;
};

Chain chain(const ChainOptions& o) {
  constexpr float kInf = std::numeric_limits<float>::infinity(), kNan = std::numeric_limits<float>::quiet_NaN();
  const float odd[] = {0.0f, -0.0f, 2.0f, kNan, 1e-40f, -1.0f, std::nextafter(1.0f, 2.0f), kInf};
  std::mt19937 rng(7);
  const int32_t rows = o.rows;
  const Shape full{1, rows, kChainCols}, part{1, rows, 2};
  GraphBuilder b;
  const int32_t x_in = b.input(DType::kFloat32, full);
  const int32_t u1 = b.input(DType::kFloat32, part);
  const int32_t u2 = b.input(DType::kFloat32, part);
  int32_t x = x_in;
  if (!o.x_is_input) {
    const int32_t left = b.tensor(DType::kFloat32, {1, rows, 4}), right = b.tensor(DType::kFloat32, {1, rows, 3});
    b.op(OpKind::kStridedSlice, {x_in, b.ints({0, 0, 0}), b.ints({1, rows, 4}), b.ints({1, 1, 1})}, {left});
    b.op(OpKind::kStridedSlice, {x_in, b.ints({0, 0, 4}), b.ints({1, rows, 7}), b.ints({1, 1, 1})}, {right});
    x = b.tensor(DType::kFloat32, full);
    graph::OpAttrs a;
    a.axis = 2;
    b.op(OpKind::kConcatenation, {left, right}, {x}, a);
  }
  // ADD(MUL(in, K), scatter of `updates` into columns column..column+1).
  auto update = [&](int32_t in, int32_t updates, int32_t column, bool pad, size_t& add_op) {
    std::vector<float> k(static_cast<size_t>(rows * kChainCols), 1.0f);
    for (int32_t r = 0; r < rows; ++r) k[r * kChainCols + column] = k[r * kChainCols + column + 1] = 0.0f;
    if (o.odd_factors)
      for (size_t i = 0; i < std::size(odd); ++i)
        for (int32_t at : {static_cast<int32_t>(i * 131 + 5 + column), static_cast<int32_t>(i * 977 + 9000)})
          k[static_cast<size_t>(at)] = odd[i];
    const int32_t kt = b.constant(DType::kFloat32, full, k);
    const int32_t kept = b.tensor(DType::kFloat32, full);
    b.op(OpKind::kMul, {in, kt}, {kept});
    const int32_t placed = b.tensor(DType::kFloat32, full);
    if (pad) {
      const std::vector<int32_t> paddings{0, 0, 0, 0, column, kChainCols - 2 - column};
      b.op(OpKind::kPad, {updates, b.constant(DType::kInt32, {3, 2}, paddings)}, {placed});
    } else {
      std::vector<int32_t> indices;
      for (int32_t r = 0; r < rows; ++r)
        for (int32_t c : {column, column + 1}) indices.insert(indices.end(), {0, r, c});
      const int32_t idx = b.constant(DType::kInt32, {1, rows, 2, 3}, indices);
      b.op(OpKind::kScatterNd, {idx, updates, b.ints({1, rows, kChainCols})}, {placed});
    }
    const int32_t y = b.tensor(DType::kFloat32, full);
    b.op(OpKind::kAdd, {kept, placed}, {y});
    add_op = b.graph().ops.size() - 1;
    return y;
  };
  Chain c;
  c.x = x;
  c.first_out = update(x, u1, 0, o.pad_first, c.first_op);
  if (o.x_late_reader) {
    const int32_t again = b.tensor(DType::kFloat32, part);
    b.op(OpKind::kStridedSlice, {x, b.ints({0, 0, 0}), b.ints({1, rows, 2}), b.ints({1, 1, 1})}, {again});
    b.output(again);
  }
  const int32_t sizes = b.tensor(DType::kFloat32, part);
  b.op(OpKind::kStridedSlice, {c.first_out, b.ints({0, 0, 2}), b.ints({1, rows, 4}), b.ints({1, 1, 1})}, {sizes});
  const int32_t grown = b.tensor(DType::kFloat32, part);
  b.op(OpKind::kExp, {sizes}, {grown});
  const int32_t scaled = b.tensor(DType::kFloat32, part);
  b.op(OpKind::kMul, {grown, u2}, {scaled});
  c.second_out = update(c.first_out, scaled, 2, o.pad_second, c.second_op);
  b.output(c.second_out);
  if (o.first_is_output) b.output(c.first_out);
  if (o.late_reader) {
    const int32_t again = b.tensor(DType::kFloat32, part);
    b.op(OpKind::kStridedSlice, {c.first_out, b.ints({0, 0, 0}), b.ints({1, rows, 2}), b.ints({1, 1, 1})}, {again});
    b.output(again);
  }

  std::vector<float> xv(static_cast<size_t>(rows * kChainCols)), u1v(static_cast<size_t>(rows * 2)), u2v(u1v.size());
  for (auto& v : xv) v = std::uniform_real_distribution<float>(-100.0f, 100.0f)(rng);
  for (auto& v : u1v) v = std::uniform_real_distribution<float>(-10.0f, 10.0f)(rng);
  for (auto& v : u2v) v = std::uniform_real_distribution<float>(-2.0f, 2.0f)(rng);
  // Special values everywhere: x's over every column (and at the odd factors), the updates'.
  const float specials[] = {kNan, kInf, -kInf, -0.0f, 0.0f, 1e-40f, -1e-40f, 3e38f, -3e38f, 88.0f};
  for (size_t i = 0; i < 400; ++i) {
    xv[(i * 37) % xv.size()] = specials[i % std::size(specials)];
    u1v[(i * 13) % u1v.size()] = specials[(i / 3) % std::size(specials)];
    u2v[(i * 11) % u2v.size()] = specials[(i / 7) % std::size(specials)];
  }
  for (size_t i = 0; i < std::size(odd) && i * 131 + 7 < xv.size(); ++i) xv[i * 131 + 7] = specials[i];
  // -0 + -0 = -0 where the first places its updates (x negative, K 0, u1 -0): the second, not
  // updating there, makes it +0. A negative subnormal x there is -0 too (denormals off), which
  // x's own +0 would not give. x's special values stay in its first 15000 elements: the fused
  // pass's second block (16 Ki elements on) has none to rewrite.
  for (int32_t r = 0; r < rows; r += 5) {
    xv[static_cast<size_t>(r * kChainCols)] = -3.0f;
    if (r * kChainCols < 15000) xv[static_cast<size_t>(r * kChainCols + 1)] = -1e-40f;
    u1v[static_cast<size_t>(r * 2)] = u1v[static_cast<size_t>(r * 2 + 1)] = -0.0f;
  }
  if (!o.negative_zero_updates)
    for (float& v : u1v)
      if (std::signbit(v) && std::abs(v) < std::numeric_limits<float>::min()) v = 0.5f;
  c.graph = b.shared();
  c.inputs = {bytes_of(xv), bytes_of(u1v), bytes_of(u2v)};
  return c;
}

// Both updates fused, the first over x when `first_in_place`, the second over the first's output
// when `second_in_place`, every output with the unfused ops' bytes, 1 and 2 threads.
void expect_chain_bytes(const Chain& c, bool first_in_place, bool second_in_place) {
  for (int threads : {1, 2}) {
    SCOPED_TRACE(threads);
    auto a = run_graph(c.graph, c.inputs, InterpreterOptions{.num_threads = threads});
    auto e = run_graph(c.graph, c.inputs, InterpreterOptions{.num_threads = threads, .keep_intermediates = true});
    ASSERT_TRUE(a.ok()) << a.status().message();
    ASSERT_TRUE(e.ok()) << e.status().message();
    EXPECT_STREQ((*a)->kernel_name(c.first_op), "scatter-update");
    EXPECT_STREQ((*a)->kernel_name(c.second_op), "scatter-update");
    EXPECT_EQ((*a)->tensor(c.first_out).data == (*a)->tensor(c.x).data, first_in_place);
    EXPECT_EQ((*a)->tensor(c.second_out).data == (*a)->tensor(c.first_out).data, second_in_place);
    for (size_t o = 0; o < (*a)->num_outputs(); ++o) {
      SCOPED_TRACE(o);
      expect_same_float_bits((*a)->output(o), (*e)->output(o));
    }
  }
}

TEST(ScatterUpdate, ChainedUpdatesRunInPlaceWithTheUnfusedBytes) {
  for (bool pad_first : {true, false})
    for (bool pad_second : {true, false}) {
      SCOPED_TRACE(::testing::Message() << "pad_first " << pad_first << " pad_second " << pad_second);
      expect_chain_bytes(chain({.pad_first = pad_first, .pad_second = pad_second}), true, true);
      expect_chain_bytes(chain({.pad_first = pad_first, .pad_second = pad_second, .negative_zero_updates = false}),
                         true, true);
    }
}
TEST(ScatterUpdate, FactorsOfOneAloneGiveTheUnfusedBytes) {
  expect_chain_bytes(chain({.odd_factors = false}), true, true);
  expect_chain_bytes(chain({.odd_factors = false, .negative_zero_updates = false}), true, true);
  expect_chain_bytes(chain({.odd_factors = false, .rows = 5}), true, true);
}
TEST(ScatterUpdate, InputReadAfterTheUpdateIsNotOverwritten) {
  expect_chain_bytes(chain({.x_is_input = true}), false, true);
  expect_chain_bytes(chain({.x_late_reader = true}), false, true);
  expect_chain_bytes(chain({.late_reader = true}), true, false);
  expect_chain_bytes(chain({.first_is_output = true}), true, false);
}

// YOLOX-Nano's decode as the model runs it (the fp32 file's SCATTER_NDs, an int8 file's PADs):
// both updates fused, the second in place, with the unfused ops' bytes on the tensor the head
// gives them (the model's ops from that tensor on, run as a graph of their own).
void expect_decode_bytes(const graph::Model& model) {
  auto g = std::make_shared<const graph::Graph>(model.graph);
  std::mt19937 rng(11);
  std::vector<std::vector<uint8_t>> input(1);
  {
    auto probe = Interpreter::create(g);
    ASSERT_TRUE(probe.ok()) << probe.status().message();
    const TensorRef& in = (*probe)->input(0);
    ASSERT_EQ(in.dtype, DType::kFloat32);
    std::vector<float> v(static_cast<size_t>(in.num_elements()));
    for (auto& e : v) e = std::uniform_real_distribution<float>(0.0f, 255.0f)(rng);
    input[0] = bytes_of(v);
  }
  auto fused = run_graph(g, input, InterpreterOptions{});
  ASSERT_TRUE(fused.ok()) << fused.status().message();
  std::vector<size_t> updates;
  for (size_t i = 0; i < g->ops.size(); ++i)
    if (std::strcmp((*fused)->kernel_name(i), "scatter-update") == 0) updates.push_back(i);
  ASSERT_EQ(updates.size(), 2u);
  const int32_t first_out = g->ops[updates[0]].outputs[0], second_out = g->ops[updates[1]].outputs[0];
  EXPECT_EQ((*fused)->tensor(second_out).data, (*fused)->tensor(first_out).data) << "second not in place";
  // x: the MUL's operand that is not constant.
  const auto producers = g->producers();
  int32_t x = -1;
  for (int32_t in : g->ops[updates[0]].inputs) {
    const int32_t p = producers[in];
    if (p >= 0 && g->ops[p].kind == OpKind::kMul)
      for (int32_t m : g->ops[p].inputs)
        if (!g->tensors[m].is_constant()) x = m;
  }
  ASSERT_GE(x, 0);
  EXPECT_EQ((*fused)->tensor(first_out).data, (*fused)->tensor(x).data) << "first not in place";
  auto plain = run_graph(g, input, InterpreterOptions{.keep_intermediates = true});
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  const TensorRef& xt = (*plain)->tensor(x);
  const std::vector<uint8_t> x_bytes(xt.data, xt.data + xt.byte_size());

  auto decode = std::make_shared<graph::Model>(model);
  graph::Graph& d = decode->graph;
  d.ops.erase(d.ops.begin(), d.ops.begin() + producers[x] + 1);
  d.inputs = {x};
  d.outputs = {second_out};
  ASSERT_TRUE(d.verify().ok()) << d.verify().message();
  const std::shared_ptr<const graph::Graph> dg(decode, &decode->graph);
  const size_t shift = static_cast<size_t>(producers[x] + 1);
  for (int threads : {1, 2}) {
    auto a = run_graph(dg, {x_bytes}, InterpreterOptions{.num_threads = threads});
    auto e = run_graph(dg, {x_bytes}, InterpreterOptions{.num_threads = threads, .keep_intermediates = true});
    ASSERT_TRUE(a.ok()) << a.status().message();
    ASSERT_TRUE(e.ok()) << e.status().message();
    EXPECT_STREQ((*a)->kernel_name(updates[0] - shift), "scatter-update");
    EXPECT_STREQ((*a)->kernel_name(updates[1] - shift), "scatter-update");
    EXPECT_EQ((*a)->tensor(second_out).data, (*a)->tensor(first_out).data);
    EXPECT_EQ(values_of<uint8_t>((*a)->output(0)), values_of<uint8_t>((*e)->output(0))) << threads << " threads";
  }
}

TEST(ScatterUpdate, YoloxFloatDecodeGivesTheUnfusedBytes) {
  const auto path = data_dir() / "models" / "yolox_nano_fp32_416.tflite";
  QDET_REQUIRE_PATH(path);
  auto model = tflite::load_tflite(path);
  ASSERT_TRUE(model.ok()) << model.status().message();
  expect_decode_bytes(*model);
}

// The same in qdet's int8 file, whose whole output is also the unfused ops' (every fusion off).
TEST(ScatterUpdate, YoloxInt8DecodeAndOutputGiveTheUnfusedBytes) {
  const auto src = data_dir() / "models" / "yolox_nano_fp32_416.tflite";
  const auto calib = data_dir() / "coco" / "calib-111";
  QDET_REQUIRE_PATH(src);
  QDET_REQUIRE_PATH(calib);
  const auto q = ::qdet::testing::scratch_dir() / "int8.tflite";
  std::string log;
  ASSERT_EQ(::qdet::testing::run_command(std::string(QDET_BINARY) + " quantize '" + src.string() +
                                             "' --mode int8 --calib '" + calib.string() + "' --calib-count 2 -o '" +
                                             q.string() + "'",
                                         &log),
            0)
      << log;
  auto model = tflite::load_tflite(q);
  ASSERT_TRUE(model.ok()) << model.status().message();
  expect_decode_bytes(*model);
  auto g = std::make_shared<const graph::Graph>(model->graph);
  std::mt19937 rng(12);
  std::vector<float> v(416 * 416 * 3);
  for (auto& e : v) e = std::uniform_real_distribution<float>(0.0f, 255.0f)(rng);
  auto fused = run_graph(g, {bytes_of(v)}, InterpreterOptions{});
  auto plain = run_graph(g, {bytes_of(v)}, InterpreterOptions{.keep_intermediates = true});
  ASSERT_TRUE(fused.ok()) << fused.status().message();
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_EQ(values_of<uint8_t>((*fused)->output(0)), values_of<uint8_t>((*plain)->output(0)));
}

// BROADCAST_TO, SCATTER_ND and SUB of constants run once, at plan time.
TEST(ScatterUpdate, TheConstantMaskChainIsFolded) {
  const Pattern p = pattern(false, true);
  auto a = run_graph(p.graph, p.inputs, InterpreterOptions{});
  ASSERT_TRUE(a.ok()) << a.status().message();
  for (size_t i = 0; i < 3; ++i) EXPECT_STREQ((*a)->kernel_name(i), "folded") << i;
}

}  // namespace
}  // namespace qdet::rt::testing
