// LOGISTIC, TANH and SOFTMAX on int8 / uint8 (and ELU on int8), as TFLite (~2.12) runs them
// on every CPU without NEON (its kReference and kGenericOptimized kernels share these paths):
//
// LOGISTIC / TANH (activations.cc PopulateLookupTable): a 256-entry table built in float,
//   table[q] = clamp(int(round(f(s_in * (q - z_in)) / s_out) + z_out)), with
//   f = 1 / (1 + exp(-x)) or tanh(x), round = std::round (half away from zero), and the
//   product 1/s_out computed once as a float. LOGISTIC requires s_out == 1/256 (TFLite checks
//   it; the converter also fixes z_out = -128 for int8 and 0 for uint8).
// SOFTMAX (optimized_ops::PopulateSoftmaxLookupTable + Softmax): along the last dim,
//   table[255 - v] = expf(-s_in * beta * v) for v in 0..255; for each row, with m = max q,
//   e_j = table[255 - m + q_j], p_j = e_j * (1 / (sum_j e_j * s_out)) in float, then
//   q_out = int(p_j + 0.5f) + z_out for uint8 (x86 TFLite truncates after adding 0.5) or
//   int(round(p_j)) + z_out for int8; clamped.
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>

#include "runtime/kernels/reference/quantized/quantized_common.h"
#include "runtime/kernels/reference/quantized/quantized_kernels.h"

