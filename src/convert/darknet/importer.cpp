#include "convert/darknet/importer.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/json_text.h"
#include "base/file.h"
#include "convert/host_tensor.h"
#include "convert/layout.h"
#include "convert/padding.h"
#include "convert/passes.h"

namespace qdet::convert::darknet {
namespace {

using graph::OpAttrs;
using graph::OpKind;
using graph::Padding;

class Builder {
 public:
  graph::Graph g;

  int32_t activation(const std::string& name, Shape shape) {
    graph::Tensor t;
    t.name = name;
    t.shape = std::move(shape);
    return g.add_tensor(std::move(t));
  }
  int32_t constant(const std::string& name, const HostTensor& h) {
    graph::Tensor t;
    t.name = name;
    t.dtype = h.dtype;
    t.shape = h.shape;
    t.data = h.data;
    return g.add_tensor(std::move(t));
  }
  int32_t ints(const std::string& name, std::vector<int32_t> v) {
    return constant(name, HostTensor::from_int32s({static_cast<int32_t>(v.size())}, v));
  }
  void op(OpKind k, std::vector<int32_t> in, std::vector<int32_t> out, OpAttrs a = {}) {
    g.add_op(k, std::move(in), std::move(out), std::move(a));
  }
  const Shape& shape(int32_t t) const { return g.tensors[t].shape; }
};

std::string lname(const Layer& l) { return fmt::format("L{}_{}", l.index, layer_type_name(l.type)); }

// Applies a darknet activation after `x`; relu/relu6 are fused into `fusable` when given.
int32_t apply_activation(Builder& b, const Layer& l, int32_t x, graph::Op* fusable) {
  const std::string n = lname(l);
  switch (l.activation) {
    case Activation::kLinear:
      return x;
    case Activation::kRelu:
    case Activation::kRelu6:
      if (fusable) {
        fusable->attrs.activation = l.activation == Activation::kRelu ? graph::Activation::kRelu : graph::Activation::kRelu6;
        return x;
      } else {
        const int32_t y = b.activation(n + "/" + activation_name(l.activation), b.shape(x));
        b.op(l.activation == Activation::kRelu ? OpKind::kRelu : OpKind::kRelu6, {x}, {y});
        return y;
      }
    case Activation::kLeaky: {
      const int32_t y = b.activation(n + "/leaky", b.shape(x));
      OpAttrs a;
      a.alpha = 0.1f;
      b.op(OpKind::kLeakyRelu, {x}, {y}, a);
      return y;
    }
    case Activation::kLogistic:
    case Activation::kTanh: {
      const int32_t y = b.activation(n + "/" + activation_name(l.activation), b.shape(x));
      b.op(l.activation == Activation::kLogistic ? OpKind::kLogistic : OpKind::kTanh, {x}, {y});
      return y;
    }
    case Activation::kSwish: {
      const int32_t s = b.activation(n + "/sigmoid", b.shape(x));
      b.op(OpKind::kLogistic, {x}, {s});
      const int32_t y = b.activation(n + "/swish", b.shape(x));
      b.op(OpKind::kMul, {x, s}, {y});
      return y;
    }
  }
  return x;
}

// Explicit padding for one window op when SAME/VALID cannot express darknet's.
struct Window {
  int32_t input;
  Padding padding;
};
Result<Window> window(Builder& b, const Layer& l, int32_t x, int64_t before_h, int64_t end_h, int64_t before_w,
                      int64_t end_w, float pad_value, const std::string& source) {
  const Shape s = b.shape(x);
  auto ph = axis_padding(s[1], l.size, l.stride, before_h, end_h, false);
  auto pw = axis_padding(s[2], l.size, l.stride, before_w, end_w, false);
  if (!ph.ok() || !pw.ok())
    return invalid_argument("{}:{}: [{}] layer {}: window does not fit", source, l.line, layer_type_name(l.type), l.index);
  if (ph->out != l.out_h || pw->out != l.out_w)
    return internal_error("{}: layer {}: output size mismatch", source, l.index);
  if (ph->valid && pw->valid) return Window{x, Padding::kValid};
  if (ph->same && pw->same) return Window{x, Padding::kSame};
  const int32_t pads[] = {0, 0, ph->before, ph->after, pw->before, pw->after, 0, 0};
  const int32_t pid = b.constant(lname(l) + "/paddings", HostTensor::from_int32s({4, 2}, pads));
  const int32_t y = b.activation(lname(l) + "/padded", {s[0], s[1] + ph->before + ph->after, s[2] + pw->before + pw->after, s[3]});
  if (pad_value == 0.f) {
    b.op(OpKind::kPad, {x, pid}, {y});
  } else {
    const float v[] = {pad_value};
    b.op(OpKind::kPadV2, {x, pid, b.constant(lname(l) + "/pad_value", HostTensor::from_floats({}, v))}, {y});
  }
  return Window{y, Padding::kValid};
}

Result<int32_t> convolution(Builder& b, const Layer& l, int32_t x, const ConvWeights& w, const std::string& source) {
  const int32_t f = l.filters, cin = l.in_c / l.groups, k = l.size;
  // Fold darknet's batch norm: y = (conv - mean) / (sqrt(var) + 1e-6) * scale + bias.
  std::vector<float> weights = w.weights, bias = w.biases;
  if (l.batch_normalize) {
    for (int32_t o = 0; o < f; ++o) {
      const float s = w.scales[o] / (std::sqrt(w.variance[o]) + .000001f);
      for (int64_t j = 0; j < int64_t{cin} * k * k; ++j) weights[o * int64_t{cin} * k * k + j] *= s;
      bias[o] = w.biases[o] - w.mean[o] * s;
    }
  }
  QDET_ASSIGN_OR_RETURN(Window win, window(b, l, x, l.padding, l.padding, l.padding, l.padding, 0.f, source));
  OpAttrs a;
  a.padding = win.padding;
  a.stride_h = a.stride_w = l.stride;
  const std::string n = lname(l);
  const HostTensor oihw = HostTensor::from_floats({f, cin, k, k}, weights);
  const Shape out_shape = {1, l.out_h, l.out_w, f};
  int32_t y;
  graph::Op* conv_op = nullptr;
  if (l.groups == 1 || (l.groups == l.in_c && cin == 1)) {
    const bool dw = l.groups != 1;
    const Perm wperm = dw ? Perm{1, 2, 3, 0} : Perm{0, 2, 3, 1};
    const int32_t wid = b.constant(n + "/filter", transpose(oihw, wperm));
    const int32_t bid = b.constant(n + "/bias", HostTensor::from_floats({f}, bias));
    y = b.activation(n, out_shape);
    if (dw) a.depth_multiplier = f / l.in_c;
    b.op(dw ? OpKind::kDepthwiseConv2d : OpKind::kConv2d, {win.input, wid, bid}, {y}, a);
    conv_op = &b.g.ops.back();
  } else {
    const int32_t g = l.groups, fg = f / g;
    const Shape in = b.shape(win.input);
    const int32_t axis[] = {3};
    const int32_t axis_id = b.constant(n + "/split_axis", HostTensor::from_int32s({}, axis));
    std::vector<int32_t> parts, outs;
    for (int32_t i = 0; i < g; ++i) parts.push_back(b.activation(fmt::format("{}/group{}_in", n, i), {in[0], in[1], in[2], cin}));
    OpAttrs sa;
    sa.num_splits = g;
    b.op(OpKind::kSplit, {axis_id, win.input}, parts, sa);
    const size_t per = static_cast<size_t>(fg) * cin * k * k;
    for (int32_t i = 0; i < g; ++i) {
      HostTensor wg = HostTensor::from_floats({fg, cin, k, k}, std::span<const float>(weights).subspan(i * per, per));
      const int32_t wid = b.constant(fmt::format("{}/group{}/filter", n, i), transpose(wg, Perm{0, 2, 3, 1}));
      const int32_t bid = b.constant(fmt::format("{}/group{}/bias", n, i),
                                     HostTensor::from_floats({fg}, std::span<const float>(bias).subspan(i * fg, fg)));
      outs.push_back(b.activation(fmt::format("{}/group{}", n, i), {1, l.out_h, l.out_w, fg}));
      b.op(OpKind::kConv2d, {parts[i], wid, bid}, {outs.back()}, a);
    }
    y = b.activation(n, out_shape);
    OpAttrs ca;
    ca.axis = 3;
    b.op(OpKind::kConcatenation, outs, {y}, ca);
  }
  return apply_activation(b, l, y, conv_op);
}

std::string sidecar(const Network& net) {
  nlohmann::json j;
  j["preset"] = "darknet_yolo";  // darknet's letterbox and its detector test / valid thresholds
  j["description"] = fmt::format("darknet {} (converted by qdet): yolo head, letterbox, RGB 0..1",
                                 std::filesystem::path(net.source).filename().string());
  j["input_size"] = {net.width, net.height};
  j["resize"] = "letterbox_darknet";  // darknet's own resize and 0.5 fill (image/darknet_resize.h)
  j["channel_order"] = "rgb";
  j["mean"] = 0;
  j["std"] = 255;
  j["layout"] = "nhwc";
  j["head"] = "yolo";
  j["multi_label"] = true;  // darknet reports every class above the threshold
  j["iou_threshold"] = 0.45;
  const Layer& first = net.layers[net.yolo_layers[0]];
  if (first.classes == 80) j["labels"] = "coco80";
  nlohmann::json anchors = nlohmann::json::array();
  for (size_t i = 0; i < net.yolo_layers.size(); ++i) {
    const Layer& l = net.layers[net.yolo_layers[i]];
    nlohmann::json a = nlohmann::json::array();
    for (int m : l.mask) a.push_back({l.anchors[2 * m], l.anchors[2 * m + 1]});
    anchors.push_back(a);
  }
  j["anchors"] = anchors;
  return json_text(j, 2) + "\n";
}

// darknet's max pool: its padding is the total over both sides, and it never picks padding
// (-FLT_MAX outside the input).
Result<int32_t> max_pool(Builder& b, const Layer& l, int32_t x, const std::string& source) {
  const int32_t before = l.padding / 2, end = l.padding - l.padding / 2;
  QDET_ASSIGN_OR_RETURN(Window win, window(b, l, x, before, end, before, end, std::numeric_limits<float>::lowest(),
                                           source));
  OpAttrs a;
  a.padding = win.padding;
  a.stride_h = a.stride_w = l.stride;
  a.filter_h = a.filter_w = l.size;
  const int32_t y = b.activation(lname(l), {1, l.out_h, l.out_w, l.out_c});
  b.op(OpKind::kMaxPool2d, {win.input}, {y}, a);
  return y;
}

// [route]: the layers' outputs (or group `route_group_id` of their channels) concatenated;
// one whole layer is that layer's tensor.
int32_t route(Builder& b, const Layer& l, const std::vector<int32_t>& out) {
  const std::string n = lname(l);
  std::vector<int32_t> parts;
  for (int src : l.route_layers) {
    int32_t t = out[src];
    if (l.route_groups > 1) {
      const Shape s = b.shape(t);
      const int32_t part = s[3] / l.route_groups;
      const int32_t sliced = b.activation(fmt::format("{}/from{}", n, src), {s[0], s[1], s[2], part});
      b.op(OpKind::kStridedSlice,
           {t, b.ints(n + "/begin", {0, 0, 0, part * l.route_group_id}),
            b.ints(n + "/end", {s[0], s[1], s[2], part * (l.route_group_id + 1)}), b.ints(n + "/strides", {1, 1, 1, 1})},
           {sliced});
      t = sliced;
    }
    parts.push_back(t);
  }
  if (parts.size() == 1) return parts[0];
  const int32_t y = b.activation(n, {1, l.out_h, l.out_w, l.out_c});
  OpAttrs a;
  a.axis = 3;
  b.op(OpKind::kConcatenation, parts, {y}, a);
  return y;
}

// [upsample]: RESIZE_NEAREST_NEIGHBOR, then a MUL when `scale` is not 1.
int32_t upsample(Builder& b, const Layer& l, int32_t x) {
  const std::string n = lname(l);
  const int32_t y = b.activation(n, {1, l.out_h, l.out_w, l.out_c});
  b.op(OpKind::kResizeNearestNeighbor, {x, b.ints(n + "/size", {l.out_h, l.out_w})}, {y});
  if (l.upsample_scale == 1.f) return y;
  const float s[] = {l.upsample_scale};
  const int32_t z = b.activation(n + "/scaled", {1, l.out_h, l.out_w, l.out_c});
  b.op(OpKind::kMul, {y, b.constant(n + "/scale", HostTensor::from_floats({}, s))}, {z});
  return z;
}

// The graph's layers, their tensors in `out` (a layer's output tensor, by layer index).
Status add_layers(Builder& b, const Network& net, const Weights& weights, int32_t input, std::vector<int32_t>& out) {
  for (const Layer& l : net.layers) {
    const int32_t x = l.input < 0 ? input : out[l.input];
    switch (l.type) {
      case LayerType::kConvolutional: {
        QDET_ASSIGN_OR_RETURN(out[l.index], convolution(b, l, x, weights.layers[l.index], net.source));
        break;
      }
      case LayerType::kMaxpool: {
        QDET_ASSIGN_OR_RETURN(out[l.index], max_pool(b, l, x, net.source));
        break;
      }
      case LayerType::kRoute:
        out[l.index] = route(b, l, out);
        break;
      case LayerType::kShortcut: {
        const int32_t y = b.activation(lname(l), {1, l.out_h, l.out_w, l.out_c});
        b.op(OpKind::kAdd, {x, out[l.from]}, {y});
        out[l.index] = apply_activation(b, l, y, &b.g.ops.back());
        break;
      }
      case LayerType::kUpsample:
        out[l.index] = upsample(b, l, x);
        break;
      case LayerType::kDropout:
      case LayerType::kYolo:
        out[l.index] = x;
        break;
    }
  }
  return ok_status();
}

// The graph's outputs: the inputs of the [yolo] layers, named yolo_<layer> (the last layer's
// output without them).
std::vector<int32_t> yolo_outputs(Builder& b, const Network& net, int32_t input, const std::vector<int32_t>& out) {
  std::vector<int32_t> outputs;
  if (net.yolo_layers.empty()) {
    outputs.push_back(out.back());
    return outputs;
  }
  for (int yi : net.yolo_layers) {
    int32_t t = out[yi];
    bool taken = t == input;
    for (int32_t o : outputs) taken |= o == t;
    if (taken) {  // an output needs its own tensor
      const Shape s = b.shape(t);
      const int32_t copy = b.activation(fmt::format("yolo_{}", yi), s);
      b.op(OpKind::kReshape, {t, b.ints(fmt::format("yolo_{}/shape", yi), s)}, {copy});
      t = copy;
    }
    b.g.tensors[t].name = fmt::format("yolo_{}", yi);
    outputs.push_back(t);
  }
  return outputs;
}

// The qdet_convert metadata: the source, the input and each [yolo] output with its anchors.
std::string convert_info(const Network& net, const std::string& file) {
  nlohmann::json info;
  info["source"] = file;
  info["format"] = "darknet";
  info["inputs"].push_back({{"name", "input"}, {"shape", {1, net.height, net.width, net.channels}}, {"layout", "NHWC"}});
  for (size_t i = 0; i < net.yolo_layers.size(); ++i) {
    const Layer& l = net.layers[net.yolo_layers[i]];
    nlohmann::json anchors = nlohmann::json::array();
    for (int m : l.mask) anchors.push_back({l.anchors[2 * m], l.anchors[2 * m + 1]});
    info["outputs"].push_back({{"name", fmt::format("yolo_{}", l.index)},
                               {"shape", {1, l.out_h, l.out_w, l.out_c}},
                               {"layout", "NHWC"},
                               {"yolo", {{"classes", l.classes}, {"anchors", anchors}, {"scale_x_y", l.scale_x_y}}}});
  }
  return json_text(info);
}

}  // namespace

Result<Imported> import_network(const Network& net, const Weights& weights) {
  if (weights.layers.size() != net.layers.size())
    return internal_error("{}: weights for {} layers, network has {}", net.source, weights.layers.size(), net.layers.size());
  Builder b;
  b.g.name = std::filesystem::path(net.source).stem().string();
  const int32_t input = b.activation("input", {1, net.height, net.width, net.channels});
  b.g.inputs.push_back(input);
  std::vector<int32_t> out(net.layers.size(), -1);
  QDET_TRY(add_layers(b, net, weights, input, out));
  b.g.outputs = yolo_outputs(b, net, input, out);
  remove_unused(b.g);
  if (Status s = b.g.verify(); !s.ok())
    return internal_error("{}: the converted graph does not verify: {}", net.source, s.message());

  Imported r;
  r.model.graph = std::move(b.g);
  const std::string file = std::filesystem::path(net.source).filename().string();
  r.model.description = fmt::format(
      "qdet convert from darknet {} (weights version {}.{}.{}). Input NHWC [1,{},{},{}] RGB 0..1; outputs are the raw "
      "inputs of the [yolo] layers (NHWC, before sigmoid).",
      file, weights.major, weights.minor, weights.revision, net.height, net.width, net.channels);
  const std::string text = convert_info(net, file);
  r.model.metadata.push_back({"qdet_convert", std::vector<uint8_t>(text.begin(), text.end())});
  if (!net.yolo_layers.empty()) r.sidecar_json = sidecar(net);
  return r;
}

Result<Imported> import_files(const std::filesystem::path& cfg, const std::filesystem::path& weights_path) {
  QDET_ASSIGN_OR_RETURN(Network net, load_network(cfg.string()));
  QDET_ASSIGN_OR_RETURN(auto bytes, read_file(weights_path));
  QDET_ASSIGN_OR_RETURN(Weights w, parse_weights(bytes, net, weights_path.string()));
  return import_network(net, w);
}

}  // namespace qdet::convert::darknet
