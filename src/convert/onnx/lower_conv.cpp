// Convolutions, pools, Pad and Resize: NCHW ONNX -> NHWC TFLite.
#include <cmath>
#include <cstring>
#include <limits>

#include "convert/onnx/lower.h"
#include "convert/padding.h"

namespace qdet::convert::onnx {
namespace {

using graph::OpAttrs;
using graph::OpKind;
using graph::Padding;

const Perm kNhwc = {0, 2, 3, 1};

struct SpatialParams {
  std::vector<int64_t> kernel, strides, dilations, pads;  // pads: begin..., end...
};

// kernel_shape/strides/dilations/pads/auto_pad of a conv or pool over 2 spatial dims.
Result<SpatialParams> spatial_params(const Context& ctx, const Node& node, const Shape& x, std::vector<int64_t> kernel) {
  SpatialParams sp;
  sp.kernel = kernel.empty() ? node.get_ints("kernel_shape") : kernel;
  if (sp.kernel.size() != 2)
    return ctx.node_error(StatusCode::kUnsupported, node, "only 2-D kernels are supported (kernel_shape has {} dims)",
                          sp.kernel.size());
  sp.strides = node.get_ints("strides");
  if (sp.strides.empty()) sp.strides = {1, 1};
  sp.dilations = node.get_ints("dilations");
  if (sp.dilations.empty()) sp.dilations = {1, 1};
  sp.pads = node.get_ints("pads");
  if (sp.pads.empty()) sp.pads = {0, 0, 0, 0};
  if (sp.strides.size() != 2 || sp.dilations.size() != 2 || sp.pads.size() != 4)
    return ctx.node_error(StatusCode::kInvalidArgument, node, "strides, dilations and pads must describe 2 spatial dims");
  for (int i = 0; i < 2; ++i) {
    if (sp.kernel[i] < 1 || sp.strides[i] < 1 || sp.dilations[i] < 1 || sp.kernel[i] > 65535 || sp.strides[i] > 65535 ||
        sp.dilations[i] > 65535)
      return ctx.node_error(StatusCode::kInvalidArgument, node, "kernel, strides and dilations must be positive");
  }
  for (int64_t p : sp.pads)
    if (p < 0 || p > 65535) return ctx.node_error(StatusCode::kUnsupported, node, "pad {} is not supported", p);
  const std::string auto_pad = node.get_string("auto_pad", "NOTSET");
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    for (int i = 0; i < 2; ++i) {
      const int64_t in = x[2 + i], k = (sp.kernel[i] - 1) * sp.dilations[i] + 1, s = sp.strides[i];
      const int64_t out = (in + s - 1) / s;
      const int64_t total = std::max<int64_t>((out - 1) * s + k - in, 0);
      const int64_t small = total / 2;
      sp.pads[i] = auto_pad == "SAME_UPPER" ? small : total - small;
      sp.pads[i + 2] = total - sp.pads[i];
    }
  } else if (auto_pad == "VALID") {
    sp.pads = {0, 0, 0, 0};
  } else if (auto_pad != "NOTSET") {
    return ctx.node_error(StatusCode::kUnsupported, node, "auto_pad '{}' is not supported", auto_pad);
  }
  return sp;
}

// Pads the NHWC tensor explicitly (PAD with zeros, or PADV2 with `value`).
int32_t add_pad(Context& ctx, const std::string& name, int32_t input, const Shape& in_nhwc, int32_t top, int32_t bottom,
                int32_t left, int32_t right, std::optional<float> value) {
  const int32_t paddings[] = {0, 0, top, bottom, left, right, 0, 0};
  HostTensor pt = HostTensor::from_int32s({4, 2}, paddings);
  const int32_t pad_id = ctx.add_constant(pt, name + "/paddings");
  Shape out = in_nhwc;
  out[1] += top + bottom;
  out[2] += left + right;
  const int32_t out_id = ctx.add_activation(name + "/padded", ctx.graph().tensors[input].dtype, out);
  if (value && *value != 0.f) {
    const float v[] = {*value};
    const int32_t value_id = ctx.add_constant(HostTensor::from_floats({}, v), name + "/pad_value");
    ctx.add_op(OpKind::kPadV2, {input, pad_id, value_id}, {out_id});
  } else {
    ctx.add_op(OpKind::kPad, {input, pad_id}, {out_id});
  }
  return out_id;
}

// Decides SAME / VALID / explicit PAD for a 2-D window op and returns the (possibly padded)
// input and the padding to use; `out_hw` gets the output size.
struct Windowing {
  int32_t input = -1;
  Padding padding = Padding::kValid;
  int32_t out_h = 0, out_w = 0;
  bool explicit_pad = false;
};
Result<Windowing> window(Context& ctx, const Node& node, int32_t input, const Shape& x, const SpatialParams& sp,
                         bool ceil_mode, bool allow_same, std::optional<float> pad_value) {
  Windowing w;
  AxisPadding ax[2];
  for (int i = 0; i < 2; ++i) {
    const int64_t k = (sp.kernel[i] - 1) * sp.dilations[i] + 1;
    auto p = axis_padding(x[2 + i], k, sp.strides[i], sp.pads[i], sp.pads[i + 2], ceil_mode);
    if (!p.ok()) return ctx.node_error(StatusCode::kInvalidArgument, node, "{}", p.status().message());
    ax[i] = *p;
  }
  w.out_h = ax[0].out;
  w.out_w = ax[1].out;
  w.input = input;
  if (ax[0].valid && ax[1].valid) {
    w.padding = Padding::kValid;
  } else if (allow_same && ax[0].same && ax[1].same) {
    w.padding = Padding::kSame;
  } else {
    if (!pad_value.has_value())
      return ctx.node_error(StatusCode::kUnsupported, node,
                            "pads {},{},{},{} cannot be expressed in TFLite for this op", sp.pads[0], sp.pads[1],
                            sp.pads[2], sp.pads[3]);
    w.explicit_pad = true;
    w.padding = Padding::kValid;
    w.input = add_pad(ctx, node.name, input, apply_perm(x, kNhwc), ax[0].before, ax[0].after, ax[1].before,
                      ax[1].after, pad_value);
  }
  return w;
}

// Input 2 of Conv / ConvTranspose, the optional constant bias: out_c floats (zeros when absent).
Result<std::vector<float>> conv_bias(const Context& ctx, const Node& node, int32_t out_c) {
  if (!ctx.has_input(node, 2)) return std::vector<float>(out_c, 0.f);
  QDET_ASSIGN_OR_RETURN(const HostTensor* b, ctx.constant_input(node, 2, "bias"));
  auto bv = b->as_floats();
  if (!bv.ok() || bv->size() != static_cast<size_t>(out_c))
    return ctx.node_error(StatusCode::kInvalidArgument, node, "bias {} does not match {} output channels",
                          shape_to_string(b->shape), out_c);
  return std::move(bv).value();
}

Result<const Value*> image_input(const Context& ctx, const Node& node) {
  QDET_ASSIGN_OR_RETURN(const Value* x, activation_input(ctx, node, 0));
  if (x->shape.size() != 4)
    return ctx.node_error(StatusCode::kUnsupported, node, "only 4-D (NCHW) inputs are supported, got {}",
                          shape_to_string(x->shape));
  if (x->dtype != DType::kFloat32)
    return ctx.node_error(StatusCode::kUnsupported, node, "only float32 inputs are supported, got {}",
                          dtype_name(x->dtype));
  return x;
}

// The attributes every windowed op (convolution, pooling) takes from the ONNX node: the padding
// and the strides.
OpAttrs window_attrs(const Windowing& win, const SpatialParams& sp) {
  OpAttrs a;
  a.padding = win.padding;
  a.stride_h = static_cast<int32_t>(sp.strides[0]);
  a.stride_w = static_cast<int32_t>(sp.strides[1]);
  return a;
}

// One CONV_2D or DEPTHWISE_CONV_2D over an NHWC input.
int32_t emit_conv(Context& ctx, const Node& node, const std::string& out_name, int32_t input, const HostTensor& w_oihw,
                  std::span<const float> bias, bool depthwise, int32_t depth_multiplier, const Windowing& win,
                  const SpatialParams& sp, int32_t batch, const std::string& weight_name) {
  const int32_t out_c = w_oihw.shape[0];
  // OIHW -> OHWI (CONV_2D) or -> [1, H, W, O] (DEPTHWISE_CONV_2D, I == 1).
  const Perm wperm = depthwise ? Perm{1, 2, 3, 0} : Perm{0, 2, 3, 1};
  const int32_t w_id = ctx.add_constant(w_oihw, wperm, weight_name);
  const int32_t b_id = ctx.add_constant(HostTensor::from_floats({out_c}, bias), out_name + "/bias");
  const int32_t out_id = ctx.add_activation(out_name, DType::kFloat32, {batch, win.out_h, win.out_w, out_c});
  OpAttrs a = window_attrs(win, sp);
  a.dilation_h = static_cast<int32_t>(sp.dilations[0]);
  a.dilation_w = static_cast<int32_t>(sp.dilations[1]);
  if (depthwise) a.depth_multiplier = depth_multiplier;
  ctx.add_op(depthwise ? OpKind::kDepthwiseConv2d : OpKind::kConv2d, {input, w_id, b_id}, {out_id}, a);
  return out_id;
}

}  // namespace