namespace qdet::rt::quantized {
namespace {

template <typename T>
void populate_table(LookupTableData& d, float in_scale, int32_t in_zp, float out_scale,
                    int32_t out_zp, float (*transform)(float)) {
  const float inverse_scale = 1 / out_scale;
  const int32_t qmin = std::numeric_limits<T>::min(), qmax = std::numeric_limits<T>::max();
  for (int32_t v = qmin; v <= qmax; ++v) {
    const float dequantized = in_scale * static_cast<float>(v - in_zp);
    const float transformed = transform(dequantized);
    const float rescaled = std::round(transformed * inverse_scale);
    const auto quantized = static_cast<int32_t>(rescaled + static_cast<float>(out_zp));
    d.table[static_cast<uint8_t>(static_cast<T>(v))] =
        static_cast<uint8_t>(static_cast<T>(std::clamp(quantized, qmin, qmax)));
  }
}

float logistic_float(float x) { return 1.0f / (1.0f + std::exp(-x)); }
float tanh_float(float x) { return std::tanh(x); }
float elu_float(float x) { return x < 0.0f ? std::exp(x) - 1.0f : x; }  // EluPrepare's LUT

Status prepare_lookup(PrepareContext& ctx, const std::string& op, float (*transform)(float),
                      bool logistic) {
  QDET_ASSIGN_OR_RETURN(const ElementwiseTensors t, elementwise_tensors(ctx, op, is_int8_or_uint8));
  const TensorRef* in = &t.in;
  TensorRef& out = t.out;
  // TFLite compares the float scale with the double 1/256 exactly.
  if (logistic && static_cast<double>(out.scale()) != 1.0 / 256)
    return invalid_argument("{}: output scale must be 1/256, got {}", op, out.scale());
  auto d = std::make_unique<LookupTableData>();
  if (in->dtype == DType::kInt8)
    populate_table<int8_t>(*d, in->scale(), in->zero_point(), out.scale(), out.zero_point(),
                           transform);
  else
    populate_table<uint8_t>(*d, in->scale(), in->zero_point(), out.scale(), out.zero_point(),
                            transform);
  out.shape = in->shape;
  return keep_op_data(ctx, std::move(d));
}

struct SoftmaxData : OpData, LastDimRows {
  float table[256] = {};
  DType dtype = DType::kInt8;
  float output_scale = 1.0f;
  int32_t output_zero_point = 0;
};

template <typename T>
void softmax_kernel(const SoftmaxData& d, const T* in, T* out) {
  constexpr int32_t qmin = std::numeric_limits<T>::min(), qmax = std::numeric_limits<T>::max();
  for (int64_t r = 0; r < d.rows; ++r) {
    int32_t max_val = qmin;
    for (int32_t j = 0; j < d.depth; ++j) max_val = std::max(max_val, static_cast<int32_t>(in[j]));
    // e_j = table[255 - max + q_j]; the index is in [0, 255] because q_j <= max.
    const float* row_table = d.table + (255 - max_val);
    float sum_exp = 0.0f;
    for (int32_t j = 0; j < d.depth; ++j) sum_exp += row_table[in[j]];
    const float inv_sum_exp = 1.0f / (sum_exp * d.output_scale);
    for (int32_t j = 0; j < d.depth; ++j) {
      const float prob_rescaled = row_table[in[j]] * inv_sum_exp;
      int32_t q;
      if constexpr (std::is_same_v<T, uint8_t>)
        q = static_cast<int32_t>(prob_rescaled + 0.5f) + d.output_zero_point;
      else
        q = static_cast<int32_t>(std::round(prob_rescaled)) + d.output_zero_point;
      out[j] = static_cast<T>(std::clamp(q, qmin, qmax));
    }
    in += d.depth;
    out += d.depth;
  }
}

}  // namespace

Status logistic_prepare(PrepareContext& ctx) {
  return prepare_lookup(ctx, "LOGISTIC", logistic_float, /*logistic=*/true);
}

Status tanh_prepare(PrepareContext& ctx) {
  return prepare_lookup(ctx, "TANH", tanh_float, /*logistic=*/false);
}

// ELU on int8 (activations.cc EluPrepare) uses the same table with exp(x) - 1 below 0; any
// output parameters.
Status elu_prepare(PrepareContext& ctx) {
  if (!ctx.inputs.empty() && ctx.inputs[0] && ctx.inputs[0]->dtype != DType::kInt8)
    return unsupported("ELU: quantized kernel does not handle {}", dtype_name(ctx.inputs[0]->dtype));
  return prepare_lookup(ctx, "ELU", elu_float, /*logistic=*/false);
}

Status lookup_table_eval(EvalContext& ctx) {
  const auto& d = *op_data_as<LookupTableData>(ctx);
  const TensorRef& in = *ctx.inputs[0];
  const uint8_t* src = in.as<const uint8_t>();
  uint8_t* dst = ctx.outputs[0]->as<uint8_t>();
  const int64_t n = in.num_elements();
  for (int64_t i = 0; i < n; ++i) dst[i] = d.table[src[i]];
  return ok_status();
}

Status softmax_prepare(PrepareContext& ctx) {
  const std::string op = "SOFTMAX";
  QDET_ASSIGN_OR_RETURN(const TensorRef* in, required_input(ctx, 0, op));
  QDET_ASSIGN_OR_RETURN(TensorRef& out, single_output(ctx, op));
  if (!is_int8_or_uint8(in->dtype))
    return unsupported("{}: quantized kernel does not handle {}", op, dtype_name(in->dtype));
  if (out.dtype != in->dtype)
    return unsupported("{}: {} input with {} output is not supported", op,
                       dtype_name(in->dtype), dtype_name(out.dtype));
  if (in->shape.empty())
    return invalid_argument("{}: input must have at least one dimension", op);
  QDET_TRY(check_per_tensor_quant(*in, op + " input"));
  QDET_TRY(check_per_tensor_quant(out, op + " output"));
  auto d = std::make_unique<SoftmaxData>();
  const float scale = -in->scale() * ctx.op.attrs.beta;
  for (int32_t v = 0; v <= 255; ++v) d->table[255 - v] = std::exp(scale * static_cast<float>(v));
  d->dtype = in->dtype;
  d->output_scale = out.scale();
  d->output_zero_point = out.zero_point();
  static_cast<LastDimRows&>(*d) = last_dim_rows(*in);
  out.shape = in->shape;
  return keep_op_data(ctx, std::move(d));
}

Status softmax_eval(EvalContext& ctx) {
  const auto& d = *op_data_as<SoftmaxData>(ctx);
  if (d.dtype == DType::kInt8)
    softmax_kernel(d, ctx.inputs[0]->as<const int8_t>(), ctx.outputs[0]->as<int8_t>());
  else
    softmax_kernel(d, ctx.inputs[0]->as<const uint8_t>(), ctx.outputs[0]->as<uint8_t>());
  return ok_status();
}

}  // namespace qdet::rt::quantized
