// CONCATENATION of int8, uint8 or int16 tensors whose quantization may differ from the
// output's (TFLite reference_ops::ConcatenationWithScaling, the uint8 path of
// concatenation.cc). An input with the output's scale and zero point is copied; any other is
// requantized element by element in float:
//   scale = s_in * (1 / s_out); bias = -z_in * scale;
//   q_out = clamp(int(round(q_in * scale + bias)) + z_out)
// TFLite itself refuses int8/int16 inputs with differing parameters; qdet applies the same
// formula to them so that hand-built or partially quantized graphs still run.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <memory>

#include "runtime/kernels/reference/quantized/quantized_common.h"
#include "runtime/kernels/reference/quantized/quantized_kernels.h"

namespace qdet::rt::quantized {
namespace {

struct ConcatInput {
  bool copy = true;     // same parameters as the output
  float scale = 1.0f;   // s_in / s_out
  float bias = 0.0f;    // -z_in * scale
  int64_t chunk = 0;    // elements per outer index: dim(axis) * inner
  // 8-bit inputs that are requantized: the output for each input byte, made at prepare by
  // requantize() itself, so a lookup gives its bytes without a float round per element.
  std::array<uint8_t, 256> table{};
};

// One requantized element (the formula above).
template <typename T>
T requantize(const ConcatInput& ci, int32_t output_zero_point, T v) {
  constexpr int32_t qmin = std::numeric_limits<T>::min(), qmax = std::numeric_limits<T>::max();
  const int32_t q = static_cast<int32_t>(std::round(static_cast<float>(v) * ci.scale + ci.bias)) + output_zero_point;
  return static_cast<T>(std::clamp(q, qmin, qmax));
}

template <typename T>
void fill_table(ConcatInput& ci, int32_t output_zero_point) {
  for (int b = 0; b < 256; ++b) {
    const T v = static_cast<T>(static_cast<uint8_t>(b));
    const T r = requantize(ci, output_zero_point, v);
    std::memcpy(&ci.table[static_cast<size_t>(b)], &r, 1);
  }
}

struct ConcatData : OpData {
  DType dtype = DType::kInt8;
  int64_t outer = 1;
  int32_t output_zero_point = 0;
  std::vector<ConcatInput> inputs;
};

template <typename T>
void concat_kernel(const ConcatData& d, EvalContext& ctx) {
  T* out = ctx.outputs[0]->as<T>();
  for (int64_t o = 0; o < d.outer; ++o) {
    for (size_t i = 0; i < d.inputs.size(); ++i) {
      const ConcatInput& ci = d.inputs[i];
      const T* in = ctx.inputs[i]->as<const T>() + o * ci.chunk;
      if (ci.copy) {
        std::memcpy(out, in, static_cast<size_t>(ci.chunk) * sizeof(T));
      } else if constexpr (sizeof(T) == 1) {
        const auto* bytes = reinterpret_cast<const uint8_t*>(in);
        auto* o = reinterpret_cast<uint8_t*>(out);
        for (int64_t k = 0; k < ci.chunk; ++k) o[k] = ci.table[bytes[k]];
      } else {
        for (int64_t k = 0; k < ci.chunk; ++k) out[k] = requantize(ci, d.output_zero_point, in[k]);
      }
      out += ci.chunk;
    }
  }
}

}  // namespace

Status concatenation_prepare(PrepareContext& ctx) {
  const std::string op = "CONCATENATION";
  if (ctx.inputs.empty()) return invalid_argument("{}: needs at least one input", op);
  QDET_ASSIGN_OR_RETURN(TensorRef& out, single_output(ctx, op));
  QDET_ASSIGN_OR_RETURN(const TensorRef* first, required_input(ctx, 0, op));
  const DType t = first->dtype;
  if (t != DType::kInt8 && t != DType::kUInt8 && t != DType::kInt16)
    return unsupported("{}: quantized kernel does not handle {}", op, dtype_name(t));
  if (out.dtype != t)
    return unsupported("{}: output dtype {} differs from input dtype {}", op,
                       dtype_name(out.dtype), dtype_name(t));
  QDET_TRY(check_per_tensor_quant(out, op + " output"));
  const int rank = static_cast<int>(first->shape.size());
  int axis = ctx.op.attrs.axis;
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank)
    return invalid_argument("{}: axis {} is out of range for rank {}", op, ctx.op.attrs.axis,
                            rank);

  auto d = std::make_unique<ConcatData>();
  d->dtype = t;
  d->output_zero_point = out.zero_point();
  Shape out_shape = first->shape;
  out_shape[static_cast<size_t>(axis)] = 0;
  int64_t inner = 1;
  for (int k = axis + 1; k < rank; ++k) inner *= first->shape[static_cast<size_t>(k)];
  for (int k = 0; k < axis; ++k) d->outer *= first->shape[static_cast<size_t>(k)];
  const float inverse_output_scale = 1.f / out.scale();
  for (size_t i = 0; i < ctx.inputs.size(); ++i) {
    QDET_ASSIGN_OR_RETURN(const TensorRef* in, required_input(ctx, i, op));
    const std::string what = fmt::format("{} input {}", op, i);
    if (in->dtype != t)
      return unsupported("{}: dtype {} differs from input 0's {}", what, dtype_name(in->dtype),
                         dtype_name(t));
    if (static_cast<int>(in->shape.size()) != rank)
      return invalid_argument("{}: shape {} has rank {}, input 0 has rank {}", what,
                              shape_to_string(in->shape), in->shape.size(), rank);
    for (int k = 0; k < rank; ++k)
      if (k != axis && in->shape[static_cast<size_t>(k)] != first->shape[static_cast<size_t>(k)])
        return invalid_argument("{}: shape {} differs from {} outside axis {}", what,
                                shape_to_string(in->shape), shape_to_string(first->shape), axis);
    QDET_TRY(check_per_tensor_quant(*in, what));
    out_shape[static_cast<size_t>(axis)] += in->shape[static_cast<size_t>(axis)];
    ConcatInput ci;
    ci.chunk = static_cast<int64_t>(in->shape[static_cast<size_t>(axis)]) * inner;
    ci.copy = in->scale() == out.scale() && in->zero_point() == out.zero_point();
    ci.scale = in->scale() * inverse_output_scale;
    ci.bias = static_cast<float>(-in->zero_point()) * ci.scale;
    if (!ci.copy && t == DType::kInt8) fill_table<int8_t>(ci, d->output_zero_point);
    if (!ci.copy && t == DType::kUInt8) fill_table<uint8_t>(ci, d->output_zero_point);
    d->inputs.push_back(ci);
  }
  out.shape = out_shape;
  return keep_op_data(ctx, std::move(d));
}

Status concatenation_eval(EvalContext& ctx) {
  const auto& d = *op_data_as<ConcatData>(ctx);
  switch (d.dtype) {
    case DType::kInt8: concat_kernel<int8_t>(d, ctx); break;
    case DType::kUInt8: concat_kernel<uint8_t>(d, ctx); break;
    default: concat_kernel<int16_t>(d, ctx); break;
  }
  return ok_status();
}

}  // namespace qdet::rt::quantized