Status lower_conv(Context& ctx, const Node& node) {
  QDET_ASSIGN_OR_RETURN(const Value* x, image_input(ctx, node));
  QDET_ASSIGN_OR_RETURN(const HostTensor* w, ctx.constant_input(node, 1, "weights"));
  if (w->shape.size() != 4)
    return ctx.node_error(StatusCode::kUnsupported, node, "weights {} are not 2-D convolution weights",
                          shape_to_string(w->shape));
  HostTensor weights;
  {
    auto f = cast(*w, DType::kFloat32);
    if (!f.ok()) return ctx.node_error(StatusCode::kUnsupported, node, "weights: {}", f.status().message());
    weights = std::move(f).value();
  }
  const int64_t group = node.get_int("group", 1);
  const int32_t in_c = x->shape[1], out_c = weights.shape[0], wi = weights.shape[1];
  if (group < 1 || in_c % group != 0 || out_c % group != 0 || wi * group != in_c)
    return ctx.node_error(StatusCode::kInvalidArgument, node,
                          "weights {} do not match input {} with group {} (input channels must equal {} x {})",
                          shape_to_string(weights.shape), shape_to_string(x->shape), group, wi, group);
  QDET_ASSIGN_OR_RETURN(std::vector<float> bias, conv_bias(ctx, node, out_c));
  QDET_ASSIGN_OR_RETURN(SpatialParams sp, spatial_params(ctx, node, x->shape, {weights.shape[2], weights.shape[3]}));
  const std::vector<int64_t> ks = node.get_ints("kernel_shape");
  if (!ks.empty() && (ks.size() != 2 || ks[0] != weights.shape[2] || ks[1] != weights.shape[3]))
    return ctx.node_error(StatusCode::kInvalidArgument, node, "kernel_shape does not match weights {}",
                          shape_to_string(weights.shape));
  QDET_ASSIGN_OR_RETURN(int32_t input, ctx.tensor_in(node.input(0), kNhwc));
  QDET_ASSIGN_OR_RETURN(Windowing win, window(ctx, node, input, x->shape, sp, false, true, 0.f));
  const int32_t batch = x->shape[0];
  const Shape out_shape = {batch, out_c, win.out_h, win.out_w};
  const std::string& out_name = node.outputs.at(0);

  int32_t out_id;
  if (group == 1) {
    out_id = emit_conv(ctx, node, out_name, win.input, weights, bias, false, 1, win, sp, batch, node.input(1));
  } else if (group == in_c && wi == 1) {
    out_id = emit_conv(ctx, node, out_name, win.input, weights, bias, true, out_c / in_c, win, sp, batch,
                       node.input(1));
  } else {
    // Grouped convolution: SPLIT the channels, one CONV_2D per group, CONCATENATION.
    const int32_t g = static_cast<int32_t>(group);
    const int32_t og = out_c / g;
    const Shape in_t = ctx.graph().tensors[win.input].shape;  // a copy: tensors grow below
    const int32_t axis_value[] = {3};
    const int32_t axis_id = ctx.add_constant(HostTensor::from_int32s({}, axis_value), out_name + "/split_axis");
    std::vector<int32_t> parts;
    for (int32_t i = 0; i < g; ++i)
      parts.push_back(ctx.add_activation(fmt::format("{}/group{}_in", out_name, i), DType::kFloat32,
                                         {in_t[0], in_t[1], in_t[2], wi}));
    OpAttrs sa;
    sa.num_splits = g;
    ctx.add_op(OpKind::kSplit, {axis_id, win.input}, parts, sa);
    std::vector<int32_t> outs;
    const size_t wbytes = weights.data.size() / g;
    for (int32_t i = 0; i < g; ++i) {
      HostTensor wg;
      wg.dtype = DType::kFloat32;
      wg.shape = {og, wi, weights.shape[2], weights.shape[3]};
      wg.data.assign(weights.data.begin() + i * wbytes, weights.data.begin() + (i + 1) * wbytes);
      outs.push_back(emit_conv(ctx, node, fmt::format("{}/group{}", out_name, i), parts[i], wg,
                               std::span<const float>(bias).subspan(i * og, og), false, 1, win, sp, batch,
                               fmt::format("{}/group{}", node.input(1), i)));
    }
    out_id = ctx.add_activation(out_name, DType::kFloat32, apply_perm(out_shape, kNhwc));
    OpAttrs ca;
    ca.axis = 3;
    ctx.add_op(OpKind::kConcatenation, outs, {out_id}, ca);
  }
  ctx.set_activation(out_name, out_id, kNhwc, out_shape, DType::kFloat32);
  return ok_status();
}

