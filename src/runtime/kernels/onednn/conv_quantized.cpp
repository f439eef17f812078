// int8 / uint8 CONV_2D on oneDNN (the contract and selection rule are in kernels.h).
//
// prepare: checks what the reference checks (quantized::prepare_conv_quant), builds the oneDNN
// convolution (NHWC source with a run-time source zero point, weights in oneDNN's own blocked
// layout reordered once here, s32 NHWC destination in the op's scratch), and keeps the bias,
// the fp32 requantization scales and the output clamp. eval: oneDNN's convolution, then one
// pass of bias + requantization over the accumulators.
//
// Threads: one slice of the output per interpreter thread (sliced_conv.h), each requantized in
// the same task while its accumulators are in cache.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <dnnl.hpp>
#include <memory>
#include <mutex>
#include <vector>

#include "runtime/kernels/onednn/kernels.h"
#include "runtime/kernels/onednn/sliced_conv.h"
#include "runtime/kernels/reference/common.h"
#include "runtime/kernels/reference/quantized/conv_params.h"
#include "runtime/quantization_util.h"
#include "base/simd_clones.h"

namespace qdet::rt::onednn {
namespace {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

// oneDNN reports accumulators through fp32: exact while |value| < 2^24 (kernels.h).
constexpr double kExactAccumulatorLimit = 16777216.0;

std::string label(const PrepareContext& ctx) {
  return fmt::format("{} (op {})", ctx.op.name(), ctx.op_index);
}

bool is_fast_impl(const char* name) {
  const std::string s = name ? name : "";
  return s.find("vnni") != std::string::npos || s.find("amx") != std::string::npos;
}

struct ConvData : OpData {
  SlicedConv conv;
  ConvGeometry geometry;
  std::vector<int8_t> weights;   // w - w_zp, OHWI: kept to build again (fold_input_pad)
  int num_threads = 1;
  std::string where;
  int32_t src_zero_point = 0;
  std::vector<int32_t> bias;     // per output channel (zeros when the op has none)
  std::vector<float> scale;      // fp32 requantization scale per output channel
  int32_t out_zero_point = 0, qmin = 0, qmax = 0;
  bool out_signed = true;
  int64_t pixels = 0;            // output pixels (batch x height x width)
  int32_t channels = 0;
  int32_t acc_channels = 0;      // channels + 1 with the window-sum channel (prepare_weights)
  int32_t window_sum_factor = 0; // 128 - w_zp with that channel, else 0
  std::string impl;
};

// XNNPACK's fp32 requantization (its "magic bias" formulation): clamp in the float domain
// relative to the zero point, add 1.5 * 2^23 so that the float's low mantissa bits hold the
// value rounded half to even, and read them back.
// `acc` rows are `acc_channels` apart; with the window-sum channel (acc_channels > channels),
// its value times `window_sum_factor` is added to each channel's first.
template <typename Out>
QDET_SIMD_CLONES void requantize_rows(
    const int32_t* acc, Out* out, int64_t rows, int32_t channels, int32_t acc_channels, int32_t window_sum_factor,
    const int32_t* bias, const float* scale, float lo, float hi, int32_t magic_less_zero_point) {
  constexpr float kMagic = 12582912.0f;
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t* a = acc + r * acc_channels;
    Out* o = out + r * channels;
    const int32_t extra = acc_channels > channels ? window_sum_factor * a[channels] : 0;
    for (int32_t c = 0; c < channels; ++c) {
      float f = static_cast<float>(a[c] + bias[c] + extra) * scale[c];
      f = std::max(f, lo);
      f = std::min(f, hi);
      f += kMagic;
      int32_t bits;
      std::memcpy(&bits, &f, sizeof bits);
      o[c] = static_cast<Out>(bits - magic_less_zero_point);
    }
  }
}

// Weights as int8, with the exactness bound (kernels.h) checked per output channel. w - w_zp
// where every weight fits (int8 weights always do: their zero point is 0). uint8 weights whose
// spread around the zero point does not fit int8 are stored as w - 128 instead, with one more
// output channel of ones: it sums (x - x_zp) over each window, and acc' + (128 - w_zp) x sum is
// the same integer as sum((x - x_zp) x (w - w_zp)). (Ungrouped convolutions only.)
Status prepare_weights(const PrepareContext& ctx, const TensorRef& filter, int32_t w_zp, int32_t out_c,
                       int64_t per_channel, int32_t groups, ConvData& d) {
  const auto weight = [&](size_t k) {
    return filter.dtype == DType::kUInt8 ? int32_t{filter.data[k]} : int32_t{static_cast<int8_t>(filter.data[k])};
  };
  const size_t count = static_cast<size_t>(out_c * per_channel);
  bool fits = true;
  for (size_t k = 0; k < count && fits; ++k) fits = weight(k) - w_zp >= -128 && weight(k) - w_zp <= 127;
  int32_t offset = w_zp;
  if (!fits) {
    if (filter.dtype != DType::kUInt8 || groups != 1)
      return unsupported("{}: weights minus their zero point do not fit int8", label(ctx));
    offset = 128;
    d.window_sum_factor = 128 - w_zp;
    if (256.0 * static_cast<double>(per_channel) >= kExactAccumulatorLimit)
      return unsupported("{}: a window of {} inputs could reach 2^24 in its sum", label(ctx), per_channel);
  }
  d.acc_channels = out_c + (fits ? 0 : 1);
  d.weights.assign(static_cast<size_t>(d.acc_channels * per_channel), 1);
  for (int32_t c = 0; c < out_c; ++c) {
    double sum_abs = 0;
    for (int64_t i = 0; i < per_channel; ++i) {
      const size_t k = static_cast<size_t>(c * per_channel + i);
      d.weights[k] = static_cast<int8_t>(weight(k) - offset);
      sum_abs += std::abs(weight(k) - offset);
    }
    if (256.0 * sum_abs >= kExactAccumulatorLimit)
      return unsupported("{}: channel {} could reach 2^24 in its accumulator (256 x sum|w| = {})",
                         label(ctx), c, 256.0 * sum_abs);
  }
  return ok_status();
}

Status build(const ConvData& d, const ConvGeometry& g, SlicedConv* out) {
  dnnl::primitive_attr attr;
  attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::library);
  return build_sliced_conv(*out, g, d.num_threads, d.weights.data(), /*with_bias=*/false, attr,
                           {is_fast_impl, "a VNNI/AMX kernel"}, d.where);
}

