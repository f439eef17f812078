// int8 / uint8 CONV_2D on oneDNN (the contract and selection rule are in kernels.h).
//
// prepare: checks what the reference checks (quantized::prepare_conv_quant), builds the oneDNN
// convolution (NHWC source with a run-time source zero point, weights in oneDNN's own blocked
// layout reordered once here, s32 NHWC destination in the op's scratch), and keeps the bias,
// the fp32 requantization scales and the output clamp. eval: oneDNN's convolution, then one
// pass of bias + requantization over the accumulators.
//
// Threads: the output is cut into one slice per interpreter thread (rows of the image, or whole
// images of a batch), each its own oneDNN convolution run with one OpenMP thread on a thread of
// the interpreter's pthreadpool, followed by its requantization while the accumulators are in
// cache. oneDNN's OpenMP team is never started: with libgomp's spinning workers beside
// pthreadpool's, 2 threads on 2 cores ran YOLOX-Nano int8 at 336 ms instead of 14.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <dnnl.hpp>
#include <memory>
#include <mutex>
#include <vector>

#include "runtime/kernels/onednn/kernels.h"
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

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

std::string label(const PrepareContext& ctx) {
  return fmt::format("{} (op {})", ctx.op.name(), ctx.op_index);
}

bool is_fast_impl(const char* name) {
  const std::string s = name ? name : "";
  return s.find("vnni") != std::string::npos || s.find("amx") != std::string::npos;
}

// One thread's part of the output: output rows [row_begin, row_end) of every image when the
// batch is 1, else images [image_begin, image_end); its convolution reads only the input rows
// (or images) it needs, with its own top and bottom padding.
struct Slice {
  dnnl::convolution_forward conv;
  dnnl::memory::desc src_md, dst_md;
  int64_t src_offset = 0;        // elements into the input
  int64_t pixel_begin = 0;       // first output pixel (n x h x w order)
  int64_t pixels = 0;
  int weights = 0;               // index into ConvData::weights
};

struct ConvData : OpData {
  std::vector<Slice> slices;
  std::vector<dnnl::memory> weights;  // reordered at prepare, one per layout the slices chose
  std::vector<dnnl::memory::desc> weight_mds;
  int32_t src_zero_point = 0;
  std::vector<int32_t> bias;     // per output channel (zeros when the op has none)
  std::vector<float> scale;      // fp32 requantization scale per output channel
  int32_t out_zero_point = 0, qmin = 0, qmax = 0;
  bool out_signed = true;
  int64_t pixels = 0;            // output pixels (batch x height x width)
  int32_t channels = 0;
  std::string impl;
};

// The geometry a slice's convolution needs.
struct ConvGeometry {
  int64_t batch, in_h, in_w, in_c, out_h, out_w, out_c, groups, group_in, k_h, k_w;
  int64_t stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left, pad_right;
  dt src_type;
};

