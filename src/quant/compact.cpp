// Compaction: lossless size reductions of a finished model (modes.h).
#include <fmt/format.h>

#include <cstring>
#include <set>

#include "quant/graph_edit.h"
#include "quant/modes.h"
#include "tensor/fp16.h"

namespace qdet::quant {

namespace {

// The values of a constant int32 or int64 tensor; empty for anything else.
std::vector<int64_t> constant_ints(const Tensor& t) {
  std::vector<int64_t> v;
  if (!t.is_constant()) return v;
  if (t.dtype == DType::kInt32) {
    v.resize(t.data.size() / 4);
    for (size_t i = 0; i < v.size(); ++i) {
      int32_t x;
      std::memcpy(&x, t.data.data() + 4 * i, 4);
      v[i] = x;
    }
  } else if (t.dtype == DType::kInt64) {
    v.resize(t.data.size() / 8);
    std::memcpy(v.data(), t.data.data(), v.size() * 8);
  }
  return v;
}

// The PAD paddings ([rank, 2], flattened) equivalent to SCATTER_ND op `op`, or empty when its
// indices are not one dense box written in order (modes.h scatter_nd_to_pad).
std::vector<int32_t> scatter_as_padding(const Graph& g, const Op& op) {
  constexpr size_t kMaxRank = 4;  // TFLite's PAD version 1
  if (op.inputs.size() != 3 || op.outputs.size() != 1) return {};
  for (int32_t t : op.inputs) if (t < 0) return {};
  const Tensor& indices = g.tensors[op.inputs[0]];
  const Tensor& updates = g.tensors[op.inputs[1]];
  const Tensor& out = g.tensors[op.outputs[0]];
  if (updates.dtype != DType::kFloat32 || updates.is_constant() || out.dtype != DType::kFloat32) return {};
  const std::vector<int64_t> index = constant_ints(indices);
  const std::vector<int64_t> shape = constant_ints(g.tensors[op.inputs[2]]);
  const size_t rank = shape.size();
  if (index.empty() || rank == 0 || rank > kMaxRank || indices.shape.empty()) return {};
  if (out.shape.size() != rank || !std::equal(shape.begin(), shape.end(), out.shape.begin())) return {};
  // indices [u_0, ..., u_{k-1}, k]: each of the k leading positions addresses one dimension.
  const size_t k = static_cast<size_t>(indices.shape.back());
  if (k < 1 || k > rank || indices.shape.size() != k + 1) return {};
  if (updates.shape.size() != rank) return {};
  for (size_t d = 0; d < rank; ++d) {
    const int64_t extent = d < k ? indices.shape[d] : shape[d];
    if (updates.shape[d] != extent || extent < 1) return {};
  }
  if (static_cast<int64_t>(index.size()) != indices.num_elements()) return {};
  std::vector<int64_t> begin(index.begin(), index.begin() + static_cast<std::ptrdiff_t>(k));
  for (size_t d = 0; d < k; ++d)
    if (begin[d] < 0 || begin[d] + indices.shape[d] > shape[d]) return {};
  // Every position u must hold begin + u (row-major walk over the k leading dimensions).
  std::vector<int64_t> u(k, 0);
  for (size_t at = 0; at < index.size(); at += k) {
    for (size_t d = 0; d < k; ++d)
      if (index[at + d] != begin[d] + u[d]) return {};
    for (size_t d = k; d-- > 0;) {
      if (++u[d] < indices.shape[d]) break;
      u[d] = 0;
    }
  }
  std::vector<int32_t> paddings(2 * rank, 0);
  for (size_t d = 0; d < k; ++d) {
    paddings[2 * d] = static_cast<int32_t>(begin[d]);
    paddings[2 * d + 1] = static_cast<int32_t>(shape[d] - begin[d] - indices.shape[d]);
  }
  return paddings;
}

bool exact_in_fp16(const Tensor& t) {
  for (size_t i = 0; i + 4 <= t.data.size(); i += 4) {
    float v, back;
    std::memcpy(&v, t.data.data() + i, 4);
    back = fp16_to_fp32(fp32_to_fp16(v));
    if (std::memcmp(&v, &back, 4) != 0) return false;
  }
  return true;
}

size_t constant_bytes(const Graph& g) {
  size_t n = 0;
  for (const auto& t : g.tensors) n += t.data.size();
  return n;
}

// Identity map for a pass that changed no tensor ids.
void identity_map(std::vector<int32_t>* id_map, size_t n) {
  if (!id_map) return;
  id_map->resize(n);
  for (size_t i = 0; i < n; ++i) (*id_map)[i] = static_cast<int32_t>(i);
}

}  // namespace

Status scatter_nd_to_pad(graph::Model& model, Notes* notes, std::vector<int32_t>* id_map) {
  Graph& g = model.graph;
  const size_t tensors_before = g.tensors.size();
  const size_t bytes_before = constant_bytes(g);
  int replaced = 0;
  for (auto& op : g.ops) {
    if (op.kind != OpKind::kScatterNd) continue;
    const std::vector<int32_t> paddings = scatter_as_padding(g, op);
    if (paddings.empty()) continue;
    Tensor pad;
    pad.name = unique_tensor_name(g, g.tensors[op.outputs[0]].name + "_paddings");
    pad.dtype = DType::kInt32;
    pad.shape = {static_cast<int32_t>(paddings.size() / 2), 2};
    pad.data.resize(paddings.size() * 4);
    std::memcpy(pad.data.data(), paddings.data(), pad.data.size());
    const int32_t updates = op.inputs[1];
    const int32_t pad_id = g.add_tensor(std::move(pad));
    op.kind = OpKind::kPad;
    op.version = 1;
    op.inputs = {updates, pad_id};
    op.attrs = {};
    ++replaced;
  }
  if (replaced == 0) {
    identity_map(id_map, tensors_before);
    return ok_status();
  }
  auto map = remove_unused_tensors(model);
  QDET_TRY(g.verify().with_context("SCATTER_ND -> PAD"));
  if (id_map) {
    map.resize(tensors_before);
    *id_map = std::move(map);
  }
  if (notes)
    notes->info.push_back(fmt::format(
        "compaction: {} SCATTER_ND with constant dense-box indices became PAD ({} bytes of index "
        "tables dropped)", replaced, bytes_before - constant_bytes(g)));
  return ok_status();
}

Status exact_fp16_constants(graph::Model& model, Notes* notes, int64_t min_elements,
                            std::vector<int32_t>* id_map) {
  const Graph& g = model.graph;
  const auto consumers = g.consumers();
  std::set<int32_t> outputs(g.outputs.begin(), g.outputs.end());
  auto elementwise = [](OpKind k) {
    return k == OpKind::kAdd || k == OpKind::kSub || k == OpKind::kMul || k == OpKind::kDiv ||
           k == OpKind::kMaximum || k == OpKind::kMinimum;
  };
  std::set<int32_t> chosen;
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    const Tensor& c = g.tensors[t];
    if (!c.is_constant() || c.dtype != DType::kFloat32 || c.num_elements() < min_elements) continue;
    if (consumers[t].empty() || outputs.count(static_cast<int32_t>(t))) continue;
    bool readers_ok = true;
    for (int32_t op : consumers[t]) {
      const Op& o = g.ops[op];
      readers_ok = readers_ok && elementwise(o.kind) && !o.outputs.empty() && o.outputs[0] >= 0 &&
                   g.tensors[o.outputs[0]].dtype == DType::kFloat32;
    }
    if (readers_ok && exact_in_fp16(c)) chosen.insert(static_cast<int32_t>(t));
  }
  if (chosen.empty()) {
    identity_map(id_map, g.tensors.size());
    return ok_status();
  }
  int converted = 0;
  size_t saved = 0;
  QDET_ASSIGN_OR_RETURN(
      model, constants_to_fp16(model, [&](int32_t, int32_t t) { return chosen.count(t) > 0; },
                               &converted, &saved, id_map));
  if (notes)
    notes->info.push_back(fmt::format(
        "compaction: {} float32 tables that float16 holds exactly stored as float16 ({} bytes saved)",
        converted, saved));
  return ok_status();
}

}  // namespace qdet::quant