Status conv_prepare(PrepareContext& ctx) {
  if (!has_fast_int8())
    return unsupported("{}: oneDNN has no VNNI/AMX int8 convolution on this CPU", label(ctx));
  if (ctx.inputs.size() < 2 || ctx.inputs.size() > 3 || ctx.outputs.size() != 1 ||
      ctx.inputs[0] == nullptr || ctx.inputs[1] == nullptr)
    return unsupported("{}: expects input, filter, optional bias and one output", label(ctx));
  const TensorRef& input = *ctx.inputs[0];
  const TensorRef& filter = *ctx.inputs[1];
  const TensorRef* bias = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
  TensorRef& output = *ctx.outputs[0];
  if (input.dtype != DType::kInt8 && input.dtype != DType::kUInt8)
    return unsupported("{}: input is {}, onednn takes int8 or uint8", label(ctx), dtype_name(input.dtype));
  if (input.shape.size() != 4 || filter.shape.size() != 4 || input.num_elements() == 0 ||
      filter.num_elements() == 0)
    return unsupported("{}: input {} and filter {} must be non-empty 4-D", label(ctx),
                       shape_to_string(input.shape), shape_to_string(filter.shape));
  if (!filter.is_constant || filter.data == nullptr || (bias && (!bias->is_constant || bias->data == nullptr)))
    return unsupported("{}: filter and bias must be constant", label(ctx));
  const int32_t out_c = filter.shape[0], k_h = filter.shape[1], k_w = filter.shape[2];
  const int32_t group_in = filter.shape[3], in_c = input.shape[3];
  if (group_in <= 0 || in_c % group_in != 0 || out_c % (in_c / group_in) != 0)
    return unsupported("{}: filter {} does not divide input channels {}", label(ctx),
                       shape_to_string(filter.shape), in_c);
  const int32_t groups = in_c / group_in;
  auto checked = quantized::prepare_conv_quant(label(ctx), input, filter, bias, output, out_c,
                                               /*channel_axis=*/0, ctx.op.attrs.activation);
  if (!checked.ok()) return Status(StatusCode::kUnsupported, checked.status().message());
  if (checked->bias_dtype == DType::kInt64)
    return unsupported("{}: int64 bias", label(ctx));
  if (input.quant->scale.size() > 1 || output.quant->scale.size() > 1)
    return unsupported("{}: per-channel input or output quantization", label(ctx));

  const graph::OpAttrs& a = ctx.op.attrs;
  auto ph = ref::compute_padding(a.padding, input.shape[1], k_h, a.stride_h, a.dilation_h, "height");
  auto pw = ref::compute_padding(a.padding, input.shape[2], k_w, a.stride_w, a.dilation_w, "width");
  if (!ph.ok() || !pw.ok()) return unsupported("{}: bad geometry", label(ctx));
  if (ph->out <= 0 || pw->out <= 0) return unsupported("{}: empty output", label(ctx));
  auto d = std::make_unique<ConvData>();

  QDET_TRY(prepare_weights(ctx, filter, -checked->filter_offset, out_c, int64_t{k_h} * k_w * group_in, groups, *d));

  // Requantization as XNNPACK sets it up (float arithmetic, in this order), with its limits.
  const float in_scale = input.scale(), out_scale = output.scale();
  const std::vector<float>& w_scales = filter.quant->scale;
  d->scale.resize(static_cast<size_t>(out_c));
  for (int32_t c = 0; c < out_c; ++c) {
    const float ws = w_scales.size() > 1 ? w_scales[static_cast<size_t>(c)] : w_scales[0];
    const float s = in_scale * ws / out_scale;
    if (!std::isnormal(s) || s >= 256.0f || s < 0x1.0p-32f)
      return unsupported("{}: requantization scale {} outside what XNNPACK's arithmetic takes", label(ctx), s);
    d->scale[static_cast<size_t>(c)] = s;
  }
  d->bias.assign(static_cast<size_t>(out_c), 0);
  if (bias) std::memcpy(d->bias.data(), bias->data, sizeof(int32_t) * static_cast<size_t>(out_c));
  d->out_zero_point = output.zero_point();
  d->qmin = checked->activation.min;
  d->qmax = checked->activation.max;
  d->out_signed = output.dtype == DType::kInt8;
  d->src_zero_point = input.zero_point();
  d->channels = out_c;
  d->pixels = int64_t{input.shape[0]} * ph->out * pw->out;

  d->geometry = {input.shape[0], input.shape[1], input.shape[2], in_c, ph->out, pw->out, d->acc_channels, groups,
                 group_in, k_h, k_w, a.stride_h, a.stride_w, a.dilation_h, a.dilation_w, ph->before, pw->before,
                 input.dtype == DType::kUInt8 ? dt::u8 : dt::s8, dt::s8, dt::s32};
  d->num_threads = ctx.num_threads;
  d->where = label(ctx);
  QDET_TRY(build(*d, d->geometry, &d->conv));
  d->impl = d->conv.impl;
  output.shape = {input.shape[0], ph->out, pw->out, out_c};
  ctx.scratch_bytes = static_cast<size_t>(d->pixels) * static_cast<size_t>(d->acc_channels) * sizeof(int32_t);
  ctx.op_data = std::move(d);
  return ok_status();
}