// Builds the convolution of images [n0, n1) and output rows [r0, r1) (all rows when the slice
// is whole images), and reorders the weights when its layout is new.
Status add_slice(ConvData& d, const ConvGeometry& g, int64_t n0, int64_t n1, int64_t r0, int64_t r1,
                 const std::vector<int8_t>& w, const std::string& where) {
  using dims = dnnl::memory::dims;
  dnnl::engine& eng = cpu_engine();
  // Input rows the slice reads: from r0's first tap to (r1 - 1)'s last, clipped to the image;
  // what lies outside is this slice's padding.
  const int64_t first = r0 * g.stride_h - g.pad_top;
  const int64_t last = (r1 - 1) * g.stride_h - g.pad_top + (g.k_h - 1) * g.dilation_h;
  // A slice of whole images keeps every row: its images lie in_h rows apart in memory.
  const bool whole_images = r0 == 0 && r1 == g.out_h;
  const int64_t in_begin = whole_images ? 0 : std::max<int64_t>(0, first);
  const int64_t in_end = whole_images ? g.in_h : std::min<int64_t>(g.in_h, last + 1);
  if (in_end <= in_begin) return unsupported("{}: a slice reads no input row", where);
  const int64_t pad_top = in_begin - first, pad_bottom = std::max<int64_t>(0, last + 1 - g.in_h);
  Slice slice;
  slice.src_md = dnnl::memory::desc({n1 - n0, g.in_c, in_end - in_begin, g.in_w}, g.src_type, tag::nhwc);
  slice.dst_md = dnnl::memory::desc({n1 - n0, g.out_c, r1 - r0, g.out_w}, dt::s32, tag::nhwc);
  slice.src_offset = (n0 * g.in_h + in_begin) * g.in_w * g.in_c;
  slice.pixel_begin = (n0 * g.out_h + r0) * g.out_w;
  slice.pixels = (n1 - n0) * (r1 - r0) * g.out_w;
  dnnl::memory::desc wei_any, wei_user;
  if (g.groups == 1) {
    wei_any = dnnl::memory::desc({g.out_c, g.in_c, g.k_h, g.k_w}, dt::s8, tag::any);
    wei_user = dnnl::memory::desc({g.out_c, g.in_c, g.k_h, g.k_w}, dt::s8, tag::ohwi);
  } else {
    const dims wd = {g.groups, g.out_c / g.groups, g.group_in, g.k_h, g.k_w};
    wei_any = dnnl::memory::desc(wd, dt::s8, tag::any);
    wei_user = dnnl::memory::desc(wd, dt::s8, tag::gohwi);
  }
  auto desc = dnnl::convolution_forward::desc(
      dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, slice.src_md, wei_any,
      slice.dst_md, dims{g.stride_h, g.stride_w}, dims{g.dilation_h - 1, g.dilation_w - 1},
      dims{pad_top, g.pad_left}, dims{pad_bottom, g.pad_right});
  dnnl::primitive_attr attr;
  attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::library);
  auto pd = dnnl::convolution_forward::primitive_desc(desc, attr, eng);
  if (!is_fast_impl(pd.impl_info_str()))
    return unsupported("{}: oneDNN would run '{}', not a VNNI/AMX kernel", where, pd.impl_info_str());
  if (d.impl.empty()) d.impl = pd.impl_info_str();
  const auto known = std::find(d.weight_mds.begin(), d.weight_mds.end(), pd.weights_desc());
  slice.weights = static_cast<int>(known - d.weight_mds.begin());
  if (known == d.weight_mds.end()) {
    d.weight_mds.push_back(pd.weights_desc());
    d.weights.emplace_back(pd.weights_desc(), eng);
    dnnl::memory user(wei_user, eng, const_cast<int8_t*>(w.data()));
    dnnl::stream s(eng);
    dnnl::reorder(user, d.weights.back()).execute(s, user, d.weights.back());
    s.wait();
  }
  slice.conv = dnnl::convolution_forward(pd);
  d.slices.push_back(std::move(slice));
  return ok_status();
}

