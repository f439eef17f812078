// Sparse constant tensors (TFLite SparsityParameters) and DENSIFY: each test builds a .tflite
// by hand (qdet's writer writes dense tensors only) holding sparse weights, runs it in the
// official TFLite (the WebAssembly peer) and in qdet, and also runs the same model written with
// dense weights in qdet: qdet's output equals its dense twin's bit for bit and the peer's within
// 1e-5 of the output's range. Malformed sparsity gives one clear error, never a crash.
#include <gmock/gmock.h>

#include <cstring>
#include <functional>
#include <random>

#include "base/file.h"
#include "graph_builder.h"
#include "test_support.h"
#include "tflite/reader.h"
#include "tflite/tflite_generated.h"

namespace qdet::rt {
namespace {

namespace fb = flatbuffers;
namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

// A sparse layout: traversal order, block map and, per level, DENSE or SPARSE_CSR.
struct Layout {
  std::vector<int32_t> traversal;
  std::vector<int32_t> block_map;
  std::vector<int32_t> block_sizes;  // per block dimension
  std::vector<bool> dense;           // per level
  tfl::SparseIndexVector index_type = tfl::SparseIndexVector::Int32Vector;
};

// The format's encoder (the inverse of TFLite's FormatConverter::Populate): levels walked in
// traversal order, a SPARSE_CSR level keeping the indices whose subtree holds a nonzero value.
struct Encoded {
  std::vector<std::vector<int32_t>> segments, indices;  // per level
  std::vector<float> values;
};

Encoded encode(const std::vector<float>& dense, const Shape& shape, const Layout& l) {
  const size_t n = shape.size(), levels = l.traversal.size();
  Shape blocked = shape;
  for (size_t j = 0; j < l.block_map.size(); ++j) blocked[static_cast<size_t>(l.block_map[j])] /= l.block_sizes[j];
  auto extent = [&](size_t level) {
    const auto d = static_cast<size_t>(l.traversal[level]);
    return d < n ? blocked[d] : l.block_sizes[d - n];
  };
  auto flat_index = [&](const std::vector<int32_t>& idx) {
    std::vector<int64_t> orig(n, 0);
    for (size_t k = 0; k < n; ++k) orig[static_cast<size_t>(l.traversal[k])] = idx[k];
    for (size_t k = n; k < levels; ++k) {
      const size_t b = static_cast<size_t>(l.traversal[k]) - n;
      const auto d = static_cast<size_t>(l.block_map[b]);
      orig[d] = orig[d] * l.block_sizes[b] + idx[k];
    }
    int64_t f = 0;
    for (size_t d = 0; d < n; ++d) f = f * shape[d] + orig[d];
    return static_cast<size_t>(f);
  };
  Encoded e;
  e.segments.resize(levels, {0});
  e.indices.resize(levels);
  std::vector<int32_t> idx(levels, 0);
  std::function<bool(size_t)> any_nonzero = [&](size_t level) -> bool {
    if (level == levels) return dense[flat_index(idx)] != 0.0f;
    for (int32_t i = 0; i < extent(level); ++i) {
      idx[level] = i;
      if (any_nonzero(level + 1)) return true;
    }
    return false;
  };
  std::function<void(size_t)> walk = [&](size_t level) {
    if (level == levels) {
      e.values.push_back(dense[flat_index(idx)]);
      return;
    }
    for (int32_t i = 0; i < extent(level); ++i) {
      idx[level] = i;
      if (!l.dense[level]) {
        if (!any_nonzero(level + 1)) continue;
        idx[level] = i;
        e.indices[level].push_back(i);
      }
      walk(level + 1);
    }
    if (!l.dense[level]) e.segments[level].push_back(static_cast<int32_t>(e.indices[level].size()));
  };
  walk(0);
  return e;
}

// Weights with about 60% zeros, whole blocks of zeros among them.
std::vector<float> sparse_weights(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  std::vector<float> w(n);
  for (size_t i = 0; i < n; ++i) w[i] = (i / 4) % 3 == 0 || value(rng) > 0.4f ? value(rng) : 0.0f;
  for (size_t i = 0; i < n; i += 4)
    if ((i / 4) % 5 == 1)
      for (size_t k = i; k < std::min(n, i + 4); ++k) w[k] = 0.0f;
  return w;
}

Bytes float_bytes(const std::vector<float>& v) {
  Bytes b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// A one-subgraph float model, tensors and ops added in order.
class ModelBuilder {
 public:
  ModelBuilder() { buffers_.push_back(tfl::CreateBuffer(b_)); }

  int32_t tensor(const std::string& name, const Shape& shape, const Bytes& data = {},
                 fb::Offset<tfl::SparsityParameters> sparsity = 0) {
    uint32_t buffer = 0;
    if (!data.empty()) {
      buffer = static_cast<uint32_t>(buffers_.size());
      buffers_.push_back(tfl::CreateBuffer(b_, b_.CreateVector(data)));
    }
    tensors_.push_back(tfl::CreateTensor(b_, b_.CreateVector(shape), tfl::TensorType::FLOAT32, buffer,
                                         b_.CreateString(name), 0, false, sparsity));
    return static_cast<int32_t>(tensors_.size() - 1);
  }

  // The weights of `shape`: dense, or sparse in `layout`.
  int32_t weights(const std::string& name, const std::vector<float>& w, const Shape& shape,
                  const Layout* layout) {
    if (!layout) return tensor(name, shape, float_bytes(w));
    const Encoded e = encode(w, shape, *layout);
    std::vector<fb::Offset<tfl::DimensionMetadata>> dims;
    for (size_t level = 0; level < layout->traversal.size(); ++level) {
      const size_t d = static_cast<size_t>(layout->traversal[level]);
      if (layout->dense[level]) {
        int32_t size = d < shape.size() ? shape[d] : layout->block_sizes[d - shape.size()];
        for (size_t j = 0; j < layout->block_map.size() && d < shape.size(); ++j)
          if (static_cast<size_t>(layout->block_map[j]) == d) size /= layout->block_sizes[j];
        dims.push_back(tfl::CreateDimensionMetadata(b_, tfl::DimensionType::DENSE, size));
        continue;
      }
      auto [seg_type, seg] = index_vector(e.segments[level], layout->index_type);
      auto [idx_type, idx] = index_vector(e.indices[level], layout->index_type);
      dims.push_back(tfl::CreateDimensionMetadata(b_, tfl::DimensionType::SPARSE_CSR, 0, seg_type, seg,
                                                  idx_type, idx));
    }
    auto sparsity = tfl::CreateSparsityParameters(b_, b_.CreateVector(layout->traversal),
                                                  b_.CreateVector(layout->block_map), b_.CreateVector(dims));
    return tensor(name, shape, float_bytes(e.values), sparsity);
  }

  void op(tfl::BuiltinOperator code, std::vector<int32_t> inputs, std::vector<int32_t> outputs,
          tfl::BuiltinOptions options_type = tfl::BuiltinOptions::NONE, fb::Offset<void> options = 0) {
    const auto c = static_cast<int32_t>(code);
    uint32_t index = 0;
    while (index < codes_.size() && codes_[index] != c) ++index;
    if (index == codes_.size()) codes_.push_back(c);
    ops_.push_back(tfl::CreateOperator(b_, index, b_.CreateVector(inputs), b_.CreateVector(outputs),
                                       options_type, options));
  }

  fb::FlatBufferBuilder& fbb() { return b_; }

  Bytes finish(std::vector<int32_t> inputs, std::vector<int32_t> outputs) {
    std::vector<fb::Offset<tfl::OperatorCode>> codes;
    for (int32_t c : codes_)
      codes.push_back(tfl::CreateOperatorCode(b_, static_cast<int8_t>(std::min(c, 127)), 0, 1,
                                              static_cast<tfl::BuiltinOperator>(c)));
    std::vector<fb::Offset<tfl::SubGraph>> subgraphs = {
        tfl::CreateSubGraph(b_, b_.CreateVector(tensors_), b_.CreateVector(inputs), b_.CreateVector(outputs),
                            b_.CreateVector(ops_), b_.CreateString("main"))};
    auto model = tfl::CreateModel(b_, 3, b_.CreateVector(codes), b_.CreateVector(subgraphs),
                                  b_.CreateString("sparse test"), b_.CreateVector(buffers_));
    tfl::FinishModelBuffer(b_, model);
    return {b_.GetBufferPointer(), b_.GetBufferPointer() + b_.GetSize()};
  }

 private:
  std::pair<tfl::SparseIndexVector, fb::Offset<void>> index_vector(const std::vector<int32_t>& v,
                                                                   tfl::SparseIndexVector type) {
    switch (type) {
      case tfl::SparseIndexVector::Uint16Vector: {
        std::vector<uint16_t> u(v.begin(), v.end());
        return {type, tfl::CreateUint16Vector(b_, b_.CreateVector(u)).Union()};
      }
      case tfl::SparseIndexVector::Uint8Vector: {
        std::vector<uint8_t> u(v.begin(), v.end());
        return {type, tfl::CreateUint8Vector(b_, b_.CreateVector(u)).Union()};
      }
      default: return {type, tfl::CreateInt32Vector(b_, b_.CreateVector(v)).Union()};
    }
  }

  fb::FlatBufferBuilder b_;
  std::vector<fb::Offset<tfl::Buffer>> buffers_;
  std::vector<fb::Offset<tfl::Tensor>> tensors_;
  std::vector<fb::Offset<tfl::Operator>> ops_;
  std::vector<int32_t> codes_;
};

// CONV_2D 3x3 SAME over [1, 6, 5, 8] with weights [4, 3, 3, 8], through DENSIFY when sparse.
Bytes conv_model(const Layout* layout) {
  ModelBuilder m;
  const Shape w_shape = {4, 3, 3, 8};
  const int32_t x = m.tensor("x", {1, 6, 5, 8});
  int32_t w = m.weights(layout ? "w_sparse" : "w", sparse_weights(4 * 3 * 3 * 8, 7), w_shape, layout);
  const int32_t bias = m.tensor("bias", {4}, float_bytes({0.1f, -0.2f, 0.3f, 0.0f}));
  const int32_t w_dense = layout ? m.tensor("w", w_shape) : w;
  const int32_t y = m.tensor("y", {1, 6, 5, 4});
  if (layout) m.op(tfl::BuiltinOperator::DENSIFY, {w}, {w_dense});
  auto options = tfl::CreateConv2DOptions(m.fbb(), tfl::Padding::SAME, 1, 1).Union();
  m.op(tfl::BuiltinOperator::CONV_2D, {x, w_dense, bias}, {y}, tfl::BuiltinOptions::Conv2DOptions, options);
  return m.finish({x}, {y});
}

// FULLY_CONNECTED [3, 16] x [6, 16]^T; sparse weights through DENSIFY or read by the op itself.
Bytes fc_model(const Layout* layout, bool densify) {
  ModelBuilder m;
  const Shape w_shape = {6, 16};
  const int32_t x = m.tensor("x", {3, 16});
  int32_t w = m.weights(densify ? "w_sparse" : "w", sparse_weights(6 * 16, 11), w_shape, layout);
  const int32_t bias = m.tensor("bias", {6}, float_bytes({0.5f, -0.25f, 0.0f, 1.0f, -1.0f, 0.125f}));
  const int32_t w_dense = densify ? m.tensor("w", w_shape) : w;
  const int32_t y = m.tensor("y", {3, 6});
  if (densify) m.op(tfl::BuiltinOperator::DENSIFY, {w}, {w_dense});
  auto options = tfl::CreateFullyConnectedOptions(m.fbb()).Union();
  m.op(tfl::BuiltinOperator::FULLY_CONNECTED, {x, w_dense, bias}, {y},
       tfl::BuiltinOptions::FullyConnectedOptions, options);
  return m.finish({x}, {y});
}

std::vector<float> run_qdet(const Bytes& model, const std::vector<float>& input) {
  auto m = tflite::read_tflite(model, "sparse.tflite");
  EXPECT_TRUE(m.ok()) << m.status().message();
  if (!m.ok()) return {};
  auto g = std::make_shared<const graph::Graph>(std::move(m->graph));
  auto r = testing::run_graph(g, {float_bytes(input)});
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? testing::values_of<float>((*r)->output(0)) : std::vector<float>{};
}

std::vector<float> run_peer(const Bytes& model, const std::vector<float>& input, const fs::path& dir) {
  EXPECT_TRUE(write_file_atomic(dir / "model.tflite", model).ok());
  EXPECT_TRUE(write_file_atomic(dir / "in.bin", float_bytes(input)).ok());
  std::string log;
  const int rc = qdet::testing::run_command(
      qdet::testing::peer_command("tflite_run.js") + " '" + (dir / "model.tflite").string() + "' --input '" +
          (dir / "in.bin").string() + "' --warmup 0 --runs 1 --dump-dir '" + (dir / "out").string() + "'",
      &log);
  EXPECT_EQ(rc, 0) << log;
  if (rc != 0) return {};
  for (const auto& e : fs::directory_iterator(dir / "out")) {
    auto bytes = read_file(e.path());
    EXPECT_TRUE(bytes.ok());
    std::vector<float> v(bytes->size() / 4);
    std::memcpy(v.data(), bytes->data(), v.size() * 4);
    return v;
  }
  ADD_FAILURE() << "the peer wrote no output";
  return {};
}

std::vector<float> random_input(size_t n) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> d(-2.0f, 2.0f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

void expect_near_peer(const std::vector<float>& got, const std::vector<float>& peer) {
  ASSERT_EQ(got.size(), peer.size());
  float lo = peer[0], hi = peer[0];
  for (float v : peer) lo = std::min(lo, v), hi = std::max(hi, v);
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], peer[i], 1e-5 * (hi - lo)) << "element " << i;
}

struct Case {
  const char* name;
  std::function<Bytes(const Layout*)> model;
  Layout layout;
  size_t input_size;
  // The WebAssembly TFLite densifies DENSIFY's input as the format says, but its FULLY_CONNECTED
  // given sparse weights directly reads the stored values as if they were the dense matrix (and
  // past their end: NaNs), measured with one-hot inputs. Those rows compare with the dense twin.
  bool peer_reads_sparse_weights = true;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class SparseModel : public ::testing::TestWithParam<Case> {};

TEST_P(SparseModel, EqualsItsDenseTwinAndTheOfficialTflite) {
  QDET_REQUIRE_PEERS();
  const Case& c = GetParam();
  const Bytes sparse = c.model(&c.layout), dense = c.model(nullptr);
  const auto input = random_input(c.input_size);
  const auto got = run_qdet(sparse, input);
  EXPECT_EQ(got, run_qdet(dense, input)) << "sparse and dense twins differ in qdet";
  const fs::path dir = qdet::testing::scratch_dir();
  expect_near_peer(got, run_peer(c.peer_reads_sparse_weights ? sparse : dense, input, dir));
}

Layout conv_blocked() {  // the TFLite converter's layout: 1x4 blocks along the input channels
  return {{0, 1, 2, 3, 4}, {3}, {4}, {true, true, true, false, true}, tfl::SparseIndexVector::Int32Vector};
}
Layout fc_csr_column_major() {  // plain CSR, columns outermost, uint16 indices
  return {{1, 0}, {}, {}, {false, false}, tfl::SparseIndexVector::Uint16Vector};
}
Layout fc_block_1x4() {  // what TFLite's own sparse FULLY_CONNECTED kernel reads, uint8 indices
  return {{0, 1, 2}, {1}, {4}, {true, false, true}, tfl::SparseIndexVector::Uint8Vector};
}
Layout fc_csr() {
  return {{0, 1}, {}, {}, {true, false}, tfl::SparseIndexVector::Uint8Vector};
}

INSTANTIATE_TEST_SUITE_P(
    Sparse, SparseModel,
    ::testing::Values(
        Case{"DensifyConvBlocked", [](const Layout* l) { return conv_model(l); }, conv_blocked(), 6 * 5 * 8},
        Case{"DensifyFcColumnMajorCsr", [](const Layout* l) { return fc_model(l, l != nullptr); }, fc_csr_column_major(), 3 * 16},
        Case{"FcWithSparseWeights1x4", [](const Layout* l) { return fc_model(l, false); }, fc_block_1x4(), 3 * 16, false},
        Case{"FcWithSparseWeightsCsr", [](const Layout* l) { return fc_model(l, false); }, fc_csr(), 3 * 16, false}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

// Malformed sparsity: one error line naming the tensor, never a crash or a huge allocation.
std::string error_of(const Bytes& model) {
  auto m = tflite::read_tflite(model, "sparse.tflite");
  return m.ok() ? "ok" : m.status().message();
}

// The FC model with its sparse weights' parameters edited by `edit` before encoding.
Bytes broken_fc(const std::function<void(Layout&, Encoded&, Shape&)>& edit) {
  ModelBuilder m;
  Shape shape = {6, 16};
  Layout l = fc_block_1x4();
  Encoded e = encode(sparse_weights(6 * 16, 11), shape, l);
  edit(l, e, shape);
  auto& b = m.fbb();
  std::vector<fb::Offset<tfl::DimensionMetadata>> dims;
  for (size_t level = 0; level < l.dense.size(); ++level) {
    if (l.dense[level]) {
      dims.push_back(tfl::CreateDimensionMetadata(b, tfl::DimensionType::DENSE, level == 0 ? shape[0] : 4));
    } else {
      auto seg = tfl::CreateInt32Vector(b, b.CreateVector(e.segments[level])).Union();
      auto idx = tfl::CreateInt32Vector(b, b.CreateVector(e.indices[level])).Union();
      dims.push_back(tfl::CreateDimensionMetadata(b, tfl::DimensionType::SPARSE_CSR, 0,
                                                  tfl::SparseIndexVector::Int32Vector, seg,
                                                  tfl::SparseIndexVector::Int32Vector, idx));
    }
  }
  auto sparsity = tfl::CreateSparsityParameters(b, b.CreateVector(l.traversal), b.CreateVector(l.block_map),
                                                b.CreateVector(dims));
  const int32_t x = m.tensor("x", {3, 16});
  const int32_t w = m.tensor("w", shape, float_bytes(e.values), sparsity);
  const int32_t y = m.tensor("y", {3, 6});
  m.op(tfl::BuiltinOperator::FULLY_CONNECTED, {x, w}, {y}, tfl::BuiltinOptions::FullyConnectedOptions,
       tfl::CreateFullyConnectedOptions(b).Union());
  return m.finish({x}, {y});
}

TEST(SparseModelBadInput, EachInconsistencyIsOneClearError) {
  EXPECT_EQ(error_of(broken_fc([](Layout&, Encoded&, Shape&) {})), "ok");
  EXPECT_EQ(error_of(broken_fc([](Layout&, Encoded& e, Shape&) { e.indices[1][0] = 4; })),
            "sparse.tflite: tensor 1 ('w'): sparsity: level 1 index 4 is outside its dimension of 4");
  EXPECT_EQ(error_of(broken_fc([](Layout&, Encoded& e, Shape&) { e.segments[1].back() = 1000; })),
            "sparse.tflite: tensor 1 ('w'): sparsity: level 1 array_segments end at 1000, past its " +
                std::to_string(encode(sparse_weights(6 * 16, 11), {6, 16}, fc_block_1x4()).indices[1].size()) +
                " array_indices");
  EXPECT_EQ(error_of(broken_fc([](Layout&, Encoded& e, Shape&) { e.segments[1].pop_back(); })),
            "sparse.tflite: tensor 1 ('w'): sparsity: level 1 has 6 array_segments, 6 positions above it need 7");
  EXPECT_EQ(error_of(broken_fc([](Layout&, Encoded& e, Shape&) { std::swap(e.segments[1][1], e.segments[1][2]); })),
            "sparse.tflite: tensor 1 ('w'): sparsity: level 1 array_segments decrease at 2");
  EXPECT_THAT(error_of(broken_fc([](Layout&, Encoded& e, Shape&) { e.values.pop_back(); })),
              ::testing::MatchesRegex(".*sparse tensor stores [0-9]+ bytes, its sparsity parameters describe [0-9]+ values of 4 bytes"));
  EXPECT_EQ(error_of(broken_fc([](Layout& l, Encoded&, Shape&) { l.traversal = {0, 0, 2}; })),
            "sparse.tflite: tensor 1 ('w'): sparsity: traversal_order [0,0,2] is not the original dimensions "
            "then the block dimensions, each once");
  EXPECT_EQ(error_of(broken_fc([](Layout& l, Encoded&, Shape&) { l.block_map = {5}; })),
            "sparse.tflite: tensor 1 ('w'): sparsity: block_map entry 5 is outside rank 2");
  // A tiny file claiming a dense tensor of 2^40 floats: refused before allocating.
  EXPECT_EQ(error_of(broken_fc([](Layout&, Encoded&, Shape& s) { s = {1 << 20, 1 << 20}; })),
            "sparse.tflite: tensor 1 ('w'): sparse tensor of shape [1048576,1048576] would densify to over "
            "1073741824 bytes");
}

TEST(SparseModelBadInput, DensifyOfANonConstantIsAnError) {
  ModelBuilder m;
  const int32_t x = m.tensor("x", {2, 3});
  const int32_t y = m.tensor("y", {2, 3});
  m.op(tfl::BuiltinOperator::DENSIFY, {x}, {y});
  EXPECT_EQ(error_of(m.finish({x}, {y})),
            "sparse.tflite: op 0 (DENSIFY): input tensor 0 ('x') is not a constant sparse tensor");
}

}  // namespace
}  // namespace qdet::rt