Status lower_pool(Context& ctx, const Node& node) {
  QDET_ASSIGN_OR_RETURN(const Value* x, image_input(ctx, node));
  const bool is_max = node.op_type == "MaxPool";
  if (node.outputs.size() > 1 && !node.outputs[1].empty())
    return ctx.node_error(StatusCode::kUnsupported, node, "the Indices output is not supported");
  QDET_ASSIGN_OR_RETURN(SpatialParams sp, spatial_params(ctx, node, x->shape, {}));
  if (sp.dilations[0] != 1 || sp.dilations[1] != 1)
    return ctx.node_error(StatusCode::kUnsupported, node, "dilated pooling is not supported");
  const bool ceil_mode = node.get_int("ceil_mode", 0) != 0;
  const bool count_pad = node.get_int("count_include_pad", 0) != 0;
  QDET_ASSIGN_OR_RETURN(int32_t input, ctx.tensor_in(node.input(0), kNhwc));
  // Max: padding never wins (SAME ignores it; explicit pads use the lowest float). Average:
  // TFLite SAME leaves the padding out of the count, which is count_include_pad=0; explicit
  // zero pads count, which is count_include_pad=1.
  std::optional<float> pad_value;
  bool allow_same = true;
  if (is_max) {
    pad_value = std::numeric_limits<float>::lowest();
  } else if (count_pad) {
    pad_value = 0.f;
    allow_same = false;
  }
  QDET_ASSIGN_OR_RETURN(Windowing win, window(ctx, node, input, x->shape, sp, ceil_mode, allow_same, pad_value));
  if (!is_max && count_pad && ceil_mode && win.explicit_pad) {
    // ONNX Runtime divides ceil-mode windows past the declared pads by their clipped size.
    const int64_t declared_end_h = sp.pads[2], declared_end_w = sp.pads[3];
    const Shape padded = ctx.graph().tensors[win.input].shape;
    if (padded[1] > x->shape[2] + sp.pads[0] + declared_end_h || padded[2] > x->shape[3] + sp.pads[1] + declared_end_w)
      return ctx.node_error(StatusCode::kUnsupported, node, "ceil_mode windows beyond the pads are not supported");
  }
  const Shape out_shape = {x->shape[0], x->shape[1], win.out_h, win.out_w};
  const int32_t out_id = new_output_tensor(ctx, node, 0, DType::kFloat32, apply_perm(out_shape, kNhwc));
  OpAttrs a = window_attrs(win, sp);
  a.filter_h = static_cast<int32_t>(sp.kernel[0]);
  a.filter_w = static_cast<int32_t>(sp.kernel[1]);
  ctx.add_op(is_max ? OpKind::kMaxPool2d : OpKind::kAveragePool2d, {win.input}, {out_id}, a);
  set_output(ctx, node, 0, out_id, kNhwc, out_shape, DType::kFloat32);
  return ok_status();
}