// XNNPACK's fp32 requantization (its "magic bias" formulation): clamp in the float domain
// relative to the zero point, add 1.5 * 2^23 so that the float's low mantissa bits hold the
// value rounded half to even, and read them back.
template <typename Out>
QDET_SIMD_CLONES void requantize_rows(
    const int32_t* acc, Out* out, int64_t rows, int32_t channels, const int32_t* bias,
    const float* scale, float lo, float hi, int32_t magic_less_zero_point) {
  constexpr float kMagic = 12582912.0f;
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t* a = acc + r * channels;
    Out* o = out + r * channels;
    for (int32_t c = 0; c < channels; ++c) {
      float f = static_cast<float>(a[c] + bias[c]) * scale[c];
      f = std::max(f, lo);
      f = std::min(f, hi);
      f += kMagic;
      int32_t bits;
      std::memcpy(&bits, &f, sizeof bits);
      o[c] = static_cast<Out>(bits - magic_less_zero_point);
    }
  }
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

  // Weights as int8 w - w_zp (uint8 weights only where that fits), and the exactness bound.
  const int32_t w_zp = -checked->filter_offset;
  const int64_t per_channel = int64_t{k_h} * k_w * group_in;
  std::vector<int8_t> w(static_cast<size_t>(out_c * per_channel));
  for (int32_t c = 0; c < out_c; ++c) {
    double sum_abs = 0;
    for (int64_t i = 0; i < per_channel; ++i) {
      const size_t k = static_cast<size_t>(c * per_channel + i);
      const int32_t v = (filter.dtype == DType::kUInt8 ? int32_t{filter.data[k]}
                                                       : int32_t{static_cast<int8_t>(filter.data[k])}) - w_zp;
      if (v < -128 || v > 127)
        return unsupported("{}: uint8 weight minus its zero point ({}) does not fit int8", label(ctx), v);
      w[k] = static_cast<int8_t>(v);
      sum_abs += std::abs(v);
    }
    if (256.0 * sum_abs >= kExactAccumulatorLimit)
      return unsupported("{}: channel {} could reach 2^24 in its accumulator (256 x sum|w| = {})",
                         label(ctx), c, 256.0 * sum_abs);
  }

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

  const int64_t n = input.shape[0];
  const ConvGeometry g{
      n, input.shape[1], input.shape[2], in_c, ph->out, pw->out, out_c, groups, group_in, k_h, k_w,
      a.stride_h, a.stride_w, a.dilation_h, a.dilation_w, ph->before, pw->before,
      std::max<int64_t>(0, int64_t{pw->out - 1} * a.stride_w + int64_t{k_w - 1} * a.dilation_w + 1 -
                               input.shape[2] - pw->before),
      input.dtype == DType::kUInt8 ? dt::u8 : dt::s8};
  // One slice per thread: image rows for a batch of one, whole images otherwise.
  const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(ctx.num_threads, n > 1 ? n : ph->out));
  try {
    omp_set_num_threads(1);  // oneDNN sizes its kernels for the threads it sees at creation
    for (int64_t p = 0; p < parts; ++p) {
      if (n > 1)
        QDET_TRY(add_slice(*d, g, n * p / parts, n * (p + 1) / parts, 0, ph->out, w, label(ctx)));
      else
        QDET_TRY(add_slice(*d, g, 0, 1, ph->out * p / parts, ph->out * (p + 1) / parts, w, label(ctx)));
    }
  } catch (const dnnl::error& e) {
    return unsupported("{}: oneDNN: {}", label(ctx), e.what());
  }
  output.shape = {input.shape[0], ph->out, pw->out, out_c};
  ctx.scratch_bytes = static_cast<size_t>(d->pixels) * static_cast<size_t>(out_c) * sizeof(int32_t);
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
  std::vector<std::string> errors(d->slices.size());
  ref::parallel_for(ctx.threadpool, d->slices.size(), [&](size_t k) {
    const Slice& slice = d->slices[k];
    int32_t* slice_acc = acc + slice.pixel_begin * d->channels;
    try {
      omp_set_num_threads(1);  // this thread's OpenMP setting: no team
      dnnl::engine& eng = cpu_engine();
      dnnl::stream s(eng);
      dnnl::memory src(slice.src_md, eng, ctx.inputs[0]->data + slice.src_offset * static_cast<int64_t>(src_bytes));
      dnnl::memory dst(slice.dst_md, eng, slice_acc);
      int32_t zp = d->src_zero_point;
      dnnl::memory zp_mem({{1}, dt::s32, tag::x}, eng, &zp);
      slice.conv.execute(s, {{DNNL_ARG_SRC, src},
                             {DNNL_ARG_WEIGHTS, d->weights[static_cast<size_t>(slice.weights)]},
                             {DNNL_ARG_DST, dst},
                             {DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC, zp_mem}});
      s.wait();
    } catch (const dnnl::error& e) {
      errors[k] = e.what();
      return;
    }
    if (d->out_signed)
      requantize_rows(slice_acc, ctx.outputs[0]->as<int8_t>() + slice.pixel_begin * d->channels, slice.pixels,
                      d->channels, d->bias.data(), d->scale.data(), lo, hi, magic_less_zp);
    else
      requantize_rows(slice_acc, ctx.outputs[0]->as<uint8_t>() + slice.pixel_begin * d->channels, slice.pixels,
                      d->channels, d->bias.data(), d->scale.data(), lo, hi, magic_less_zp);
  });
  for (const std::string& e : errors)
    if (!e.empty()) return internal_error("{} (onednn): {}", ctx.op.name(), e);
  return ok_status();
}

}  // namespace

bool has_fast_int8() {
  static const bool fast = [] {
    if (const char* env = std::getenv("QDET_ONEDNN"); env && std::string(env) == "0") return false;
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

const Kernel kConv2dQuantized = {"onednn", conv_prepare, conv_eval};

}  // namespace qdet::rt::onednn
