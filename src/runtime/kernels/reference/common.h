// Helpers shared by the reference kernels: arity and dtype checks with messages that name the
// problem, fused activations, reading small constant index tensors, axis normalization.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <limits>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "graph/op.h"
#include "runtime/kernel.h"
#include "runtime/kernel_util.h"

#include <pthreadpool.h>

#include <type_traits>

namespace qdet::rt::ref {

// The geometry and activation helpers every kernel family shares live in runtime/kernel_util.h.
using ::qdet::rt::activation_range;
using ::qdet::rt::ActivationRange;
using ::qdet::rt::broadcast_shapes;
using ::qdet::rt::clamp_activation;
using ::qdet::rt::compute_padding;
using ::qdet::rt::ConvGeometry;
using ::qdet::rt::fill_conv_geometry;
using ::qdet::rt::fully_connected_output_shape;
using ::qdet::rt::Padding1d;

// Inputs in [min_inputs, max_inputs] (absent optional inputs count) and exactly `num_outputs`
// outputs; the first `min_inputs` inputs must be present.
Status check_arity(const PrepareContext& ctx, size_t min_inputs, size_t max_inputs,
                   size_t num_outputs);

// The kUnsupported status kernels return for dtypes they do not handle, so the next candidate
// kernel is tried: "no kernel for input dtype int16".
Status no_kernel_for_dtype(DType dtype);

// Integer dtypes that carry quantization parameters here (int8/uint8/int16 with a scale).
bool is_quantized(const TensorRef& t);
// Same scale(s) and zero point(s).
bool same_quantization(const TensorRef& a, const TensorRef& b);

Status expect_dtype(const TensorRef& t, DType dtype, const char* role);
Status expect_same_dtype(const TensorRef& a, const TensorRef& b, const char* role_b);
// Two operands and an output of one dtype, one of `accepted` (no_kernel_for_dtype for another
// first operand); `role_b` names the second operand in errors.
Status expect_operand_dtypes(const TensorRef& a, const TensorRef& b, const TensorRef& out,
                             std::initializer_list<DType> accepted, const char* role_b);
// Input 0 of an op whose one output has the input's dtype (the data-movement ops), after
// check_arity(ctx, min_inputs, max_inputs, 1).
Result<std::reference_wrapper<const TensorRef>> same_dtype_input(const PrepareContext& ctx, size_t min_inputs,
                                                                 size_t max_inputs);

// A tensor's quantization as QUANTIZE and DEQUANTIZE walk it: `outer` blocks of `channels`
// runs of `inner` elements, channel c using scale[c] and zero_point[c]. Per-tensor parameters
// are one channel of every element. Error when per-axis parameters do not fit `shape`.
struct ChannelQuantization {
  int64_t outer = 1, channels = 1, inner = 1;
  std::vector<float> scale;
  std::vector<int32_t> zero_point;
};
Result<ChannelQuantization> channel_quantization(const Shape& shape, const QuantParams& q);

// The eval of the ops that only give the input's bytes another shape (RESHAPE, SQUEEZE,
// EXPAND_DIMS): a copy, or nothing when the output shares the input's memory.
Status copy_input_eval(EvalContext& ctx);

// The tensors of a CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED kernel with a float32 input
// and output: input 0, filter (weights) 1 of `filter_dtype`, optional bias 2 (nullptr when
// absent), output 0. kUnsupported, so that the next kernel is tried, for another input or
// filter dtype (`filter_refusal` begins that message, the dtype's name ends it).
struct WeightedOpTensors {
  const TensorRef& in;
  const TensorRef& filter;
  const TensorRef* bias;
  TensorRef& out;
};
Result<WeightedOpTensors> float_weighted_op(const PrepareContext& ctx, DType filter_dtype,
                                            std::string_view filter_refusal);

// The float32 bias of such a kernel at eval: input 2's data, or nullptr when it is absent.
inline const float* optional_float_bias(const EvalContext& ctx) {
  return ctx.inputs.size() > 2 && ctx.inputs[2] ? ctx.inputs[2]->as<const float>() : nullptr;
}
// The float32 input, bias (nullptr when absent) and output of such a kernel at eval; the
// filter is each kernel's own (packed, quantized, ...).
struct FloatWeightedIo {
  const float* in;
  const float* bias;
  float* out;
};
inline FloatWeightedIo float_weighted_io(const EvalContext& ctx) {
  return {ctx.inputs[0]->as<const float>(), optional_float_bias(ctx), ctx.outputs[0]->as<float>()};
}

// FULLY_CONNECTED's rows (the float and hybrid kernels): weights [units, depth] and the input
// seen as `batch` rows of `depth` values, and the fused activation.
struct FullyConnectedRows {
  int64_t batch = 0, depth = 0, units = 0;
  ActivationRange act;
};
// The prepare both kernels share: the tensors (weights of `weight_dtype`, float_weighted_op),
// the rows (a float32 bias of `units` values when there is one), the activation and the
// output shape (`keep_num_dims`).
Result<WeightedOpTensors> prepare_fully_connected(const PrepareContext& ctx, DType weight_dtype,
                                                  std::string_view weight_refusal, FullyConnectedRows* rows);


// An eval's dispatch on the element type prepare accepted: fn(T{}) for the one of Ts that
// `dtype` names, e.g. `with_element_type<float, int8_t>(in.dtype, "OP", [&](auto t) {...})`;
// an internal error naming `op` when none does.
template <typename... Ts, typename Fn>
Status with_element_type(DType dtype, const char* op, Fn&& fn) {
  const bool done = ((dtype == kDTypeOf<Ts> && (fn(Ts{}), true)) || ...);
  if (!done) return internal_error("{}: dtype changed after prepare", op);
  return ok_status();
}

// One step of a row-major walk over the first `rank` dims of `shape`: advances the index
// `idx` by one and keeps `offset` (the sum of idx[k] * strides[k]) in step. A reduction walks
// its input so, a PAD its rows.
template <typename Dims, typename Strides>
void advance_index(int64_t* idx, int rank, const Dims& shape, const Strides& strides, int64_t& offset) {
  for (int k = rank - 1; k >= 0; --k) {
    ++idx[k];
    offset += strides[k];
    if (idx[k] < shape[k]) break;
    offset -= strides[k] * shape[k];
    idx[k] = 0;
  }
}

// The eval's dispatch for ops whose value inputs and output share the element type:
// fn(in, out) (one input) or fn(a, b, out) (two) with typed pointers, for the one of Ts that
// input 0's dtype names.
template <typename... Ts, typename Fn>
Status with_typed_io(EvalContext& ctx, const char* op, Fn&& fn) {
  const TensorRef& in = *ctx.inputs[0];
  TensorRef& out = *ctx.outputs[0];
  return with_element_type<Ts...>(in.dtype, op, [&](auto t) {
    using T = decltype(t);
    fn(in.as<const T>(), out.as<T>());
  });
}
template <typename... Ts, typename Fn>
Status with_typed_binary_io(EvalContext& ctx, const char* op, Fn&& fn) {
  const TensorRef& a = *ctx.inputs[0];
  const TensorRef& b = *ctx.inputs[1];
  TensorRef& out = *ctx.outputs[0];
  return with_element_type<Ts...>(a.dtype, op, [&](auto t) {
    using T = decltype(t);
    fn(a.as<const T>(), b.as<const T>(), out.as<T>());
  });
}

// The values of a constant int32/int64 tensor (shapes, axes, paddings, begin/end...).
// `role` names the input in errors ("the shape input must be constant").
Result<std::vector<int64_t>> read_constant_ints(const TensorRef* t, const char* role);

// Axis in [-rank, rank) -> [0, rank).
Result<int> normalize_axis(int64_t axis, int rank, const char* role = "axis");

// Row-major strides (in elements) of a shape.
std::vector<int64_t> strides_of(const Shape& shape);

// Checks that a shape read from a tensor has sane dims and converts it.
Result<Shape> to_shape(const std::vector<int64_t>& dims, const char* role);


// Iterates an output shape and gives, for each element, offsets into inputs broadcast to it.
// Built in prepare; `for_each` allocates nothing. Up to kMaxRank dims.
class BroadcastIndexer {
 public:
  static constexpr int kMaxRank = 8;
  // `in_shape` must broadcast to `out_shape` (its dims right-aligned).
  static Result<BroadcastIndexer> create(const Shape& out_shape,
                                         const std::vector<Shape>& in_shapes);
  // fn(out_index, const int64_t* in_offsets) for every output element in order.
  template <typename Fn>
  void for_each(Fn&& fn) const;
  int64_t num_elements() const { return count_; }