// ConvTranspose (explicit pads or auto_pad VALID, output_padding, groups, dilations; not
// output_shape): TRANSPOSE_CONV. ONNX's output is the full scatter of size
// (in - 1) * stride + (kernel - 1) * dilation + 1 + output_padding cropped by the pads; TFLite's
// SAME padding gives the same crop when its padding before equals the ONNX begin pad, else the
// op writes the full size (VALID) and a SLICE crops it. Weights [C_in, C_out / group, kh, kw]
// become [C_out / group, kh, kw, C_in / group]. TRANSPOSE_CONV has neither dilation nor groups:
// a dilated kernel is written out with zeros between its taps (the same sums), and groups are a
// SPLIT of the input channels, one TRANSPOSE_CONV per group and a CONCATENATION.
namespace {

// [C_in, C_out, kh, kw] with (k - 1) * d + 1 taps per spatial dim, zeros between the original ones.
HostTensor dilate_kernel(const HostTensor& w, int64_t dh, int64_t dw) {
  const int32_t ci = w.shape[0], co = w.shape[1], kh = w.shape[2], kw = w.shape[3];
  const auto eh = static_cast<int32_t>((kh - 1) * dh + 1), ew = static_cast<int32_t>((kw - 1) * dw + 1);
  std::vector<float> out(static_cast<size_t>(ci) * co * eh * ew, 0.f);
  const auto* in = reinterpret_cast<const float*>(w.data.data());
  for (int64_t p = 0; p < int64_t{ci} * co; ++p)
    for (int32_t y = 0; y < kh; ++y)
      for (int32_t x = 0; x < kw; ++x) {
        float v;
        std::memcpy(&v, in + (p * kh + y) * kw + x, 4);
        out[static_cast<size_t>((p * eh + y * dh) * ew + x * dw)] = v;
      }
  return HostTensor::from_floats({ci, co, eh, ew}, out);
}

// Rows [first, first + count) of a [C_in, ...] float tensor.
HostTensor input_channels(const HostTensor& w, int32_t first, int32_t count) {
  HostTensor part;
  part.dtype = w.dtype;
  part.shape = w.shape;
  part.shape[0] = count;
  const size_t row = w.data.size() / static_cast<size_t>(w.shape[0]);
  part.data.assign(w.data.begin() + static_cast<std::ptrdiff_t>(first * row),
                   w.data.begin() + static_cast<std::ptrdiff_t>((first + count) * row));
  return part;
}

}  // namespace