Status conv_eval(EvalContext& ctx) {
  auto* d = op_data_as<ConvData>(ctx);
  auto* acc = reinterpret_cast<int32_t*>(ctx.scratch);
  const float lo = static_cast<float>(d->qmin - d->out_zero_point);
  const float hi = static_cast<float>(d->qmax - d->out_zero_point);
  const int32_t magic_less_zp = 0x4B400000 - d->out_zero_point;
  const size_t src_bytes = ctx.inputs[0]->dtype == DType::kUInt8 ? sizeof(uint8_t) : sizeof(int8_t);
  std::vector<std::string> errors(d->conv.slices.size());
  ref::parallel_for(ctx.threadpool, d->conv.slices.size(), [&](size_t k) {
    int32_t zp = d->src_zero_point;
    dnnl::memory zp_mem({{1}, dt::s32, tag::x}, cpu_engine(), &zp);
    errors[k] = run_slice(d->conv, k, ctx.inputs[0]->data, src_bytes, acc, sizeof(int32_t),
                          {{DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC, zp_mem}});
    if (!errors[k].empty()) return;
    const ConvSlice& slice = d->conv.slices[k];
    const int32_t* slice_acc = acc + slice.pixel_begin * d->acc_channels;
    if (d->out_signed)
      requantize_rows(slice_acc, ctx.outputs[0]->as<int8_t>() + slice.pixel_begin * d->channels, slice.pixels,
                      d->channels, d->acc_channels, d->window_sum_factor, d->bias.data(), d->scale.data(), lo, hi,
                      magic_less_zp);
    else
      requantize_rows(slice_acc, ctx.outputs[0]->as<uint8_t>() + slice.pixel_begin * d->channels, slice.pixels,
                      d->channels, d->acc_channels, d->window_sum_factor, d->bias.data(), d->scale.data(), lo, hi,
                      magic_less_zp);
  });
  for (const std::string& e : errors)
    if (!e.empty()) return internal_error("{} (onednn): {}", ctx.op.name(), e);
  return ok_status();
}

