// float32 CONV_2D on oneDNN (the selection rule is in kernels.h).
//
// prepare: the geometry TFLite's float convolution has (kernel_util's fill_conv_geometry), a
// oneDNN convolution per output slice (sliced_conv.h) with the bias and the fused activation as
// a post-op, weights reordered once into oneDNN's blocked layout. (A SiLU folded into the
// convolution as oneDNN's swish post-op was measured slower than qdet's separate one-pass SiLU
// on YOLOX-Nano, 17.3 against 16.3 ms, so the plan keeps them apart.)
#include <algorithm>
#include <cstring>
#include <dnnl.hpp>
#include <memory>
#include <vector>

#include "runtime/kernel_util.h"
#include "runtime/kernels/onednn/kernels.h"
#include "runtime/kernels/onednn/sliced_conv.h"
#include "runtime/kernels/reference/common.h"

namespace qdet::rt::onednn {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

struct FloatConvData : OpData {
  SlicedConv conv;
  ConvGeometry geometry;
  const void* weights = nullptr;  // the filter, OHWI, constant (lives with the graph)
  std::vector<float> bias;        // zeros when the op has none
  graph::Activation activation = graph::Activation::kNone;
  int num_threads = 1;
  std::string where;
};

// Only oneDNN's JIT implementations (its reference ones are slower than XNNPACK).
bool is_jit_impl(const char* name) {
  const std::string s = name ? name : "";
  return s.find("jit") != std::string::npos || s.find("brg") != std::string::npos;
}

Status build(const FloatConvData& d, const ConvGeometry& g, SlicedConv* out) {
  dnnl::post_ops ops;
  switch (d.activation) {
    case graph::Activation::kNone: break;
    case graph::Activation::kRelu: ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f); break;
    case graph::Activation::kRelu6: ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_clip, 0.0f, 6.0f); break;
    case graph::Activation::kReluN1To1: ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_clip, -1.0f, 1.0f); break;
    default: return unsupported("{}: fused {} activation", d.where, graph::activation_name(d.activation));
  }
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::library);
  return build_sliced_conv(*out, g, d.num_threads, d.weights, /*with_bias=*/true, attr,
                           {is_jit_impl, "a JIT kernel"}, d.where);
}

Status conv_prepare(PrepareContext& ctx) {
  const std::string where = fmt::format("{} (op {})", ctx.op.name(), ctx.op_index);
  if (!family_enabled()) return unsupported("{}: QDET_ONEDNN=0", where);
  if (ctx.exact_float)
    return unsupported("{}: this model's float values are quantized later: XNNPACK's float bytes are kept", where);
  if (ctx.inputs.size() < 2 || ctx.inputs.size() > 3 || ctx.outputs.size() != 1 || !ctx.inputs[0] ||
      !ctx.inputs[1])
    return unsupported("{}: expects input, filter, optional bias and one output", where);
  const TensorRef& input = *ctx.inputs[0];
  const TensorRef& filter = *ctx.inputs[1];
  const TensorRef* bias = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
  if (input.dtype != DType::kFloat32 || filter.dtype != DType::kFloat32 || ctx.outputs[0]->dtype != DType::kFloat32)
    return unsupported("{}: onednn float convolutions take float32 input, filter and output", where);
  if (input.shape.size() != 4 || filter.shape.size() != 4 || !filter.is_constant || !filter.data ||
      (bias && (!bias->is_constant || !bias->data)))
    return unsupported("{}: a 4-D input with a constant 4-D filter and bias", where);
  if (filter.shape[3] != input.shape[3])
    return unsupported("{}: grouped convolution (XNNPACK runs it)", where);
  rt::ConvGeometry g;
  QDET_TRY(fill_conv_geometry(input, filter.shape[1], filter.shape[2], filter.shape[0], bias, ctx.op.attrs, &g));
  if (int64_t{g.out_h} * g.out_w * g.out_c == 0 || g.in_c == 0) return unsupported("{}: empty tensors", where);
  auto d = std::make_unique<FloatConvData>();
  d->where = where;
  d->num_threads = ctx.num_threads;
  d->weights = filter.data;
  d->activation = ctx.op.attrs.activation;
  d->bias.assign(static_cast<size_t>(g.out_c), 0.0f);
  if (bias) std::memcpy(d->bias.data(), bias->data, sizeof(float) * d->bias.size());
  d->geometry = {g.batches, g.in_h,    g.in_w,     g.in_c,  g.out_h,   g.out_w,  g.out_c, 1,     g.in_c,
                 g.k_h,     g.k_w,     g.stride_h, g.stride_w, g.dil_h, g.dil_w, g.pad_top, g.pad_left,
                 dt::f32,   dt::f32,   dt::f32};
  QDET_TRY(build(*d, d->geometry, &d->conv));
  ctx.outputs[0]->shape = {g.batches, g.out_h, g.out_w, g.out_c};
  ctx.op_data = std::move(d);
  return ok_status();
}

Status conv_eval(EvalContext& ctx) {
  auto* d = op_data_as<FloatConvData>(ctx);
  std::vector<std::string> errors(d->conv.slices.size());
  dnnl::memory bias({{d->geometry.out_c}, dt::f32, tag::x}, cpu_engine(), d->bias.data());
  ref::parallel_for(ctx.threadpool, d->conv.slices.size(), [&](size_t k) {
    errors[k] = run_slice(d->conv, k, ctx.inputs[0]->data, sizeof(float), ctx.outputs[0]->data, sizeof(float),
                          {{DNNL_ARG_BIAS, bias}});
  });
  for (const std::string& e : errors)
    if (!e.empty()) return internal_error("{} (onednn): {}", ctx.op.name(), e);
  return ok_status();
}

// A zero PAD before the convolution becomes more leading padding: the bottom and right padding
// are derived from the output size (sliced_conv), so they follow.
bool fold_input_pad(OpData* data, const Shape& unpadded, const SpatialPad& pad) {
  auto* d = static_cast<FloatConvData*>(data);
  // The padded tensor's rows and columns past the input are zeros either way: the convolution
  // reads the same values, and adding 0.0 leaves each sum's bits unchanged.
  const auto g = d ? geometry_with_input_pad(d->geometry, unpadded, pad) : std::nullopt;
  SlicedConv conv;
  if (!g || !build(*d, *g, &conv).ok()) return false;
  d->geometry = *g;
  d->conv = std::move(conv);
  return true;
}

}  // namespace

const Kernel kConv2dFloat = {"onednn", conv_prepare, conv_eval, fold_input_pad};

}  // namespace qdet::rt::onednn