Status lower_conv_transpose(Context& ctx, const Node& node) {
  QDET_ASSIGN_OR_RETURN(const Value* x, image_input(ctx, node));
  QDET_ASSIGN_OR_RETURN(const HostTensor* w, ctx.constant_input(node, 1, "weights"));
  if (w->shape.size() != 4 || w->shape[0] != x->shape[1])
    return ctx.node_error(StatusCode::kInvalidArgument, node, "weights {} do not match input {}",
                          shape_to_string(w->shape), shape_to_string(x->shape));
  const int64_t group = node.get_int("group", 1);
  if (group < 1 || x->shape[1] % group != 0)
    return ctx.node_error(StatusCode::kInvalidArgument, node, "group {} does not divide the {} input channels", group,
                          x->shape[1]);
  if (!node.get_ints("output_shape").empty())
    return ctx.node_error(StatusCode::kUnsupported, node, "the output_shape attribute is not supported (use pads)");
  auto wf = cast(*w, DType::kFloat32);
  if (!wf.ok()) return ctx.node_error(StatusCode::kUnsupported, node, "weights: {}", wf.status().message());
  const auto g = static_cast<int32_t>(group);
  const int32_t out_cg = wf->shape[1], out_c = out_cg * g, in_cg = x->shape[1] / g;
  QDET_ASSIGN_OR_RETURN(std::vector<float> bias, conv_bias(ctx, node, out_c));
  const std::string auto_pad = node.get_string("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID")
    return ctx.node_error(StatusCode::kUnsupported, node, "auto_pad '{}' is not supported", auto_pad);
  QDET_ASSIGN_OR_RETURN(SpatialParams sp, spatial_params(ctx, node, x->shape, {wf->shape[2], wf->shape[3]}));
  HostTensor weights = std::move(wf).value();
  if (sp.dilations[0] != 1 || sp.dilations[1] != 1) {
    const int64_t taps = ((sp.kernel[0] - 1) * sp.dilations[0] + 1) * ((sp.kernel[1] - 1) * sp.dilations[1] + 1);
    if (taps > 65535)
      return ctx.node_error(StatusCode::kUnsupported, node, "a dilated kernel of {} taps is not supported", taps);
    weights = dilate_kernel(weights, sp.dilations[0], sp.dilations[1]);
    sp.kernel = {weights.shape[2], weights.shape[3]};
    sp.dilations = {1, 1};
  }
  std::vector<int64_t> out_pad = node.get_ints("output_padding");
  if (out_pad.empty()) out_pad = {0, 0};
  int32_t full[2], out[2];
  bool same = true;
  for (int i = 0; i < 2; ++i) {
    if (out_pad.size() != 2 || out_pad[i] < 0 || out_pad[i] >= sp.strides[i])
      return ctx.node_error(StatusCode::kInvalidArgument, node, "output_padding must be in [0, stride)");
    full[i] = static_cast<int32_t>((x->shape[2 + i] - 1) * sp.strides[i] + sp.kernel[i] + out_pad[i]);
    out[i] = static_cast<int32_t>(full[i] - sp.pads[i] - sp.pads[i + 2]);
    if (out[i] < 1) return ctx.node_error(StatusCode::kInvalidArgument, node, "pads leave no output");
    const int64_t s = sp.strides[i], conv_out = (out[i] + s - 1) / s;
    const int64_t total = std::max<int64_t>((conv_out - 1) * s + sp.kernel[i] - out[i], 0);
    same = same && conv_out == x->shape[2 + i] && total / 2 == sp.pads[i];
  }
  const bool crop = !same && (sp.pads[0] || sp.pads[1] || sp.pads[2] || sp.pads[3]);
  QDET_ASSIGN_OR_RETURN(int32_t input, ctx.tensor_in(node.input(0), kNhwc));
  const int32_t batch = x->shape[0];
  const std::string& out_name = node.outputs.at(0);
  const Shape scatter = crop || !same ? Shape{batch, full[0], full[1], out_c} : Shape{batch, out[0], out[1], out_c};
  const std::string conv_name = crop ? out_name + "/full" : out_name;
  OpAttrs a;
  a.padding = same ? Padding::kSame : Padding::kValid;
  a.stride_h = static_cast<int32_t>(sp.strides[0]);
  a.stride_w = static_cast<int32_t>(sp.strides[1]);
  // One TRANSPOSE_CONV over input channels [g * in_cg, (g + 1) * in_cg) writing out_cg channels.
  auto emit = [&](const std::string& name, int32_t in_id, const HostTensor& w_iohw, std::span<const float> b) {
    Shape shape = scatter;
    shape[3] = w_iohw.shape[1];
    const int32_t shape_id = ctx.add_int32_vector(std::vector<int32_t>(shape.begin(), shape.end()), name + "/output_shape");
    const int32_t w_id = ctx.add_constant(w_iohw, Perm{1, 2, 3, 0}, g == 1 ? node.input(1) : name + "/weights");
    const int32_t b_id = ctx.add_constant(HostTensor::from_floats({w_iohw.shape[1]}, b), name + "/bias");
    const int32_t id = ctx.add_activation(name, DType::kFloat32, shape);
    ctx.add_op(OpKind::kTransposeConv, {shape_id, w_id, in_id, b_id}, {id}, a);
    return id;
  };
  int32_t conv_id;
  if (g == 1) {
    conv_id = emit(conv_name, input, weights, bias);
  } else {
    const Shape in_t = ctx.graph().tensors[input].shape;  // a copy: tensors grow below
    const int32_t axis_value[] = {3};
    const int32_t axis_id = ctx.add_constant(HostTensor::from_int32s({}, axis_value), out_name + "/split_axis");
    std::vector<int32_t> parts, outs;
    for (int32_t i = 0; i < g; ++i)
      parts.push_back(ctx.add_activation(fmt::format("{}/group{}_in", out_name, i), DType::kFloat32,
                                         {in_t[0], in_t[1], in_t[2], in_cg}));
    OpAttrs sa;
    sa.num_splits = g;
    ctx.add_op(OpKind::kSplit, {axis_id, input}, parts, sa);
    for (int32_t i = 0; i < g; ++i)
      outs.push_back(emit(fmt::format("{}/group{}", out_name, i), parts[static_cast<size_t>(i)],
                          input_channels(weights, i * in_cg, in_cg),
                          std::span<const float>(bias).subspan(static_cast<size_t>(i * out_cg), static_cast<size_t>(out_cg))));
    conv_id = ctx.add_activation(conv_name, DType::kFloat32, scatter);
    OpAttrs ca;
    ca.axis = 3;
    ctx.add_op(OpKind::kConcatenation, outs, {conv_id}, ca);
  }
  int32_t out_id = conv_id;
  if (crop) {
    const int32_t begin[] = {0, static_cast<int32_t>(sp.pads[0]), static_cast<int32_t>(sp.pads[1]), 0};
    const int32_t size[] = {batch, out[0], out[1], out_c};
    const int32_t begin_id = ctx.add_int32_vector(begin, out_name + "/crop_begin");
    const int32_t size_id = ctx.add_int32_vector(size, out_name + "/crop_size");
    out_id = ctx.add_activation(out_name, DType::kFloat32, {batch, out[0], out[1], out_c});
    ctx.add_op(OpKind::kSlice, {conv_id, begin_id, size_id}, {out_id});
  }
  ctx.set_activation(out_name, out_id, kNhwc, {batch, out_c, out[0], out[1]}, DType::kFloat32);
  return ok_status();
}

