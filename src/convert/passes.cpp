#include "convert/passes.h"

#include <algorithm>
#include <cstring>

namespace qdet::convert {

using graph::Activation;
using graph::OpKind;

namespace {

bool has_fused_activation(OpKind k) {
  switch (k) {
    case OpKind::kConv2d:
    case OpKind::kDepthwiseConv2d:
    case OpKind::kFullyConnected:
    case OpKind::kAdd:
    case OpKind::kSub:
    case OpKind::kMul:
    case OpKind::kAveragePool2d:
    case OpKind::kMaxPool2d:
      return true;
    default:
      return false;
  }
}

std::optional<Activation> activation_of(OpKind k) {
  switch (k) {
    case OpKind::kRelu: return Activation::kRelu;
    case OpKind::kRelu6: return Activation::kRelu6;
    case OpKind::kReluN1To1: return Activation::kReluN1To1;
    default: return std::nullopt;
  }
}

// The shape of both folds below: an op whose first input is the single output of an op that only
// it reads (and that is not a graph output) may be merged into that producer. `merge(producer,
// op, consumers)` decides, and changes the producer only when it returns true; then the producer
// takes the op's output and the op is dropped. Returns how many ops were merged.
template <typename Merge>
int merge_into_producers(graph::Graph& g, Merge merge) {
  int merged = 0;
  const auto producers = g.producers();
  const auto consumers = g.consumers();
  std::vector<char> is_output(g.tensors.size(), 0);
  for (int32_t o : g.outputs) is_output[o] = 1;
  std::vector<char> dead(g.ops.size(), 0);
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const graph::Op& op = g.ops[i];
    if (op.inputs.empty() || op.outputs.empty()) continue;
    const int32_t t = op.inputs[0];
    const int32_t p = t < 0 ? -1 : producers[t];
    if (p < 0 || dead[p] || is_output[t] || consumers[t].size() != 1) continue;
    graph::Op& prev = g.ops[p];
    if (prev.outputs.size() != 1 || !merge(prev, op, consumers)) continue;
    prev.outputs[0] = op.outputs[0];
    dead[i] = 1;
    ++merged;
  }
  if (merged) {
    std::vector<graph::Op> kept;
    for (size_t i = 0; i < g.ops.size(); ++i)
      if (!dead[i]) kept.push_back(std::move(g.ops[i]));
    g.ops = std::move(kept);
  }
  return merged;
}

}  // namespace

int fuse_activations(graph::Graph& g) {
  return merge_into_producers(g, [&](graph::Op& prev, const graph::Op& act, const auto&) {
    const auto a = activation_of(act.kind);
    if (!a || act.inputs.size() != 1) return false;
    if (!has_fused_activation(prev.kind) || prev.attrs.activation != Activation::kNone) return false;
    if (g.tensors[act.inputs[0]].dtype != DType::kFloat32) return false;
    prev.attrs.activation = *a;
    return true;
  });
}

namespace {

// The GATHER's indices when they permute the last axis of its input, else empty.
std::vector<int32_t> channel_permutation(const graph::Graph& g, const graph::Op& op) {
  if (op.inputs.size() != 2 || op.outputs.size() != 1) return {};
  const graph::Tensor& in = g.tensors[op.inputs[0]];
  const graph::Tensor& idx = g.tensors[op.inputs[1]];
  const auto rank = static_cast<int32_t>(in.shape.size());
  if (rank == 0 || (op.attrs.axis != rank - 1 && op.attrs.axis != -1)) return {};
  if (idx.dtype != DType::kInt32 || !idx.is_constant() || idx.shape.size() != 1 || idx.shape[0] != in.shape.back())
    return {};
  std::vector<int32_t> perm(static_cast<size_t>(idx.shape[0]));
  std::memcpy(perm.data(), idx.data.data(), perm.size() * 4);
  std::vector<char> seen(perm.size(), 0);
  for (int32_t p : perm) {
    if (p < 0 || static_cast<size_t>(p) >= perm.size() || seen[static_cast<size_t>(p)]) return {};
    seen[static_cast<size_t>(p)] = 1;
  }
  return perm;
}

// Rows of a constant float tensor [rows, ...] reordered: new row r = old row perm[r].
void permute_rows(graph::Tensor& t, const std::vector<int32_t>& perm) {
  const size_t row = t.data.size() / perm.size();
  std::vector<uint8_t> out(t.data.size());
  for (size_t r = 0; r < perm.size(); ++r)
    std::memcpy(out.data() + r * row, t.data.data() + static_cast<size_t>(perm[r]) * row, row);
  t.data = std::move(out);
}

}  // namespace

int fold_channel_gathers(graph::Graph& g) {
  return merge_into_producers(g, [&](graph::Op& prev, const graph::Op& gather, const auto& consumers) {
    if (gather.kind != OpKind::kGather) return false;
    const std::vector<int32_t> perm = channel_permutation(g, gather);
    if (perm.empty()) return false;
    if ((prev.kind != OpKind::kConv2d && prev.kind != OpKind::kFullyConnected) || prev.inputs.size() < 2)
      return false;
    auto foldable = [&](int32_t id, size_t rank_at_least) {
      if (id < 0) return true;
      const graph::Tensor& c = g.tensors[id];
      return c.is_constant() && c.dtype == DType::kFloat32 && c.shape.size() >= rank_at_least &&
             c.shape[0] == static_cast<int32_t>(perm.size()) && consumers[id].size() == 1;
    };
    const int32_t w = prev.inputs[1], b = prev.inputs.size() > 2 ? prev.inputs[2] : -1;
    if (!foldable(w, 2) || !foldable(b, 1)) return false;
    permute_rows(g.tensors[w], perm);
    if (b >= 0) permute_rows(g.tensors[b], perm);
    return true;
  });
}

int remove_unused(graph::Graph& g) {
  const size_t n = g.tensors.size();
  std::vector<char> needed(n, 0);
  for (int32_t o : g.outputs) needed[o] = 1;
  std::vector<char> keep_op(g.ops.size(), 0);
  int removed = 0;
  for (size_t i = g.ops.size(); i-- > 0;) {
    const auto& op = g.ops[i];
    bool used = std::any_of(op.outputs.begin(), op.outputs.end(), [&](int32_t t) { return t >= 0 && needed[t]; });
    if (!used) {
      ++removed;
      continue;
    }
    keep_op[i] = 1;
    for (int32_t t : op.inputs)
      if (t >= 0) needed[t] = 1;
  }
  for (int32_t t : g.inputs) needed[t] = 1;
  std::vector<graph::Op> ops;
  for (size_t i = 0; i < g.ops.size(); ++i)
    if (keep_op[i]) {
      for (int32_t t : g.ops[i].outputs) needed[t] = 1;
      ops.push_back(std::move(g.ops[i]));
    }
  std::vector<int32_t> remap(n, -1);
  std::vector<graph::Tensor> tensors;
  for (size_t t = 0; t < n; ++t)
    if (needed[t]) {
      remap[t] = static_cast<int32_t>(tensors.size());
      tensors.push_back(std::move(g.tensors[t]));
    }
  auto fix = [&](std::vector<int32_t>& ids) {
    for (int32_t& id : ids)
      if (id >= 0) id = remap[id];
  };
  for (auto& op : ops) {
    fix(op.inputs);
    fix(op.outputs);
  }
  fix(g.inputs);
  fix(g.outputs);
  g.ops = std::move(ops);
  g.tensors = std::move(tensors);
  return removed;
}

}  // namespace qdet::convert
