#include "graph/graph.h"

#include <algorithm>

namespace qdet::graph {

int32_t Graph::add_tensor(Tensor t) {
  tensors.push_back(std::move(t));
  return static_cast<int32_t>(tensors.size() - 1);
}

void Graph::add_op(OpKind kind, std::vector<int32_t> op_inputs, std::vector<int32_t> op_outputs, OpAttrs attrs) {
  Op op;
  op.kind = kind;
  op.inputs = std::move(op_inputs);
  op.outputs = std::move(op_outputs);
  op.attrs = std::move(attrs);
  ops.push_back(std::move(op));
}

std::vector<int32_t> Graph::producers() const {
  std::vector<int32_t> p(tensors.size(), -1);
  for (size_t i = 0; i < ops.size(); ++i)
    for (int32_t t : ops[i].outputs)
      if (t >= 0 && static_cast<size_t>(t) < tensors.size()) p[t] = static_cast<int32_t>(i);
  return p;
}

std::vector<std::vector<int32_t>> Graph::consumers() const {
  std::vector<std::vector<int32_t>> c(tensors.size());
  for (size_t i = 0; i < ops.size(); ++i)
    for (int32_t t : ops[i].inputs)
      if (t >= 0 && static_cast<size_t>(t) < tensors.size()) c[t].push_back(static_cast<int32_t>(i));
  return c;
}

bool Graph::read_only_by(int32_t tensor, int32_t op, const std::vector<std::vector<int32_t>>& consumers) const {
  return tensor >= 0 && static_cast<size_t>(tensor) < tensors.size() && consumers[tensor].size() == 1 &&
         consumers[tensor][0] == op && !tensors[tensor].is_variable &&
         std::find(outputs.begin(), outputs.end(), tensor) == outputs.end();
}

Status Graph::verify() const {
  const auto n = static_cast<int32_t>(tensors.size());
  for (int32_t id = 0; id < n; ++id) {
    const Tensor& t = tensors[id];
    if (t.dtype == DType::kUnknown || t.dtype == DType::kCount)
      return invalid_argument("tensor {} ('{}') has an unsupported dtype", id, t.name);
    auto count = checked_num_elements(t.shape);
    if (!count)
      return invalid_argument("tensor {} ('{}') has an invalid shape {}", id, t.name,
                              shape_to_string(t.shape));
    if (t.is_constant() && t.data.size() != static_cast<size_t>(*count) * dtype_size(t.dtype))
      return invalid_argument("tensor {} ('{}'): {} bytes of data for shape {} of {}", id, t.name,
                              t.data.size(), shape_to_string(t.shape), dtype_name(t.dtype));
    if (!t.quant.empty()) {
      if (t.quant.zero_point.size() != t.quant.scale.size())
        return invalid_argument("tensor {} ('{}'): {} scales but {} zero points", id, t.name,
                                t.quant.scale.size(), t.quant.zero_point.size());
      if (t.quant.per_axis()) {
        int32_t qd = t.quant.quantized_dimension;
        if (qd < 0 || static_cast<size_t>(qd) >= t.shape.size() ||
            t.shape[qd] != static_cast<int32_t>(t.quant.scale.size()))
          return invalid_argument("tensor {} ('{}'): {} scales do not match dimension {} of {}",
                                  id, t.name, t.quant.scale.size(), qd, shape_to_string(t.shape));
      }
    }
  }
  std::vector<char> available(n, 0);
  for (int32_t id = 0; id < n; ++id) available[id] = tensors[id].is_constant();
  for (int32_t id : inputs) {
    if (id < 0 || id >= n) return out_of_range("graph input refers to tensor {} of {}", id, n);
    available[id] = 1;
  }
  std::vector<char> produced(n, 0);
  for (size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    for (int32_t id : op.inputs) {
      if (id == -1) continue;
      if (id < 0 || id >= n)
        return out_of_range("op {} ({}) input refers to tensor {} of {}", i, op.name(), id, n);
      if (!available[id] && !tensors[id].is_variable)
        return invalid_argument("op {} ({}) reads tensor {} ('{}') before it is produced", i,
                                op.name(), id, tensors[id].name);
    }
    for (int32_t id : op.outputs) {
      if (id < 0 || id >= n)
        return out_of_range("op {} ({}) output refers to tensor {} of {}", i, op.name(), id, n);
      if (produced[id])
        return invalid_argument("tensor {} ('{}') is produced by more than one op", id,
                                tensors[id].name);
      if (tensors[id].is_constant())
        return invalid_argument("op {} ({}) writes constant tensor {} ('{}')", i, op.name(), id,
                                tensors[id].name);
      produced[id] = 1;
      available[id] = 1;
    }
  }
  for (int32_t id : outputs) {
    if (id < 0 || id >= n) return out_of_range("graph output refers to tensor {} of {}", id, n);
    if (!available[id])
      return invalid_argument("graph output tensor {} ('{}') is never produced", id, tensors[id].name);
  }
  return ok_status();
}

std::vector<int32_t> remove_unused_tensors(Model& model) {
  Graph& g = model.graph;
  std::vector<char> used(g.tensors.size(), 0);
  for (const auto& op : g.ops) {
    for (int32_t t : op.inputs) if (t >= 0) used[t] = 1;
    for (int32_t t : op.outputs) if (t >= 0) used[t] = 1;
  }
  for (int32_t t : g.inputs) used[t] = 1;
  for (int32_t t : g.outputs) used[t] = 1;
  std::vector<int32_t> map(g.tensors.size(), -1);
  std::vector<Tensor> kept;
  for (size_t i = 0; i < g.tensors.size(); ++i)
    if (used[i]) {
      map[i] = static_cast<int32_t>(kept.size());
      kept.push_back(std::move(g.tensors[i]));
    }
  g.tensors = std::move(kept);
  auto remap = [&](std::vector<int32_t>& ids) {
    for (int32_t& t : ids) if (t >= 0) t = map[t];
  };
  for (auto& op : g.ops) {
    remap(op.inputs);
    remap(op.outputs);
  }
  remap(g.inputs);
  remap(g.outputs);
  for (auto& sig : model.signatures) {
    for (auto& st : sig.inputs) if (st.tensor >= 0) st.tensor = map[st.tensor];
    for (auto& st : sig.outputs) if (st.tensor >= 0) st.tensor = map[st.tensor];
  }
  return map;
}

}  // namespace qdet::graph
