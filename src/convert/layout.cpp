#include "convert/layout.h"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace qdet::convert {

Perm identity_perm(size_t rank) {
  Perm p(rank);
  std::iota(p.begin(), p.end(), 0);
  return p;
}

Perm channels_last_perm(size_t rank) {
  if (rank < 3) return identity_perm(rank);
  Perm p{0};
  for (size_t i = 2; i < rank; ++i) p.push_back(static_cast<int32_t>(i));
  p.push_back(1);
  return p;
}

bool is_permutation(std::span<const int32_t> perm, size_t rank) {
  if (perm.size() != rank) return false;
  std::vector<char> seen(rank, 0);
  for (int32_t v : perm) {
    if (v < 0 || static_cast<size_t>(v) >= rank || seen[v]) return false;
    seen[v] = 1;
  }
  return true;
}

Perm inverse_perm(std::span<const int32_t> perm) {
  Perm inv(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) inv[perm[i]] = static_cast<int32_t>(i);
  return inv;
}

Shape apply_perm(const Shape& source, std::span<const int32_t> perm) {
  Shape out(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) out[i] = source[perm[i]];
  return out;
}

int32_t tflite_axis(std::span<const int32_t> perm, int32_t axis) {
  for (size_t i = 0; i < perm.size(); ++i)
    if (perm[i] == axis) return static_cast<int32_t>(i);
  return -1;
}

bool same_data_order(const Shape& source, std::span<const int32_t> a, std::span<const int32_t> b) {
  std::vector<int32_t> na, nb;
  for (int32_t v : a)
    if (source[v] != 1) na.push_back(v);
  for (int32_t v : b)
    if (source[v] != 1) nb.push_back(v);
  return na == nb;
}

Perm relative_perm(std::span<const int32_t> from, std::span<const int32_t> to) {
  Perm inv = inverse_perm(from);
  Perm t(to.size());
  for (size_t i = 0; i < to.size(); ++i) t[i] = inv[to[i]];
  return t;
}

Perm layout_after_transpose(std::span<const int32_t> in, std::span<const int32_t> p) {
  // out_source[i] = in_source[p[i]], so in_source axis k is out_source axis pinv[k].
  Perm pinv = inverse_perm(p);
  Perm r(in.size());
  for (size_t j = 0; j < in.size(); ++j) r[j] = pinv[in[j]];
  return r;
}

std::string perm_to_string(std::span<const int32_t> perm) {
  return fmt::format("[{}]", fmt::join(perm, ","));
}

std::optional<ReshapePlan> plan_reshape(const Shape& in_shape, std::span<const int32_t> in_perm,
                                        const Shape& out_shape) {
  if (num_elements(in_shape) != num_elements(out_shape)) return std::nullopt;
  // Group the non-1 dims: runs of input dims whose product equals a run of output dims.
  std::vector<int32_t> in_dims, out_dims;
  for (size_t i = 0; i < in_shape.size(); ++i)
    if (in_shape[i] != 1) in_dims.push_back(static_cast<int32_t>(i));
  for (size_t i = 0; i < out_shape.size(); ++i)
    if (out_shape[i] != 1) out_dims.push_back(static_cast<int32_t>(i));
  struct Group {
    std::vector<int32_t> in, out;
  };
  std::vector<Group> groups;
  std::vector<int32_t> group_of(in_shape.size(), -1);
  size_t a = 0, b = 0;
  while (a < in_dims.size() && b < out_dims.size()) {
    Group g;
    int64_t pa = in_shape[in_dims[a]], pb = out_shape[out_dims[b]];
    g.in.push_back(in_dims[a++]);
    g.out.push_back(out_dims[b++]);
    while (pa != pb) {
      if (pa < pb) {
        if (a >= in_dims.size()) return std::nullopt;
        pa *= in_shape[in_dims[a]];
        g.in.push_back(in_dims[a++]);
      } else {
        if (b >= out_dims.size()) return std::nullopt;
        pb *= out_shape[out_dims[b]];
        g.out.push_back(out_dims[b++]);
      }
    }
    for (int32_t d : g.in) group_of[d] = static_cast<int32_t>(groups.size());
    groups.push_back(std::move(g));
  }
  if (a != in_dims.size() || b != out_dims.size()) return std::nullopt;

  // Groups in the order they first appear in the TFLite tensor; check each is contiguous and
  // ascending there.
  std::vector<int32_t> order;
  std::vector<char> seen(groups.size(), 0);
  bool contiguous = true;
  int32_t current = -1;
  size_t next_in_group = 0;
  for (int32_t d : in_perm) {
    if (in_shape[d] == 1) continue;
    int32_t g = group_of[d];
    if (g != current) {
      if (current >= 0 && next_in_group != groups[current].in.size()) contiguous = false;
      if (seen[g]) contiguous = false;
      if (!seen[g]) order.push_back(g);
      seen[g] = 1;
      current = g;
      next_in_group = 0;
    }
    if (next_in_group >= groups[g].in.size() || groups[g].in[next_in_group] != d) contiguous = false;
    ++next_in_group;
  }
  if (current >= 0 && next_in_group != groups[current].in.size()) contiguous = false;

  ReshapePlan plan;
  if (contiguous) {
    plan.input_perm.assign(in_perm.begin(), in_perm.end());
  } else {
    plan.needs_transpose = true;
    for (size_t i = 0; i < in_shape.size(); ++i)
      if (in_shape[i] == 1) plan.input_perm.push_back(static_cast<int32_t>(i));
    for (int32_t g : order)
      for (int32_t d : groups[g].in) plan.input_perm.push_back(d);
  }
  // Output: size-1 dims first (in source order), then each group's output dims.
  for (size_t i = 0; i < out_shape.size(); ++i)
    if (out_shape[i] == 1) plan.output_perm.push_back(static_cast<int32_t>(i));
  for (int32_t g : order)
    for (int32_t d : groups[g].out) plan.output_perm.push_back(d);
  // Where the size-1 dims go does not matter to the data: prefer the source layout, then
  // channels-last, so that outputs and convolutions need no reshape later.
  for (const Perm& natural : {identity_perm(out_shape.size()), channels_last_perm(out_shape.size())}) {
    if (same_data_order(out_shape, plan.output_perm, natural)) {
      plan.output_perm = natural;
      break;
    }
  }
  return plan;
}

}  // namespace qdet::convert
