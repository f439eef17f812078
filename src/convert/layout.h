// Layouts during conversion. Every converted activation remembers how its TFLite tensor relates
// to the source (ONNX) tensor by a permutation:
//   tflite.shape[i] == source.shape[perm[i]]   (tflite = transpose(source, perm))
// NCHW images live as NHWC (perm [0,2,3,1]); Transpose nodes only change the permutation (no
// op); Reshape is done in whatever layout keeps the data order (see plan_reshape). Size-1 dims
// carry no data order: two layouts whose non-1 dims come in the same order hold the same bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tensor/shape.h"

namespace qdet::convert {

using Perm = std::vector<int32_t>;

Perm identity_perm(size_t rank);
// Channels-last for a channels-first tensor of rank >= 3: [0, 2, ..., rank-1, 1]; identity below.
Perm channels_last_perm(size_t rank);
bool is_permutation(std::span<const int32_t> perm, size_t rank);
Perm inverse_perm(std::span<const int32_t> perm);
// The shape the TFLite tensor has: out[i] = source[perm[i]].
Shape apply_perm(const Shape& source, std::span<const int32_t> perm);
// Position of source axis `axis` in the TFLite tensor.
int32_t tflite_axis(std::span<const int32_t> perm, int32_t axis);
// True when a tensor of `source` shape holds the same bytes in layouts a and b (the non-1
// dims come in the same order).
bool same_data_order(const Shape& source, std::span<const int32_t> a, std::span<const int32_t> b);
// The TRANSPOSE permutation taking the TFLite tensor in layout `from` to layout `to`.
Perm relative_perm(std::span<const int32_t> from, std::span<const int32_t> to);
// A source-level Transpose(perm = p) applied to a value held in layout `in`: the output is the
// same TFLite tensor, in the returned layout.
Perm layout_after_transpose(std::span<const int32_t> in, std::span<const int32_t> p);
std::string perm_to_string(std::span<const int32_t> perm);

// How to do a source-level Reshape(in_shape -> out_shape) on a value in layout `in_perm`:
// first bring the value to layout `input_perm` (== in_perm, or a TRANSPOSE when the data order
// must change), then a TFLite RESHAPE gives the output in layout `output_perm`.
struct ReshapePlan {
  Perm input_perm;
  Perm output_perm;
  bool needs_transpose = false;
};
// nullopt when the element counts differ.
std::optional<ReshapePlan> plan_reshape(const Shape& in_shape, std::span<const int32_t> in_perm,
                                        const Shape& out_shape);

}  // namespace qdet::convert
