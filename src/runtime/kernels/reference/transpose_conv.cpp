// TRANSPOSE_CONV (TFLite transpose_conv.cc; reference_ops::TransposeConv for float32 and uint8,
// reference_integer_ops::TransposeConv for int8 and int16x8). Inputs: 0 the output shape (a
// constant int32 [4]), 1 the weights [out_c, kh, kw, in_c], 2 the NHWC input, 3 an optional
// bias [out_c]. Each input pixel is scattered into the output: out[y*s - pad + ky, x*s - pad +
// kx, oc] += in[y, x, ic] * w[oc, ky, kx, ic], positions outside the output skipped; the padding
// is TFLite's for a convolution from the output's size back to the input's (the smaller half
// before). Then the bias and the fused activation; quantized: the integer sums (input +
// input_offset) * (weight + weight_offset) in int32 (int64 for 16x8) plus the bias, requantized
// per channel like CONV_2D.
#include "runtime/kernels/reference/common.h"
#include "runtime/kernels/reference/quantized/conv_params.h"

namespace qdet::rt::ref {
namespace {

struct TransposeConvData : OpData {
  int32_t batches = 0, in_h = 0, in_w = 0, in_c = 0, out_h = 0, out_w = 0, out_c = 0, k_h = 0, k_w = 0;
  int32_t stride_h = 1, stride_w = 1, pad_top = 0, pad_left = 0;
  ActivationRange act;                       // float32
  bool quantized = false;
  quantized::ConvQuant quant;                // integer dtypes
};

Status prepare_geometry(PrepareContext& ctx, TransposeConvData& d) {
  const TensorRef& weights = *ctx.inputs[1];
  const TensorRef& in = *ctx.inputs[2];
  if (in.shape.size() != 4 || weights.shape.size() != 4)
    return invalid_argument("input {} and weights {} must be 4-D", shape_to_string(in.shape),
                            shape_to_string(weights.shape));
  QDET_ASSIGN_OR_RETURN(auto dims, read_constant_ints(ctx.inputs[0], "the output shape input"));
  if (dims.size() != 4) return invalid_argument("the output shape must hold 4 values, has {}", dims.size());
  QDET_ASSIGN_OR_RETURN(Shape out_shape, to_shape(dims, "the output shape"));
  if (out_shape[0] != in.shape[0] || out_shape[3] != weights.shape[0] || weights.shape[3] != in.shape[3])
    return invalid_argument("output shape {} does not fit input {} and weights {}", shape_to_string(out_shape),
                            shape_to_string(in.shape), shape_to_string(weights.shape));
  const auto& a = ctx.op.attrs;
  if (a.stride_h < 1 || a.stride_w < 1) return invalid_argument("strides must be >= 1");
  d.batches = in.shape[0], d.in_h = in.shape[1], d.in_w = in.shape[2], d.in_c = in.shape[3];
  d.out_h = out_shape[1], d.out_w = out_shape[2], d.out_c = out_shape[3];
  d.k_h = weights.shape[1], d.k_w = weights.shape[2];
  d.stride_h = a.stride_h, d.stride_w = a.stride_w;
  QDET_ASSIGN_OR_RETURN(auto ph, compute_padding(a.padding, d.out_h, d.k_h, d.stride_h, 1, "height"));
  QDET_ASSIGN_OR_RETURN(auto pw, compute_padding(a.padding, d.out_w, d.k_w, d.stride_w, 1, "width"));
  d.pad_top = ph.before;
  d.pad_left = pw.before;
  ctx.outputs[0]->shape = out_shape;
  return ok_status();
}

Status prepare(PrepareContext& ctx) {
  QDET_TRY(check_arity(ctx, 3, 4, 1));
  const TensorRef& weights = *ctx.inputs[1];
  const TensorRef& in = *ctx.inputs[2];
  const TensorRef* bias = ctx.inputs.size() > 3 ? ctx.inputs[3] : nullptr;
  TensorRef& out = *ctx.outputs[0];
  auto d = std::make_unique<TransposeConvData>();
  QDET_TRY(prepare_geometry(ctx, *d));
  if (in.dtype == DType::kFloat32) {
    if (weights.dtype != DType::kFloat32) return unsupported("no float kernel for {} weights", dtype_name(weights.dtype));
    QDET_TRY(expect_dtype(out, DType::kFloat32, "the output"));
    if (bias && (bias->dtype != DType::kFloat32 || bias->num_elements() != d->out_c))
      return invalid_argument("the bias must be float32 with {} values", d->out_c);
    QDET_ASSIGN_OR_RETURN(d->act, activation_range(ctx.op.attrs.activation));
  } else if (in.dtype == DType::kInt8 || in.dtype == DType::kUInt8 || in.dtype == DType::kInt16) {
    QDET_ASSIGN_OR_RETURN(d->quant, quantized::prepare_conv_quant("TRANSPOSE_CONV", in, weights, bias, out,
                                                                  d->out_c, 0, ctx.op.attrs.activation));
    d->quantized = true;
    const size_t acc_bytes = in.dtype == DType::kInt16 ? 8 : 4;
    ctx.scratch_bytes = static_cast<size_t>(out.num_elements()) * acc_bytes;
  } else {
    return no_kernel_for_dtype(in.dtype);
  }
  return keep_op_data(ctx, std::move(d));
}

// out[...] += in * w over every input pixel (the scatter of the reference kernels).
template <typename In, typename W, typename Acc>
void scatter(const TransposeConvData& d, const In* in, const W* w, Acc in_off, Acc w_off, Acc* acc) {
  std::fill(acc, acc + static_cast<size_t>(d.batches) * d.out_h * d.out_w * d.out_c, Acc{0});
  for (int32_t b = 0; b < d.batches; ++b)
    for (int32_t y = 0; y < d.in_h; ++y)
      for (int32_t x = 0; x < d.in_w; ++x)
        for (int32_t ic = 0; ic < d.in_c; ++ic) {
          const Acc v = static_cast<Acc>(in[((static_cast<size_t>(b) * d.in_h + y) * d.in_w + x) * d.in_c + ic]) + in_off;
          for (int32_t ky = 0; ky < d.k_h; ++ky) {
            const int32_t oy = y * d.stride_h - d.pad_top + ky;
            if (oy < 0 || oy >= d.out_h) continue;
            for (int32_t kx = 0; kx < d.k_w; ++kx) {
              const int32_t ox = x * d.stride_w - d.pad_left + kx;
              if (ox < 0 || ox >= d.out_w) continue;
              Acc* o = acc + ((static_cast<size_t>(b) * d.out_h + oy) * d.out_w + ox) * d.out_c;
              for (int32_t oc = 0; oc < d.out_c; ++oc) {
                const W wv = w[((static_cast<size_t>(oc) * d.k_h + ky) * d.k_w + kx) * d.in_c + ic];
                o[oc] += v * (static_cast<Acc>(wv) + w_off);
              }
            }
          }
        }
}

template <typename In, typename W, typename Bias, typename Acc>
void eval_quantized(const TransposeConvData& d, EvalContext& ctx) {
  const quantized::ConvQuant& q = d.quant;
  Acc* acc = reinterpret_cast<Acc*>(ctx.scratch);
  scatter<In, W, Acc>(d, ctx.inputs[2]->as<const In>(), ctx.inputs[1]->as<const W>(), q.input_offset,
                      q.filter_offset, acc);
  const TensorRef* bias = ctx.inputs.size() > 3 ? ctx.inputs[3] : nullptr;
  const Bias* b = bias ? bias->as<const Bias>() : nullptr;
  In* out = ctx.outputs[0]->as<In>();
  const int64_t n = ctx.outputs[0]->num_elements();
  for (int64_t i = 0; i < n; ++i) {
    out[i] = quantized::requantize_accumulator<In>(q, acc[i], b, static_cast<int32_t>(i % d.out_c));
  }
}

Status eval(EvalContext& ctx) {
  const auto& d = *op_data_as<TransposeConvData>(ctx);
  if (!d.quantized) {
    float* out = ctx.outputs[0]->as<float>();
    scatter<float, float, float>(d, ctx.inputs[2]->as<const float>(), ctx.inputs[1]->as<const float>(), 0.0f,
                                 0.0f, out);
    const TensorRef* bias = ctx.inputs.size() > 3 ? ctx.inputs[3] : nullptr;
    const int64_t n = ctx.outputs[0]->num_elements();
    for (int64_t i = 0; i < n; ++i)
      out[i] = clamp_activation(out[i] + (bias ? bias->as<const float>()[i % d.out_c] : 0.0f), d.act);
    return ok_status();
  }
  switch (d.quant.family) {
    case quantized::ConvFamily::kUInt8: eval_quantized<uint8_t, uint8_t, int32_t, int32_t>(d, ctx); break;
    case quantized::ConvFamily::kInt8: eval_quantized<int8_t, int8_t, int32_t, int32_t>(d, ctx); break;
    case quantized::ConvFamily::kInt16x8:
      if (d.quant.bias_dtype == DType::kInt32) eval_quantized<int16_t, int8_t, int32_t, int64_t>(d, ctx);
      else eval_quantized<int16_t, int8_t, int64_t, int64_t>(d, ctx);
      break;
  }
  return ok_status();
}

}  // namespace

const Kernel kTransposeConv = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
