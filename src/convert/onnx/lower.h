// Lowering of ONNX nodes into TFLite builtin ops (internal to src/convert/onnx). One function
// per family of ops; lower_table() lists every ONNX op type the importer handles, so that
// unsupported ops can be reported all at once before anything is converted.
#pragma once

#include <span>
#include <string_view>

#include "base/status.h"
#include "convert/onnx/context.h"

namespace qdet::convert::onnx {

using LowerFn = Status (*)(Context& ctx, const Node& node);

struct LowerEntry {
  const char* op_type;
  LowerFn lower;
};

std::span<const LowerEntry> lower_table();
const LowerEntry* find_lowering(std::string_view op_type);

// lower_conv.cpp: Conv, ConvTranspose, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool, Pad, Resize,
// Upsample.
Status lower_conv(Context& ctx, const Node& node);
Status lower_conv_transpose(Context& ctx, const Node& node);
Status lower_pool(Context& ctx, const Node& node);
Status lower_global_pool(Context& ctx, const Node& node);
Status lower_pad(Context& ctx, const Node& node);
Status lower_resize(Context& ctx, const Node& node);
// lower_elementwise.cpp: unary activations, binary arithmetic with broadcasting, Clip, Softmax,
// BatchNormalization (standalone), PRelu, Identity.
Status lower_unary(Context& ctx, const Node& node);
Status lower_binary(Context& ctx, const Node& node);
Status lower_clip(Context& ctx, const Node& node);
Status lower_hard_sigmoid(Context& ctx, const Node& node);
Status lower_reciprocal(Context& ctx, const Node& node);
Status lower_softmax(Context& ctx, const Node& node);
Status lower_batch_norm(Context& ctx, const Node& node);
Status lower_prelu(Context& ctx, const Node& node);
Status lower_identity(Context& ctx, const Node& node);
Status lower_gemm(Context& ctx, const Node& node);
// lower_shape.cpp: Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Concat, Split, Slice,
// Gather.
Status lower_reshape(Context& ctx, const Node& node);
Status lower_transpose(Context& ctx, const Node& node);
Status lower_concat(Context& ctx, const Node& node);
Status lower_split(Context& ctx, const Node& node);
Status lower_slice(Context& ctx, const Node& node);
Status lower_gather(Context& ctx, const Node& node);
// lower_reduce.cpp: ReduceMean, ReduceMax, ReduceSum, ArgMax, ArgMin, Tile, DepthToSpace,
// SpaceToDepth, Cast (of activations).
Status lower_reduce(Context& ctx, const Node& node);
Status lower_arg(Context& ctx, const Node& node);
Status lower_tile(Context& ctx, const Node& node);
Status lower_depth_space(Context& ctx, const Node& node);
Status lower_cast(Context& ctx, const Node& node);

// Shared helpers.
// The ONNX output shape of Reshape, Flatten, Squeeze or Unsqueeze on an input of shape `in`.
Result<Shape> reshape_target(const Context& ctx, const Node& node, const Shape& in);
// ONNX Slice's starts, ends, axes and steps (attributes before opset 10, constant inputs since)
// resolved against an input of shape `in`, per ONNX dim: the first index, the end (exclusive;
// -1 with a negative step that runs to the start) and the step after the spec's clamping; and
// the result's shape. Error naming the node for an axis given twice or a step of 0.
struct SliceBounds {
  std::vector<int64_t> begin, end, step;
  Shape out_shape;
};
Result<SliceBounds> slice_bounds(const Context& ctx, const Node& node, const Shape& in);
// Normalizes a possibly negative axis against `rank`; error naming the node when out of range.
Result<int32_t> normalize_axis(const Context& ctx, const Node& node, int64_t axis, size_t rank);
// Input `index` as an activation (not a constant); error naming the node otherwise.
Result<const Value*> activation_input(const Context& ctx, const Node& node, size_t index);
// An activation input copied out of the context: its graph tensor, layout, ONNX shape and dtype,
// what most lowerings read first (then `const auto& [in, perm, shape, dtype] = x;`). The copy stays
// what it was while the lowering adds values.
struct ActivationIn {
  int32_t tensor;
  Perm perm;
  Shape shape;
  DType dtype;
};
Result<ActivationIn> activation_in(const Context& ctx, const Node& node, size_t index);
// The same for lowerings of float32 only: another dtype is kUnsupported.
Result<ActivationIn> float_activation_in(const Context& ctx, const Node& node, size_t index);
// Registers `tensor` (TFLite shape = apply_perm(shape, perm)) as the value of output `index`.
void set_output(Context& ctx, const Node& node, size_t index, int32_t tensor, Perm perm, Shape shape,
                DType dtype);
// A new activation tensor named after output `index` of `node`.
int32_t new_output_tensor(Context& ctx, const Node& node, size_t index, DType dtype, const Shape& tflite_shape);

}  // namespace qdet::convert::onnx