Status lower_global_pool(Context& ctx, const Node& node) {
  QDET_ASSIGN_OR_RETURN(const Value* x, image_input(ctx, node));
  const Shape in_shape = x->shape;
  QDET_ASSIGN_OR_RETURN(int32_t input, ctx.tensor_in(node.input(0), kNhwc));
  const Shape out_shape = {in_shape[0], in_shape[1], 1, 1};
  const int32_t axes[] = {1, 2};
  const int32_t axes_id = ctx.add_int32_vector(axes, node.outputs[0] + "/axes");
  const int32_t out_id = new_output_tensor(ctx, node, 0, DType::kFloat32, apply_perm(out_shape, kNhwc));
  OpAttrs a;
  a.keep_dims = true;
  ctx.add_op(node.op_type == "GlobalMaxPool" ? OpKind::kReduceMax : OpKind::kMean, {input, axes_id}, {out_id}, a);
  set_output(ctx, node, 0, out_id, kNhwc, out_shape, DType::kFloat32);
  return ok_status();
}

Status lower_pad(Context& ctx, const Node& node) {
  QDET_ASSIGN_OR_RETURN(const Value* x, activation_input(ctx, node, 0));
  const std::string mode = node.get_string("mode", "constant");
  if (mode != "constant")
    return ctx.node_error(StatusCode::kUnsupported, node, "pad mode '{}' is not supported (only constant)", mode);
  std::vector<int64_t> pads;
  float value = 0.f;
  if (ctx.model().opset < 11) {
    pads = node.get_ints("pads");
    value = node.get_float("value", 0.f);
  } else {
    QDET_ASSIGN_OR_RETURN(const HostTensor* p, ctx.constant_input(node, 1, "pads"));
    auto pv = p->as_int64s();
    if (!pv.ok()) return ctx.node_error(StatusCode::kInvalidArgument, node, "pads: {}", pv.status().message());
    pads = *pv;
    if (ctx.has_input(node, 2)) {
      QDET_ASSIGN_OR_RETURN(const HostTensor* c, ctx.constant_input(node, 2, "constant_value"));
      auto cv = c->as_floats();
      if (!cv.ok() || cv->size() != 1)
        return ctx.node_error(StatusCode::kInvalidArgument, node, "constant_value must be one number");
      value = (*cv)[0];
    }
  }
  const size_t rank = x->shape.size();
  if (pads.size() != 2 * rank)
    return ctx.node_error(StatusCode::kInvalidArgument, node, "{} pads for a rank-{} input", pads.size(), rank);
  const Perm perm = x->perm;
  const Shape in_shape = x->shape;
  Shape out_shape = in_shape;
  std::vector<int32_t> paddings;
  for (size_t i = 0; i < rank; ++i) {
    const int64_t b = pads[perm[i]], e = pads[perm[i] + rank];
    if (b < 0 || e < 0 || b > 65535 || e > 65535)
      return ctx.node_error(StatusCode::kUnsupported, node, "pad {} is not supported (negative or huge)", b < 0 ? b : e);
    paddings.push_back(static_cast<int32_t>(b));
    paddings.push_back(static_cast<int32_t>(e));
  }
  for (size_t d = 0; d < rank; ++d) out_shape[d] += static_cast<int32_t>(pads[d] + pads[d + rank]);
  QDET_ASSIGN_OR_RETURN(int32_t input, ctx.tensor_in(node.input(0), perm));
  const int32_t pad_id = ctx.add_constant(HostTensor::from_int32s({static_cast<int32_t>(rank), 2}, paddings),
                                          node.outputs[0] + "/paddings");
  const DType dtype = x->dtype;
  const int32_t out_id = new_output_tensor(ctx, node, 0, dtype, apply_perm(out_shape, perm));
  if (value != 0.f) {
    const float v[] = {value};
    const int32_t value_id = ctx.add_constant(HostTensor::from_floats({}, v), node.outputs[0] + "/pad_value");
    ctx.add_op(OpKind::kPadV2, {input, pad_id, value_id}, {out_id});
  } else {
    ctx.add_op(OpKind::kPad, {input, pad_id}, {out_id});
  }
  set_output(ctx, node, 0, out_id, perm, out_shape, dtype);
  return ok_status();
}