 private:
  int rank_ = 0;
  int64_t count_ = 0;
  int64_t dims_[kMaxRank] = {};
  int64_t strides_[4][kMaxRank] = {};  // up to 4 inputs
  int num_inputs_ = 0;
};

template <typename Fn>
void BroadcastIndexer::for_each(Fn&& fn) const {
  if (count_ == 0) return;
  int64_t idx[kMaxRank] = {};
  int64_t off[4] = {};
  const int inner = rank_ - 1;
  int64_t out = 0;
  while (true) {
    if (rank_ == 0) {
      fn(out, off);
      return;
    }
    // Innermost dim.
    int64_t local[4];
    for (int k = 0; k < num_inputs_; ++k) local[k] = off[k];
    for (int64_t i = 0; i < dims_[inner]; ++i) {
      fn(out++, local);
      for (int k = 0; k < num_inputs_; ++k) local[k] += strides_[k][inner];
    }
    // Carry into the outer dims.
    int d = inner - 1;
    for (; d >= 0; --d) {
      ++idx[d];
      for (int k = 0; k < num_inputs_; ++k) off[k] += strides_[k][d];
      if (idx[d] < dims_[d]) break;
      for (int k = 0; k < num_inputs_; ++k) off[k] -= strides_[k][d] * dims_[d];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

// Runs fn(i) for i in [0, n), split over the pool's threads in contiguous tiles (inline when
// pool is null). Each index must write disjoint outputs so results never depend on the thread
// count. Workers sleep after the call (YIELD_WORKERS) rather than spin: the reference kernels
// between parallel calls are single-threaded and must not compete with spinning workers.
template <typename Fn>
void parallel_for(pthreadpool_t pool, size_t n, Fn&& fn) {
  const size_t threads = pool ? pthreadpool_get_threads_count(pool) : 1;
  if (threads < 2 || n < 2) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  const size_t tile = std::max<size_t>(1, n / (threads * 4));
  auto thunk = [](void* ctx, size_t start, size_t count) {
    auto& f = *static_cast<std::remove_reference_t<Fn>*>(ctx);
    for (size_t i = start; i < start + count; ++i) f(i);
  };
  pthreadpool_parallelize_1d_tile_1d(pool, thunk, &fn, n, tile, PTHREADPOOL_FLAG_YIELD_WORKERS);
}




// The frame of the float direct convolutions (CONV_2D, DEPTHWISE_CONV_2D): for every output
// pixel (oy, ox) of image `b`, its out_c accumulators in `out` preset to the bias (or 0), then
// pixel(in_b, oy, ox, acc) adds the taps (in_b: image b of the input), then the fused
// activation clamps them. Output rows are split over the pool's threads; each pixel is
// computed the same way whatever the split.
template <typename Pixel>
void for_each_conv_pixel(pthreadpool_t pool, const ConvGeometry& g, const float* in, const float* bias, float* out,
                         Pixel&& pixel) {
  const size_t rows = static_cast<size_t>(g.batches) * g.out_h;
  parallel_for(pool, rows, [&](size_t row) {
    const int32_t b = static_cast<int32_t>(row / g.out_h);
    const int32_t oy = static_cast<int32_t>(row % g.out_h);
    const float* in_b = in + static_cast<size_t>(b) * g.in_h * g.in_w * g.in_c;
    for (int32_t ox = 0; ox < g.out_w; ++ox) {
      float* acc = out + (row * g.out_w + ox) * g.out_c;
      if (bias)
        std::memcpy(acc, bias, sizeof(float) * g.out_c);
      else
        std::memset(acc, 0, sizeof(float) * g.out_c);
      pixel(in_b, oy, ox, acc);
      for (int32_t oc = 0; oc < g.out_c; ++oc) acc[oc] = clamp_activation(acc[oc], g.act);
    }
  });
}

// Kernel entries registered in register.cpp (one file per op defines each).
#define QDET_DECLARE_REF_KERNEL(name) extern const Kernel name;
QDET_DECLARE_REF_KERNEL(kConv2dFloat)
QDET_DECLARE_REF_KERNEL(kDepthwiseConv2dFloat)
QDET_DECLARE_REF_KERNEL(kFullyConnectedFloat)
QDET_DECLARE_REF_KERNEL(kAddFloat)
QDET_DECLARE_REF_KERNEL(kSubFloat)
QDET_DECLARE_REF_KERNEL(kMulFloat)
QDET_DECLARE_REF_KERNEL(kDivFloat)
QDET_DECLARE_REF_KERNEL(kLogisticFloat)
QDET_DECLARE_REF_KERNEL(kExpFloat)
QDET_DECLARE_REF_KERNEL(kTanhFloat)
QDET_DECLARE_REF_KERNEL(kReluFloat)
QDET_DECLARE_REF_KERNEL(kRelu6Float)
QDET_DECLARE_REF_KERNEL(kReluN1To1Float)
QDET_DECLARE_REF_KERNEL(kLeakyReluFloat)
QDET_DECLARE_REF_KERNEL(kHardSwishFloat)
QDET_DECLARE_REF_KERNEL(kSoftmaxFloat)
QDET_DECLARE_REF_KERNEL(kMaxPool2d)
QDET_DECLARE_REF_KERNEL(kAveragePool2d)
QDET_DECLARE_REF_KERNEL(kResizeNearestNeighbor)
QDET_DECLARE_REF_KERNEL(kResizeBilinear)
QDET_DECLARE_REF_KERNEL(kMeanFloat)
QDET_DECLARE_REF_KERNEL(kSumFloat)
QDET_DECLARE_REF_KERNEL(kReduceMax)
QDET_DECLARE_REF_KERNEL(kMaximum)
QDET_DECLARE_REF_KERNEL(kMinimum)
QDET_DECLARE_REF_KERNEL(kSqrtFloat)
QDET_DECLARE_REF_KERNEL(kRsqrtFloat)
QDET_DECLARE_REF_KERNEL(kEluFloat)
QDET_DECLARE_REF_KERNEL(kSquaredDifference)
QDET_DECLARE_REF_KERNEL(kPrelu)
QDET_DECLARE_REF_KERNEL(kArgMax)
QDET_DECLARE_REF_KERNEL(kArgMin)
QDET_DECLARE_REF_KERNEL(kCast)
QDET_DECLARE_REF_KERNEL(kDepthToSpace)
QDET_DECLARE_REF_KERNEL(kSpaceToDepth)
QDET_DECLARE_REF_KERNEL(kTile)
QDET_DECLARE_REF_KERNEL(kPack)
QDET_DECLARE_REF_KERNEL(kUnpack)
QDET_DECLARE_REF_KERNEL(kMirrorPad)
QDET_DECLARE_REF_KERNEL(kTransposeConv)
QDET_DECLARE_REF_KERNEL(kBatchMatmul)
QDET_DECLARE_REF_KERNEL(kReshape)
QDET_DECLARE_REF_KERNEL(kSqueeze)
QDET_DECLARE_REF_KERNEL(kExpandDims)
QDET_DECLARE_REF_KERNEL(kConcatenation)
QDET_DECLARE_REF_KERNEL(kStridedSlice)
QDET_DECLARE_REF_KERNEL(kSlice)
QDET_DECLARE_REF_KERNEL(kPad)
QDET_DECLARE_REF_KERNEL(kPadV2)
QDET_DECLARE_REF_KERNEL(kTranspose)
QDET_DECLARE_REF_KERNEL(kScatterNd)
QDET_DECLARE_REF_KERNEL(kBroadcastTo)
QDET_DECLARE_REF_KERNEL(kGather)
QDET_DECLARE_REF_KERNEL(kSplit)
QDET_DECLARE_REF_KERNEL(kSplitV)
QDET_DECLARE_REF_KERNEL(kDequantize)
QDET_DECLARE_REF_KERNEL(kQuantizeFromFloat)
QDET_DECLARE_REF_KERNEL(kDetectionPostProcess)
#undef QDET_DECLARE_REF_KERNEL

}  // namespace qdet::rt::ref
