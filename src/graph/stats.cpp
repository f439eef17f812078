#include "graph/stats.h"
#include "graph/op_traits.h"

namespace qdet::graph {
namespace {

const Tensor* tensor_at(const Graph& g, const std::vector<int32_t>& ids, size_t i) {
  if (i >= ids.size() || ids[i] < 0 || static_cast<size_t>(ids[i]) >= g.tensors.size())
    return nullptr;
  return &g.tensors[ids[i]];
}

bool has_rank(const Tensor* t, size_t rank) { return t && t->shape.size() == rank; }

}  // namespace

int64_t op_macs(const Graph& g, const Op& op) {
  switch (op.kind) {
    case OpKind::kConv2d: {
      // output [N,Ho,Wo,Co], filter [Co,Kh,Kw,Ci/groups]
      const Tensor* w = tensor_at(g, op.inputs, 1);
      const Tensor* out = tensor_at(g, op.outputs, 0);
      if (!has_rank(w, 4) || !has_rank(out, 4)) return -1;
      return out->num_elements() * w->shape[1] * w->shape[2] * w->shape[3];
    }
    case OpKind::kDepthwiseConv2d: {
      // output [N,Ho,Wo,C], filter [1,Kh,Kw,C]
      const Tensor* w = tensor_at(g, op.inputs, 1);
      const Tensor* out = tensor_at(g, op.outputs, 0);
      if (!has_rank(w, 4) || !has_rank(out, 4)) return -1;
      return out->num_elements() * w->shape[1] * w->shape[2];
    }
    case OpKind::kFullyConnected: {
      // weights [units, depth]; every output element is a dot product of length depth
      const Tensor* w = tensor_at(g, op.inputs, 1);
      const Tensor* out = tensor_at(g, op.outputs, 0);
      if (!has_rank(w, 2) || !out || out->shape.empty()) return -1;
      return out->num_elements() * w->shape[1];
    }
    case OpKind::kTransposeConv: {
      // inputs: output_shape, filter [Co,Kh,Kw,Ci], input [N,H,W,Ci]: every input element
      // scatters into Kh*Kw*Co outputs
      const Tensor* w = tensor_at(g, op.inputs, 1);
      const Tensor* in = tensor_at(g, op.inputs, 2);
      if (!has_rank(w, 4) || !has_rank(in, 4)) return -1;
      return in->num_elements() * w->shape[0] * w->shape[1] * w->shape[2];
    }
    default:
      return 0;
  }
}

DType op_mac_precision(const Graph& g, const Op& op) {
  const auto data_input = static_cast<size_t>(op_traits(op.kind).data_input());
  const Tensor* in = tensor_at(g, op.inputs, data_input);
  const Tensor* w = tensor_at(g, op.inputs, 1);
  DType precision = in ? in->dtype : DType::kFloat32;
  if (w && dtype_traits(precision).is_float && w->dtype == DType::kInt8) precision = DType::kInt8;
  return precision;
}

GraphStats compute_stats(const Graph& g) {
  GraphStats s;
  for (const Tensor& t : g.tensors) {
    if (!t.is_constant()) continue;
    s.parameters += t.num_elements();
    s.constant_bytes[t.dtype] += static_cast<int64_t>(t.data.size());
  }
  for (const Op& op : g.ops) {
    s.op_counts[op.name()] += 1;
    const int64_t macs = op_macs(g, op);
    if (macs < 0) {
      ++s.ops_without_macs;
      continue;
    }
    if (macs == 0) continue;
    s.macs[op_mac_precision(g, op)] += macs;
    s.total_macs += macs;
  }
  return s;
}

}  // namespace qdet::graph