Status lower_resize(Context& ctx, const Node& node) {
  QDET_ASSIGN_OR_RETURN(const Value* x, image_input(ctx, node));
  const Shape in_shape = x->shape;
  const bool upsample = node.op_type == "Upsample";
  const int64_t opset = ctx.model().opset;
  std::string mode = node.get_string("mode", "nearest");
  std::string coord = upsample || opset < 11 ? "asymmetric" : node.get_string("coordinate_transformation_mode", "half_pixel");
  std::string nearest_mode = opset < 11 ? "floor" : node.get_string("nearest_mode", "round_prefer_floor");
  if (upsample || opset < 11) nearest_mode = "floor";  // opset 10 Resize and Upsample: floor

  // Output size: from `sizes` (input 3) or `scales` (input 2, or 1 before opset 11).
  std::vector<float> scales;
  std::vector<int64_t> sizes;
  const size_t scales_index = upsample || opset < 11 ? 1 : 2;
  if (upsample && opset < 9) {
    scales = node.find("scales") ? node.find("scales")->floats : std::vector<float>{};
  } else if (!upsample && opset >= 11 && ctx.has_input(node, 3) && ctx.find(node.input(3)) &&
             ctx.find(node.input(3))->shape != Shape{0}) {
    QDET_ASSIGN_OR_RETURN(const HostTensor* s, ctx.constant_input(node, 3, "sizes"));
    auto sv = s->as_int64s();
    if (!sv.ok()) return ctx.node_error(StatusCode::kInvalidArgument, node, "sizes: {}", sv.status().message());
    sizes = *sv;
  } else if (ctx.has_input(node, scales_index)) {
    QDET_ASSIGN_OR_RETURN(const HostTensor* s, ctx.constant_input(node, scales_index, "scales"));
    auto sv = s->as_floats();
    if (!sv.ok()) return ctx.node_error(StatusCode::kInvalidArgument, node, "scales: {}", sv.status().message());
    scales = *sv;
  }
  Shape out_shape = in_shape;
  if (!sizes.empty()) {
    if (sizes.size() != 4) return ctx.node_error(StatusCode::kInvalidArgument, node, "sizes must have 4 values");
    for (int i = 0; i < 4; ++i) {
      if (sizes[i] < 1 || sizes[i] > 65535)
        return ctx.node_error(StatusCode::kInvalidArgument, node, "output size {} is out of range", sizes[i]);
      out_shape[i] = static_cast<int32_t>(sizes[i]);
    }
  } else if (scales.size() == 4) {
    for (int i = 0; i < 4; ++i) {
      const double o = std::floor(static_cast<double>(in_shape[i]) * scales[i]);
      if (!(scales[i] > 0.f) || o < 1 || o > 65535)
        return ctx.node_error(StatusCode::kInvalidArgument, node, "scale {} is out of range", scales[i]);
      out_shape[i] = static_cast<int32_t>(o);
      // TFLite resizes by in/out; ONNX by the given scale: they agree when out == in * scale.
      if (std::fabs(static_cast<double>(in_shape[i]) * scales[i] - o) > 1e-6 && i >= 2)
        return ctx.node_error(StatusCode::kUnsupported, node, "scale {} does not give a whole output size", scales[i]);
    }
  } else {
    return ctx.node_error(StatusCode::kInvalidArgument, node, "needs 4 scales or 4 sizes");
  }
  if (out_shape[0] != in_shape[0] || out_shape[1] != in_shape[1])
    return ctx.node_error(StatusCode::kUnsupported, node, "only spatial (H, W) resizing is supported");

  OpAttrs a;
  OpKind kind;
  if (mode == "nearest") {
    kind = OpKind::kResizeNearestNeighbor;
    // TFLite nearest: floor(x * in/out) (asymmetric, floor), floor((x + 0.5) * in/out)
    // (half_pixel, round_prefer_ceil), round(x * (in-1)/(out-1)) (align_corners, round up).
    if (coord == "asymmetric" && nearest_mode == "floor") {
    } else if ((coord == "half_pixel" || coord == "pytorch_half_pixel") && nearest_mode == "round_prefer_ceil" &&
               out_shape[2] > 1 && out_shape[3] > 1) {
      a.half_pixel_centers = true;
    } else if (coord == "align_corners" && nearest_mode == "round_prefer_ceil") {
      a.align_corners = true;
    } else {
      return ctx.node_error(StatusCode::kUnsupported, node, "nearest mode '{}' with '{}' is not supported",
                            nearest_mode, coord);
    }
  } else if (mode == "linear" || mode == "bilinear") {
    kind = OpKind::kResizeBilinear;
    // TFLite bilinear clamps source coordinates like ONNX Runtime: half_pixel_centers is
    // ONNX's half_pixel (pytorch_half_pixel differs only for an output size of 1).
    if (coord == "asymmetric") {
    } else if (coord == "half_pixel" || (coord == "pytorch_half_pixel" && out_shape[2] > 1 && out_shape[3] > 1)) {
      a.half_pixel_centers = true;
    } else if (coord == "align_corners") {
      a.align_corners = true;
    } else {
      return ctx.node_error(StatusCode::kUnsupported, node, "linear resize with '{}' is not supported", coord);
    }
  } else {
    return ctx.node_error(StatusCode::kUnsupported, node, "resize mode '{}' is not supported", mode);
  }
  QDET_ASSIGN_OR_RETURN(int32_t input, ctx.tensor_in(node.input(0), kNhwc));
  const int32_t size[] = {out_shape[2], out_shape[3]};
  const int32_t size_id = ctx.add_int32_vector(size, node.outputs[0] + "/size");
  const int32_t out_id = new_output_tensor(ctx, node, 0, DType::kFloat32, apply_perm(out_shape, kNhwc));
  ctx.add_op(kind, {input, size_id}, {out_id}, a);
  set_output(ctx, node, 0, out_id, kNhwc, out_shape, DType::kFloat32);
  return ok_status();
}

}  // namespace qdet::convert::onnx
