#include "convert/onnx/context.h"

#include <fmt/format.h>

namespace qdet::convert::onnx {

using graph::OpAttrs;
using graph::OpKind;

Result<const Value*> Context::input(const Node& node, size_t index) const {
  const std::string& name = node.input(index);
  if (name.empty())
    return node_error(StatusCode::kInvalidArgument, node, "input {} is missing", index);
  auto it = values_.find(name);
  if (it == values_.end())
    return node_error(StatusCode::kInvalidArgument, node, "input '{}' is not produced by any earlier node", name);
  return &it->second;
}

Result<const HostTensor*> Context::constant_input(const Node& node, size_t index, std::string_view role) const {
  QDET_ASSIGN_OR_RETURN(const Value* v, input(node, index));
  if (!v->is_constant())
    return node_error(StatusCode::kUnsupported, node, "input '{}' ({}) must be a constant", node.input(index), role);
  return &*v->constant;
}

bool Context::has_input(const Node& node, size_t index) const { return !node.input(index).empty(); }

const Value* Context::find(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? nullptr : &it->second;
}

void Context::set_constant(const std::string& name, HostTensor t) {
  Value v;
  v.shape = t.shape;
  v.dtype = t.dtype;
  v.constant = std::move(t);
  values_[name] = std::move(v);
}

void Context::set_activation(const std::string& name, int32_t tensor, Perm perm, Shape shape, DType dtype) {
  Value v;
  v.tensor = tensor;
  v.perm = std::move(perm);
  v.shape = std::move(shape);
  v.dtype = dtype;
  values_[name] = std::move(v);
}

std::string Context::unique_name(const std::string& base) {
  int32_t& n = name_count_[base];
  return n++ == 0 ? base : fmt::format("{}_{}", base, n - 1);
}

int32_t Context::add_constant(const HostTensor& t, const std::string& name) {
  graph::Tensor gt;
  gt.name = unique_name(name);
  gt.dtype = t.dtype;
  gt.shape = t.shape;
  gt.data = t.data;
  return graph_.add_tensor(std::move(gt));
}

int32_t Context::add_constant(const HostTensor& t, const Perm& perm, const std::string& name) {
  return add_constant(transpose(t, perm), name);
}

int32_t Context::add_int32_vector(std::span<const int32_t> values, const std::string& name) {
  return add_constant(HostTensor::from_int32s({static_cast<int32_t>(values.size())}, values), name);
}

int32_t Context::add_activation(const std::string& name, DType dtype, Shape tflite_shape) {
  graph::Tensor gt;
  gt.name = unique_name(name);
  gt.dtype = dtype;
  gt.shape = std::move(tflite_shape);
  return graph_.add_tensor(std::move(gt));
}

void Context::add_op(OpKind kind, std::vector<int32_t> inputs, std::vector<int32_t> outputs, OpAttrs attrs) {
  graph_.add_op(kind, std::move(inputs), std::move(outputs), std::move(attrs));
}

Result<int32_t> Context::tensor_in(const std::string& name, const Perm& perm) {
  const Value* v = find(name);
  if (!v) return internal_error("{}: value '{}' is unknown", model_.source, name);
  if (perm.size() != v->shape.size())
    return internal_error("{}: layout {} for '{}' of rank {}", model_.source, perm_to_string(perm), name,
                          v->shape.size());
  const std::string key = fmt::format("{}|{}", name, perm_to_string(perm));
  if (auto it = converted_.find(key); it != converted_.end()) return it->second;
  int32_t id;
  if (v->is_constant()) {
    id = add_constant(*v->constant, perm, name);
  } else if (v->perm == perm) {
    id = v->tensor;
  } else {
    const Shape out_shape = apply_perm(v->shape, perm);
    const int32_t src = v->tensor;
    const DType dtype = v->dtype;
    if (same_data_order(v->shape, v->perm, perm)) {
      if (graph_.tensors[src].shape == out_shape) {
        id = src;
      } else {
        id = add_activation(name + "/reshaped", dtype, out_shape);
        const int32_t shape_id = add_int32_vector(out_shape, name + "/shape");
        add_op(OpKind::kReshape, {src, shape_id}, {id});
      }
    } else {
      const Perm t = relative_perm(v->perm, perm);
      id = add_activation(name + "/transposed", dtype, out_shape);
      const int32_t perm_id = add_int32_vector(t, name + "/perm");
      add_op(OpKind::kTranspose, {src, perm_id}, {id});
    }
  }
  converted_[key] = id;
  return id;
}

Result<int32_t> Context::tensor_broadcast_in(const std::string& name, size_t rank, const Perm& perm) {
  const Value* v = find(name);
  if (!v) return internal_error("{}: value '{}' is unknown", model_.source, name);
  if (v->shape.size() == rank) return tensor_in(name, perm);
  if (v->shape.size() > rank)
    return internal_error("{}: '{}' of rank {} broadcast to rank {}", model_.source, name, v->shape.size(), rank);
  const size_t lead = rank - v->shape.size();
  Shape expanded(lead, 1);
  expanded.insert(expanded.end(), v->shape.begin(), v->shape.end());
  if (v->is_constant()) {
    HostTensor t = *v->constant;
    t.shape = expanded;
    return add_constant(t, perm, name);
  }
  // A new ONNX-level value of the higher rank: the leading 1s go first in its layout.
  const std::string alias = fmt::format("{}/rank{}", name, rank);
  if (!find(alias)) {
    Perm p = identity_perm(lead);
    for (int32_t d : v->perm) p.push_back(d + static_cast<int32_t>(lead));
    const int32_t src = v->tensor;
    const DType dtype = v->dtype;
    // The TFLite tensor keeps its rank: register the rank change as a reshape.
    const Shape tshape = apply_perm(expanded, p);
    const int32_t id = add_activation(alias, dtype, tshape);
    const int32_t shape_id = add_int32_vector(tshape, alias + "/shape");
    add_op(OpKind::kReshape, {src, shape_id}, {id});
    set_activation(alias, id, p, expanded, dtype);
  }
  return tensor_in(alias, perm);
}

}  // namespace qdet::convert::onnx