// A PAD of the source zero point before the convolution becomes more leading padding (the
// bottom and right padding follow from the output size, sliced_conv). oneDNN's padding with a
// source zero point contributes (zp - zp) x w = 0 to each sum, as the padded copy's zero-point
// values do, so the accumulators, and the bytes after requantization, are the same.
bool fold_input_pad(OpData* data, const Shape& unpadded, const SpatialPad& pad) {
  auto* d = static_cast<ConvData*>(data);
  const auto g = d ? geometry_with_input_pad(d->geometry, unpadded, pad) : std::nullopt;
  SlicedConv conv;
  if (!g || !build(*d, *g, &conv).ok()) return false;
  d->geometry = *g;
  d->conv = std::move(conv);
  d->impl = d->conv.impl;
  return true;
}

}  // namespace

bool family_enabled() {
  static const bool enabled = [] {
    const char* env = std::getenv("QDET_ONEDNN");
    return !(env && std::string(env) == "0");
  }();
  return enabled;
}

bool has_fast_int8() {
  static const bool fast = [] {
    if (!family_enabled()) return false;
    try {
      dnnl::engine& eng = cpu_engine();
      auto desc = dnnl::convolution_forward::desc(
          dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
          dnnl::memory::desc({1, 64, 16, 16}, dt::s8, tag::nhwc), dnnl::memory::desc({64, 64, 3, 3}, dt::s8, tag::any),
          dnnl::memory::desc({1, 64, 16, 16}, dt::s32, tag::nhwc), {1, 1}, {1, 1}, {1, 1});
      dnnl::primitive_attr attr;
      attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
      auto pd = dnnl::convolution_forward::primitive_desc(desc, attr, eng);
      return is_fast_impl(pd.impl_info_str());
    } catch (const dnnl::error&) {
      return false;
    }
  }();
  return fast;
}

const Kernel kConv2dQuantized = {"onednn", conv_prepare, conv_eval, fold_input_pad};

}  // namespace qdet::rt::onednn
