// Helpers for the converter tests: building small ONNX models with the protobuf API, running
// the peers (ONNX Runtime on the source, official TFLite on the converted file) and qdet's own
// interpreter, and comparing outputs.
#pragma once

#include <onnx/onnx_pb.h>

#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <cctype>
#include <cstring>
#include <cmath>
#include <string>
#include <vector>

#include "base/file.h"
#include "graph/graph.h"
#include "runtime/interpreter.h"
#include "test_support.h"
#include "tflite/writer.h"

namespace qdet::convert::testing {

// A tiny ONNX model builder (default domain only).
class OnnxBuilder {
 public:
  explicit OnnxBuilder(int opset = 13) {
    model_.set_ir_version(7);
    model_.set_producer_name("qdet-test");
    auto* op = model_.add_opset_import();
    op->set_domain("");
    op->set_version(opset);
    model_.mutable_graph()->set_name("test");
  }
  void input(const std::string& name, const std::vector<int64_t>& dims, int elem = ::onnx::TensorProto::FLOAT) {
    value_info(model_.mutable_graph()->add_input(), name, dims, elem);
  }
  void output(const std::string& name, const std::vector<int64_t>& dims = {}, int elem = ::onnx::TensorProto::FLOAT) {
    value_info(model_.mutable_graph()->add_output(), name, dims, elem);
  }
  void floats(const std::string& name, const std::vector<int64_t>& dims, const std::vector<float>& v) {
    auto* t = model_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(::onnx::TensorProto::FLOAT);
    for (int64_t d : dims) t->add_dims(d);
    t->set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4));
  }
  // Random weights in [-scale, scale].
  void random(const std::string& name, const std::vector<int64_t>& dims, float scale = 0.5f) {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    std::uniform_real_distribution<float> u(-scale, scale);
    std::vector<float> v(n);
    for (float& x : v) x = u(rng_);
    floats(name, dims, v);
  }
  void int64s(const std::string& name, const std::vector<int64_t>& dims, const std::vector<int64_t>& v) {
    auto* t = model_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(::onnx::TensorProto::INT64);
    for (int64_t d : dims) t->add_dims(d);
    for (int64_t x : v) t->add_int64_data(x);
  }
  ::onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& in, const std::vector<std::string>& out) {
    auto* n = model_.mutable_graph()->add_node();
    n->set_op_type(op);
    n->set_name(out.empty() ? op : out[0] + "_node");
    for (const auto& i : in) n->add_input(i);
    for (const auto& o : out) n->add_output(o);
    return *n;
  }
  static void attr(::onnx::NodeProto& n, const std::string& name, int64_t v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attr(::onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }
  static void attr_f(::onnx::NodeProto& n, const std::string& name, float v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  static void attr_s(::onnx::NodeProto& n, const std::string& name, const std::string& v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::STRING);
    a->set_s(v);
  }
  std::string bytes() const { return model_.SerializeAsString(); }
  std::filesystem::path save(const std::filesystem::path& path) const {
    EXPECT_TRUE(write_file_atomic(path, bytes()).ok());
    return path;
  }

 private:
  static void value_info(::onnx::ValueInfoProto* v, const std::string& name, const std::vector<int64_t>& dims, int elem) {
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(elem);
    if (!dims.empty()) {
      auto* s = tt->mutable_shape();
      for (int64_t d : dims) s->add_dim()->set_dim_value(d);
    }
  }
  ::onnx::ModelProto model_;
  std::mt19937 rng_{1234};
};

inline std::vector<float> random_floats(size_t n, float lo, float hi, uint32_t seed = 7) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

// NCHW -> NHWC for one image batch.
inline std::vector<float> nchw_to_nhwc(const std::vector<float>& x, int n, int c, int h, int w) {
  std::vector<float> y(x.size());
  for (int b = 0; b < n; ++b)
    for (int ci = 0; ci < c; ++ci)
      for (int i = 0; i < h * w; ++i) y[(b * h * w + i) * c + ci] = x[(b * c + ci) * h * w + i];
  return y;
}
inline std::vector<float> nchw_to_nhwc(const std::vector<float>& x, const std::vector<int32_t>& s) {
  return nchw_to_nhwc(x, s[0], s[1], s[2], s[3]);
}

