// Helpers shared by the quantized reference kernels: checks of quantization parameters,
// convolution geometry (TFLite's padding rules) and N-d broadcasting.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "base/status.h"
#include "graph/op.h"
#include "runtime/kernel.h"
#include "runtime/kernel_util.h"
#include "runtime/quantization_util.h"

namespace qdet::rt::quantized {

inline bool is_int8_or_uint8(DType t) { return t == DType::kInt8 || t == DType::kUInt8; }

// The tensor has exactly one positive, finite scale and one zero point within its dtype's
// range. `what` names the op and the tensor role in messages ("CONV_2D input").
Status check_per_tensor_quant(const TensorRef& t, const std::string& what);

// The i-th input, or an error when absent.
Result<const TensorRef*> required_input(const PrepareContext& ctx, size_t i,
                                        const std::string& op_name);
// The i-th input or nullptr when absent (optional inputs, e.g. a bias).
const TensorRef* optional_input(const PrepareContext& ctx, size_t i);
// The op's only output, or an error when there is not exactly one.
Result<std::reference_wrapper<TensorRef>> single_output(const PrepareContext& ctx, const std::string& op_name);

// The input and output of a quantized elementwise op (LOGISTIC, TANH, ELU, HARD_SWISH, the
// RELU family): input 0 of a dtype `accepts` takes (else kUnsupported, so that another kernel
// is tried), one output of the same dtype, both quantized per tensor.
struct ElementwiseTensors {
  const TensorRef& in;
  TensorRef& out;
};
Result<ElementwiseTensors> elementwise_tensors(const PrepareContext& ctx, const std::string& op,
                                               bool (*accepts)(DType));



// The data of the 8-bit elementwise ops computed as a 256-entry table (LOGISTIC, TANH, ELU,
// HARD_SWISH): indexed by the input's byte (int8 reinterpreted as uint8); lookup_table_eval
// (quantized_kernels.h) is their eval.
struct LookupTableData : OpData {
  uint8_t table[256] = {};
};

// SOFTMAX's rows: the last dim's `depth` values, `rows` times.
struct LastDimRows {
  int64_t rows = 0;
  int32_t depth = 0;
};
inline LastDimRows last_dim_rows(const TensorRef& t) {
  LastDimRows r;
  r.depth = t.shape.back();
  r.rows = r.depth == 0 ? 0 : t.num_elements() / r.depth;
  return r;
}

// Numpy/TFLite broadcasting of two shapes of rank <= kMaxBroadcastRank.
inline constexpr int kMaxBroadcastRank = 6;
struct BroadcastPlan {
  bool same_shape = false;  // both inputs have the output's shape: flat loop
  int rank = 0;             // dims below are right-aligned in arrays of kMaxBroadcastRank
  std::array<int32_t, kMaxBroadcastRank> out_dims{};
  std::array<int64_t, kMaxBroadcastRank> stride1{};  // 0 along broadcast dims
  std::array<int64_t, kMaxBroadcastRank> stride2{};
};
// Output shape and strides; an error naming both shapes when they do not broadcast.
Result<BroadcastPlan> make_broadcast_plan(const Shape& a, const Shape& b, Shape* out_shape,
                                          const std::string& op_name);

// The operands and output of a quantized binary op (ADD, SUB, MUL, DIV, SQUARED_DIFFERENCE):
// inputs 0 and 1 of a dtype `accepts` takes (else kUnsupported), one output, all of that
// dtype and quantized per tensor. Fills `operands` (the broadcast, writing the output shape,
// and the offsets -z1, -z2, z_out).
struct BinaryTensors {
  const TensorRef& in1;
  const TensorRef& in2;
  TensorRef& out;
};
struct BinaryOperands {
  BroadcastPlan plan;
  int32_t input1_offset = 0, input2_offset = 0, output_offset = 0;
};
Result<BinaryTensors> binary_tensors(const PrepareContext& ctx, const std::string& op, bool (*accepts)(DType),
                                     BinaryOperands* operands);

// Calls f(out_index, index1, index2) for every output element, in row-major order.
template <typename F>
void for_each_broadcast(const BroadcastPlan& plan, int64_t total, F&& f) {
  if (plan.same_shape) {
    for (int64_t i = 0; i < total; ++i) f(i, i, i);
    return;
  }
  constexpr int R = kMaxBroadcastRank;
  std::array<int32_t, R> idx{};
  int64_t i1 = 0, i2 = 0;
  const int32_t inner = plan.out_dims[R - 1];
  const int64_t s1 = plan.stride1[R - 1], s2 = plan.stride2[R - 1];
  for (int64_t o = 0; o < total; o += inner) {
    for (int32_t k = 0; k < inner; ++k) f(o + k, i1 + k * s1, i2 + k * s2);
    // Advance the outer dims like an odometer.
    for (int d = R - 2; d >= 0; --d) {
      if (++idx[d] < plan.out_dims[d]) {
        i1 += plan.stride1[d];
        i2 += plan.stride2[d];
        break;
      }
      i1 -= plan.stride1[d] * (plan.out_dims[d] - 1);
      i2 -= plan.stride2[d] * (plan.out_dims[d] - 1);
      idx[d] = 0;
    }
  }
}

}  // namespace qdet::rt::quantized
