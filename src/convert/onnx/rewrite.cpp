// ONNX-level rewrites before lowering: BatchNormalization folded into the Conv before it, and
// a zero Pad folded into the Conv after it (so that the conv can decide SAME/VALID/PAD once).
#include "convert/onnx/rewrite.h"

#include <cmath>
#include <map>
#include <set>

namespace qdet::convert::onnx {
namespace {

// How many places read each value (node inputs and graph outputs).
std::map<std::string, int> use_counts(const Model& m) {
  std::map<std::string, int> uses;
  for (const auto& n : m.nodes)
    for (const auto& i : n.inputs)
      if (!i.empty()) ++uses[i];
  for (const auto& o : m.outputs) ++uses[o.name];
  return uses;
}

bool is_default_domain(const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

const HostTensor* initializer(const Model& m, const std::string& name) {
  auto it = m.initializers.find(name);
  return it == m.initializers.end() ? nullptr : &it->second;
}

// A fresh initializer name based on `base`.
std::string fresh_name(const Model& m, const std::string& base) {
  if (!m.initializers.count(base)) return base;
  for (int i = 1;; ++i) {
    std::string n = base + "_" + std::to_string(i);
    if (!m.initializers.count(n)) return n;
  }
}

// Conv(x, W, b) -> BatchNormalization: W' = W * s, b' = (b - mean) * s + beta with
// s = gamma / sqrt(var + eps), per output channel.
bool fold_batch_norm(Model& m, size_t conv_index, size_t bn_index) {
  Node& conv = m.nodes[conv_index];
  const Node& bn = m.nodes[bn_index];
  const HostTensor* w = initializer(m, conv.input(1));
  if (!w || w->dtype != DType::kFloat32 || w->shape.size() < 3) return false;
  const int32_t oc = w->shape[0];
  std::vector<float> p[4];
  for (int i = 0; i < 4; ++i) {
    const HostTensor* t = initializer(m, bn.input(i + 1));
    if (!t) return false;
    auto v = t->as_floats();
    if (!v.ok() || v->size() != static_cast<size_t>(oc)) return false;
    p[i] = *v;
  }
  std::vector<float> bias(oc, 0.f);
  if (!conv.input(2).empty()) {
    const HostTensor* b = initializer(m, conv.input(2));
    if (!b) return false;
    auto v = b->as_floats();
    if (!v.ok() || v->size() != static_cast<size_t>(oc)) return false;
    bias = *v;
  }
  const float eps = bn.get_float("epsilon", 1e-5f);
  auto wv = *w->as_floats();
  const size_t per_out = wv.size() / oc;
  for (int32_t o = 0; o < oc; ++o) {
    const float s = p[0][o] / std::sqrt(p[3][o] + eps);
    for (size_t j = 0; j < per_out; ++j) wv[o * per_out + j] *= s;
    bias[o] = (bias[o] - p[2][o]) * s + p[1][o];
  }
  const std::string wname = fresh_name(m, conv.input(1) + "_bn");
  const std::string bname = fresh_name(m, bn.input(2) + "_folded");
  m.initializers[wname] = HostTensor::from_floats(w->shape, wv);
  m.initializers[bname] = HostTensor::from_floats({oc}, bias);
  conv.inputs.resize(3);
  conv.inputs[1] = wname;
  conv.inputs[2] = bname;
  conv.outputs = {bn.outputs.at(0)};
  return true;
}

// Pad(x, pads) -> Conv with a constant zero pad on H and W only: the pads move into the conv.
bool fold_pad(Model& m, const Node& pad, Node& conv) {
  if (pad.get_string("mode", "constant") != "constant") return false;
  if (conv.get_string("auto_pad", "NOTSET") != "NOTSET") return false;
  std::vector<int64_t> pads;
  if (m.opset < 11) {
    pads = pad.get_ints("pads");
    if (pad.get_float("value", 0.f) != 0.f) return false;
  } else {
    const HostTensor* p = initializer(m, pad.input(1));
    if (!p) return false;
    auto v = p->as_int64s();
    if (!v.ok()) return false;
    pads = *v;
    if (!pad.input(2).empty()) {
      const HostTensor* c = initializer(m, pad.input(2));
      if (!c) return false;
      auto cv = c->as_floats();
      if (!cv.ok() || cv->size() != 1 || (*cv)[0] != 0.f) return false;
    }
  }
  if (pads.size() != 8 || pads[0] || pads[1] || pads[4] || pads[5]) return false;
  for (int64_t v : pads)
    if (v < 0) return false;
  std::vector<int64_t> cp = conv.get_ints("pads");
  if (cp.empty()) cp = {0, 0, 0, 0};
  if (cp.size() != 4) return false;
  cp[0] += pads[2];
  cp[1] += pads[3];
  cp[2] += pads[6];
  cp[3] += pads[7];
  bool found = false;
  for (auto& a : conv.attributes)
    if (a.name == "pads") {
      a.ints = cp;
      found = true;
    }
  if (!found) {
    Attribute a;
    a.name = "pads";
    a.type = Attribute::Type::kInts;
    a.ints = cp;
    conv.attributes.push_back(a);
  }
  conv.inputs[0] = pad.inputs.at(0);
  return true;
}

}  // namespace

void rewrite_model(Model& m) {
  bool changed = true;
  while (changed) {
    changed = false;
    auto uses = use_counts(m);
    std::map<std::string, size_t> producer;
    for (size_t i = 0; i < m.nodes.size(); ++i)
      for (const auto& o : m.nodes[i].outputs) producer[o] = i;
    std::set<size_t> removed;
    for (size_t i = 0; i < m.nodes.size(); ++i) {
      Node& n = m.nodes[i];
      if (!is_default_domain(n) || n.inputs.empty()) continue;
      auto it = producer.find(n.inputs[0]);
      if (it == producer.end() || removed.count(it->second)) continue;
      Node& prev = m.nodes[it->second];
      if (!is_default_domain(prev) || uses[n.inputs[0]] != 1) continue;
      if (n.op_type == "BatchNormalization" && prev.op_type == "Conv" && n.outputs.size() >= 1 &&
          (n.outputs.size() == 1 || n.outputs[1].empty())) {
        if (fold_batch_norm(m, it->second, i)) {
          removed.insert(i);
          changed = true;
        }
      } else if (n.op_type == "Conv" && prev.op_type == "Pad") {
        if (fold_pad(m, prev, n)) {
          removed.insert(it->second);
          changed = true;
        }
      }
      if (changed) break;  // indices shift: start over
    }
    if (changed) {
      std::vector<Node> kept;
      for (size_t i = 0; i < m.nodes.size(); ++i)
        if (!removed.count(i)) kept.push_back(std::move(m.nodes[i]));
      m.nodes = std::move(kept);
    }
  }
}

}  // namespace qdet::convert::onnx
