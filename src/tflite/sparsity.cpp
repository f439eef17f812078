#include "tflite/sparsity.h"

#include <algorithm>
#include <cstring>

namespace qdet::tflite {
namespace {

// The checked layout of the levels: each level's extent (the range of its indices) and the
// number of positions it holds (DENSE: the level above's times dense_size; SPARSE_CSR: the
// last segment end).
struct Layout {
  std::vector<int64_t> extent;
  std::vector<int32_t> block_size;
  uint64_t leaves = 0;
};

Result<Layout> check(const Sparsity& s, const Shape& shape, uint64_t dense_elements) {
  const size_t n = shape.size(), k = s.block_map.size(), total = n + k;
  if (s.traversal_order.size() != total)
    return invalid_argument("sparsity: traversal_order has {} entries, a rank-{} tensor with {} "
                            "block dimensions needs {}", s.traversal_order.size(), n, k, total);
  if (s.levels.size() != total)
    return invalid_argument("sparsity: {} dim_metadata entries, traversal_order has {}",
                            s.levels.size(), total);
  // The original dimensions first, then the block dimensions, each a permutation.
  std::vector<bool> seen(total, false);
  for (size_t l = 0; l < total; ++l) {
    const int32_t d = s.traversal_order[l];
    const bool in_range = l < n ? d >= 0 && static_cast<size_t>(d) < n
                                : static_cast<size_t>(d) >= n && static_cast<size_t>(d) < total;
    if (d < 0 || !in_range || seen[static_cast<size_t>(d)])
      return invalid_argument("sparsity: traversal_order {} is not the original dimensions then the "
                              "block dimensions, each once", shape_to_string(s.traversal_order));
    seen[static_cast<size_t>(d)] = true;
  }
  Layout out;
  Shape blocked = shape;
  for (size_t j = 0; j < k; ++j) {
    const int32_t d = s.block_map[j];
    if (d < 0 || static_cast<size_t>(d) >= n)
      return invalid_argument("sparsity: block_map entry {} is outside rank {}", d, n);
    const SparseLevel& meta = s.levels[n + j];  // TFLite reads block sizes by position
    if (!meta.dense || meta.dense_size < 1)
      return invalid_argument("sparsity: block dimension {} needs DENSE metadata with a positive size", j);
    if (blocked[static_cast<size_t>(d)] % meta.dense_size != 0)
      return invalid_argument("sparsity: block size {} does not divide dimension {} ({})",
                              meta.dense_size, d, blocked[static_cast<size_t>(d)]);
    blocked[static_cast<size_t>(d)] /= meta.dense_size;
    out.block_size.push_back(meta.dense_size);
  }
  uint64_t positions = 1;
  for (size_t l = 0; l < total; ++l) {
    const auto d = static_cast<size_t>(s.traversal_order[l]);
    const int64_t extent = d < n ? blocked[d] : out.block_size[d - n];
    out.extent.push_back(extent);
    const SparseLevel& level = s.levels[l];
    if (level.dense) {
      if (level.dense_size != extent)
        return invalid_argument("sparsity: level {} is DENSE of size {}, its dimension has {}", l,
                                level.dense_size, extent);
      positions *= static_cast<uint64_t>(extent);  // <= dense_elements: each level is checked
    } else {
      if (level.segments.size() != positions + 1)
        return invalid_argument("sparsity: level {} has {} array_segments, {} positions above it need {}",
                                l, level.segments.size(), positions, positions + 1);
      if (level.segments.front() != 0)
        return invalid_argument("sparsity: level {} array_segments start at {}, not 0", l,
                                level.segments.front());
      for (size_t p = 1; p < level.segments.size(); ++p)
        if (level.segments[p] < level.segments[p - 1])
          return invalid_argument("sparsity: level {} array_segments decrease at {}", l, p);
      if (static_cast<uint64_t>(level.segments.back()) > level.indices.size())
        return invalid_argument("sparsity: level {} array_segments end at {}, past its {} array_indices",
                                l, level.segments.back(), level.indices.size());
      for (int64_t i : level.indices)
        if (i < 0 || i >= extent)
          return invalid_argument("sparsity: level {} index {} is outside its dimension of {}", l, i, extent);
      positions = static_cast<uint64_t>(level.segments.back());
    }
    if (positions > dense_elements)
      return invalid_argument("sparsity: level {} holds {} entries, more than the {} of the dense tensor",
                              l, positions, dense_elements);
  }
  out.leaves = positions;
  return out;
}

struct Walk {
  const Sparsity& s;
  const Layout& layout;
  const Shape& shape;
  size_t element_size;
  std::span<const uint8_t> values;
  std::vector<uint8_t>& dense;
  std::vector<int64_t> index;  // per level
  uint64_t next_value = 0;

  void leaf() {
    const size_t n = shape.size();
    int64_t orig[16] = {};
    for (size_t l = 0; l < n; ++l) orig[s.traversal_order[l]] = index[l];
    for (size_t l = n; l < index.size(); ++l) {
      const size_t block = static_cast<size_t>(s.traversal_order[l]) - n;
      const auto d = static_cast<size_t>(s.block_map[block]);
      orig[d] = orig[d] * layout.block_size[block] + index[l];
    }
    int64_t flat = 0;
    for (size_t d = 0; d < n; ++d) flat = flat * shape[d] + orig[d];
    std::memcpy(dense.data() + static_cast<size_t>(flat) * element_size,
                values.data() + next_value * element_size, element_size);
    ++next_value;
  }

  // TFLite's FormatConverter::Populate: `position` is the parent's position at this level.
  void populate(size_t level, int64_t position) {
    if (level == index.size()) return leaf();
    const SparseLevel& meta = s.levels[level];
    if (meta.dense) {
      for (int64_t i = 0; i < meta.dense_size; ++i) {
        index[level] = i;
        populate(level + 1, position * meta.dense_size + i);
      }
      return;
    }
    for (int64_t i = meta.segments[static_cast<size_t>(position)]; i < meta.segments[static_cast<size_t>(position) + 1]; ++i) {
      index[level] = meta.indices[static_cast<size_t>(i)];
      populate(level + 1, i);
    }
  }
};

}  // namespace

Result<std::vector<uint8_t>> densify(const Sparsity& sparsity, const Shape& shape, size_t element_size,
                                     std::span<const uint8_t> values) {
  if (shape.size() > 16) return invalid_argument("sparsity: rank {} (at most 16)", shape.size());
  uint64_t elements = 1;
  for (int32_t d : shape) {
    if (d < 0) return invalid_argument("sparsity: negative dimension in {}", shape_to_string(shape));
    elements *= static_cast<uint64_t>(d);
    if (elements * element_size > kMaxDensifiedBytes)
      return invalid_argument("sparse tensor of shape {} would densify to over {} bytes",
                              shape_to_string(shape), kMaxDensifiedBytes);
  }
  QDET_ASSIGN_OR_RETURN(const Layout layout, check(sparsity, shape, elements));
  if (values.size() != layout.leaves * element_size)
    return invalid_argument("sparse tensor stores {} bytes, its sparsity parameters describe {} "
                            "values of {} bytes", values.size(), layout.leaves, element_size);
  std::vector<uint8_t> dense(static_cast<size_t>(elements * element_size), 0);
  if (elements == 0) return dense;
  Walk walk{sparsity, layout, shape, element_size, values, dense,
            std::vector<int64_t>(sparsity.levels.size(), 0)};
  walk.populate(0, 0);
  return dense;
}

}  // namespace qdet::tflite
