// Sparse constant tensors of .tflite files (TFLite's SparsityParameters, a TACO-style format),
// densified when a model is read: qdet's kernels and quantizer only ever see dense tensors.
//
// A sparse tensor of rank n with k blocked dimensions is stored as n + k levels, walked in
// `traversal_order` (a permutation of the n original dimensions, then of the k block
// dimensions); block dimension j splits original dimension block_map[j] into blocks of
// dim_metadata[n + j].dense_size. Each level is DENSE (every index 0..dense_size-1) or
// SPARSE_CSR (for each position of the level above, the indices
// array_indices[array_segments[p] .. array_segments[p + 1]]). The stored values are the leaves
// in traversal order. Everything is untrusted: every size and index is checked before it is
// used, and the dense tensor is bounded before it is allocated.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"
#include "tensor/shape.h"

namespace qdet::tflite {

struct SparseLevel {
  bool dense = true;
  int32_t dense_size = 0;         // DENSE
  std::vector<int64_t> segments;  // SPARSE_CSR (int32, uint16 or uint8 in the file)
  std::vector<int64_t> indices;   // SPARSE_CSR
};

struct Sparsity {
  std::vector<int32_t> traversal_order;  // n + k entries
  std::vector<int32_t> block_map;        // k entries, original dimensions
  std::vector<SparseLevel> levels;       // n + k entries, in traversal order
};

// The largest dense tensor a sparse one may expand to (a few stored values must not make qdet
// allocate gigabytes).
inline constexpr uint64_t kMaxDensifiedBytes = uint64_t{1} << 30;

// The dense bytes (row-major over `shape`, zeros where nothing is stored) of a sparse tensor
// whose stored values are `values` (elements of `element_size` bytes). Errors say what in the
// sparsity parameters is inconsistent.
Result<std::vector<uint8_t>> densify(const Sparsity& sparsity, const Shape& shape, size_t element_size,
                                     std::span<const uint8_t> values);

}  // namespace qdet::tflite