inline void write_floats(const std::filesystem::path& p, const std::vector<float>& v) {
  ASSERT_TRUE(write_file_atomic(p, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(v.data()), v.size() * 4)).ok());
}

inline std::vector<float> read_floats(const std::filesystem::path& p) {
  auto bytes = read_file(p);
  if (!bytes.ok()) return {};
  std::vector<float> v(bytes->size() / 4);
  std::memcpy(v.data(), bytes->data(), v.size() * 4);
  return v;
}

// A tensor name as the peers write it into file names.
inline std::string sanitized(const std::string& name) {
  std::string s = name;
  for (char& c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) c = '_';
  return s;
}

// The out_<index>_<name>.bin files of a peer's --dump-dir, by (sanitized) tensor name. The
// index is the peer's own (ONNX Runtime sorts outputs by name; TFLite uses tensor ids).
inline std::map<std::string, std::vector<float>> read_dump(const std::filesystem::path& dir) {
  std::map<std::string, std::vector<float>> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (n.rfind("out_", 0) != 0 || n.size() < 9) continue;
    const size_t us = n.find('_', 4);
    if (us == std::string::npos) continue;
    out[n.substr(us + 1, n.size() - us - 5)] = read_floats(e.path());
  }
  return out;
}

// Runs a peer script; returns its output tensors by name, or fails the test.
inline std::map<std::string, std::vector<float>> run_peer(const std::string& script, const std::filesystem::path& model,
                                                          const std::filesystem::path& input,
                                                          const std::filesystem::path& dump) {
  std::filesystem::remove_all(dump);
  std::string out;
  const std::string cmd = ::qdet::testing::peer_command(script) + " '" + model.string() + "' --input '" +
                          input.string() + "' --warmup 0 --runs 1 --dump-dir '" + dump.string() + "'";
  const int rc = ::qdet::testing::run_command(cmd, &out);
  EXPECT_EQ(rc, 0) << cmd << "\n" << out;
  if (rc != 0) return {};
  return read_dump(dump);
}

// qdet's interpreter on `model` with float inputs; the outputs as floats.
inline std::vector<std::vector<float>> run_qdet(const graph::Model& model, const std::vector<std::vector<float>>& inputs,
                                                bool fast = true) {
  auto g = std::make_shared<const graph::Graph>(model.graph);
  rt::InterpreterOptions o;
  o.use_fast_kernels = fast;
  auto interp = rt::Interpreter::create(g, o);
  EXPECT_TRUE(interp.ok()) << interp.status().message();
  if (!interp.ok()) return {};
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto& t = (*interp)->input(i);
    EXPECT_EQ(t.byte_size(), inputs[i].size() * 4);
    if (t.byte_size() != inputs[i].size() * 4) return {};
    std::memcpy(t.data, inputs[i].data(), t.byte_size());
  }
  Status s = (*interp)->invoke();
  EXPECT_TRUE(s.ok()) << s.message();
  std::vector<std::vector<float>> outs;
  for (size_t i = 0; i < (*interp)->num_outputs(); ++i) {
    const auto& t = (*interp)->output(i);
    std::vector<float> v(t.byte_size() / 4);
    std::memcpy(v.data(), t.data, t.byte_size());
    outs.push_back(std::move(v));
  }
  return outs;
}

struct Diff {
  double max_abs_diff = 0, max_magnitude = 0;
  double relative() const { return max_magnitude > 0 ? max_abs_diff / max_magnitude : max_abs_diff; }
};
inline Diff compare(const std::vector<float>& a, const std::vector<float>& b) {
  Diff d;
  EXPECT_EQ(a.size(), b.size());
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    d.max_abs_diff = std::max(d.max_abs_diff, std::fabs(static_cast<double>(a[i]) - b[i]));
    d.max_magnitude = std::max(d.max_magnitude, std::fabs(static_cast<double>(a[i])));
  }
  return d;
}

}  // namespace qdet::convert::testing
