#include "convert/darknet/network.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/file.h"
#include "base/named.h"

namespace qdet::convert::darknet {
namespace {

constexpr int kMaxDim = 16384;

constexpr Named<LayerType> kLayerTypeNames[] = {
    {LayerType::kConvolutional, "convolutional"}, {LayerType::kMaxpool, "maxpool"}, {LayerType::kRoute, "route"},
    {LayerType::kShortcut, "shortcut"},           {LayerType::kUpsample, "upsample"}, {LayerType::kDropout, "dropout"},
    {LayerType::kYolo, "yolo"},
};
constexpr Named<Activation> kActivationNames[] = {
    {Activation::kLinear, "linear"}, {Activation::kLeaky, "leaky"},       {Activation::kRelu, "relu"},
    {Activation::kRelu6, "relu6"},   {Activation::kLogistic, "logistic"}, {Activation::kTanh, "tanh"},
    {Activation::kSwish, "swish"},
};

Result<Activation> parse_activation(const Options& o) {
  const std::string a = o.get_string("activation", "logistic");
  if (const auto activation = value_named(kActivationNames, a)) return *activation;
  return o.error("activation '{}' is not supported ({})", a, names_of(kActivationNames));
}

Status check_range(const Options& o, std::string_view key, int v, int lo, int hi) {
  if (v < lo || v > hi) return o.error("'{}' = {} is out of range [{}, {}]", key, v, lo, hi);
  return ok_status();
}

// A layer reference in route/shortcut: negative is relative to `index`.
Result<int> resolve(const Options& o, int ref, int index) {
  const int abs = ref < 0 ? index + ref : ref;
  if (abs < 0 || abs >= index) return o.error("refers to layer {} (resolved {}), which is not an earlier layer", ref, abs);
  return abs;
}

// [convolutional]: groups dividing the channels, a kernel that fits the padded input.
Status read_convolutional(const Options& o, Layer& l) {
  const int h = l.in_h, w = l.in_w, c = l.in_c;
  l.type = LayerType::kConvolutional;
  QDET_ASSIGN_OR_RETURN(l.filters, o.get_int("filters", 1));
  QDET_ASSIGN_OR_RETURN(l.size, o.get_int("size", 1));
  QDET_ASSIGN_OR_RETURN(l.stride, o.get_int("stride", 1));
  QDET_ASSIGN_OR_RETURN(l.groups, o.get_int("groups", 1));
  QDET_ASSIGN_OR_RETURN(int pad, o.get_int("pad", 0));
  QDET_ASSIGN_OR_RETURN(l.padding, o.get_int("padding", 0));
  if (pad) l.padding = l.size / 2;
  QDET_ASSIGN_OR_RETURN(int bn, o.get_int("batch_normalize", 0));
  l.batch_normalize = bn != 0;
  QDET_ASSIGN_OR_RETURN(l.activation, parse_activation(o));
  QDET_TRY(check_range(o, "filters", l.filters, 1, 65536));
  QDET_TRY(check_range(o, "size", l.size, 1, 64));
  QDET_TRY(check_range(o, "stride", l.stride, 1, 64));
  QDET_TRY(check_range(o, "padding", l.padding, 0, 64));
  QDET_TRY(check_range(o, "groups", l.groups, 1, 65536));
  if (o.has("stride_x") || o.has("stride_y") || o.has("dilation") || o.has("binary") || o.has("xnor") ||
      o.has("antialiasing") || o.has("deform"))
    return o.error("options stride_x/stride_y/dilation/binary/xnor/antialiasing/deform are not supported");
  if (c % l.groups != 0 || l.filters % l.groups != 0)
    return o.error("groups={} does not divide {} input channels and {} filters", l.groups, c, l.filters);
  const int oh = (h + 2 * l.padding - l.size) / l.stride + 1, ow = (w + 2 * l.padding - l.size) / l.stride + 1;
  if (h + 2 * l.padding < l.size || w + 2 * l.padding < l.size || oh < 1 || ow < 1)
    return o.error("a {}x{} kernel does not fit the {}x{} input", l.size, l.size, w, h);
  l.out_h = oh;
  l.out_w = ow;
  l.out_c = l.filters;
  return ok_status();
}

// [maxpool]: darknet's padding is the total over both sides (default size - 1).
Status read_maxpool(const Options& o, Layer& l) {
  const int h = l.in_h, w = l.in_w, c = l.in_c;
  l.type = LayerType::kMaxpool;
  QDET_ASSIGN_OR_RETURN(l.stride, o.get_int("stride", 1));
  QDET_ASSIGN_OR_RETURN(l.size, o.get_int("size", l.stride));
  QDET_ASSIGN_OR_RETURN(l.padding, o.get_int("padding", l.size - 1));
  QDET_TRY(check_range(o, "size", l.size, 1, 64));
  QDET_TRY(check_range(o, "stride", l.stride, 1, 64));
  QDET_TRY(check_range(o, "padding", l.padding, 0, 64));
  if (o.has("stride_x") || o.has("stride_y") || o.has("maxpool_depth") || o.has("antialiasing"))
    return o.error("options stride_x/stride_y/maxpool_depth/antialiasing are not supported");
  l.out_h = (h + l.padding - l.size) / l.stride + 1;
  l.out_w = (w + l.padding - l.size) / l.stride + 1;
  if (h + l.padding < l.size || w + l.padding < l.size)
    return o.error("a {}x{} window does not fit the {}x{} input", l.size, l.size, w, h);
  l.out_c = c;
  return ok_status();
}

// [route]: earlier layers of equal size concatenated, each optionally one of `groups` channel groups.
Status read_route(const Options& o, const Network& net, Layer& l) {
  l.type = LayerType::kRoute;
  QDET_ASSIGN_OR_RETURN(auto refs, o.get_ints("layers"));
  if (refs.empty()) return o.error("needs 'layers'");
  QDET_ASSIGN_OR_RETURN(l.route_groups, o.get_int("groups", 1));
  QDET_ASSIGN_OR_RETURN(l.route_group_id, o.get_int("group_id", 0));
  QDET_TRY(check_range(o, "groups", l.route_groups, 1, 65536));
  QDET_TRY(check_range(o, "group_id", l.route_group_id, 0, l.route_groups - 1));
  l.out_c = 0;
  for (int ref : refs) {
    QDET_ASSIGN_OR_RETURN(int abs, resolve(o, ref, l.index));
    const Layer& src = net.layers[abs];
    if (l.route_layers.empty()) {
      l.out_h = src.out_h;
      l.out_w = src.out_w;
    } else if (src.out_h != l.out_h || src.out_w != l.out_w) {
      return o.error("layer {} is {}x{}, layer {} is {}x{}: route needs equal sizes", l.route_layers[0], l.out_w,
                     l.out_h, abs, src.out_w, src.out_h);
    }
    if (src.out_c % l.route_groups != 0)
      return o.error("layer {} has {} channels, not divisible into {} groups", abs, src.out_c, l.route_groups);
    l.out_c += src.out_c / l.route_groups;
    l.route_layers.push_back(abs);
  }
  return ok_status();
}

// [shortcut]: adds an earlier layer of the same shape (unweighted, alpha = beta = 1 only).
Status read_shortcut(const Options& o, const Network& net, Layer& l) {
  const int h = l.in_h, w = l.in_w, c = l.in_c;
  l.type = LayerType::kShortcut;
  QDET_ASSIGN_OR_RETURN(auto from, o.get_ints("from"));
  if (from.size() != 1) return o.error("needs exactly one 'from' layer");
  QDET_ASSIGN_OR_RETURN(l.from, resolve(o, from[0], l.index));
  QDET_ASSIGN_OR_RETURN(l.activation, parse_activation(o));
  if (o.has("weights_type") && o.get_string("weights_type", "none") != "none")
    return o.error("weighted shortcuts are not supported");
  QDET_ASSIGN_OR_RETURN(float alpha, o.get_float("alpha", 1.f));
  QDET_ASSIGN_OR_RETURN(float beta, o.get_float("beta", 1.f));
  if (alpha != 1.f || beta != 1.f) return o.error("alpha/beta other than 1 are not supported");
  const Layer& src = net.layers[l.from];
  if (src.out_h != h || src.out_w != w || src.out_c != c)
    return o.error("adds layer {} ({}x{}x{}) to the previous layer ({}x{}x{}): shapes differ", l.from, src.out_w,
                   src.out_h, src.out_c, w, h, c);
  l.out_h = h;
  l.out_w = w;
  l.out_c = c;
  return ok_status();
}

// [upsample]: nearest neighbour by an integer stride, values times `scale`.
Status read_upsample(const Options& o, Layer& l) {
  const int h = l.in_h, w = l.in_w, c = l.in_c;
  l.type = LayerType::kUpsample;
  QDET_ASSIGN_OR_RETURN(l.stride, o.get_int("stride", 2));
  QDET_ASSIGN_OR_RETURN(l.upsample_scale, o.get_float("scale", 1.f));
  QDET_TRY(check_range(o, "stride", l.stride, 1, 64));
  l.out_h = h * l.stride;
  l.out_w = w * l.stride;
  l.out_c = c;
  if (l.out_h > kMaxDim || l.out_w > kMaxDim) return o.error("output {}x{} is too large", l.out_w, l.out_h);
  return ok_status();
}

// [dropout]: the identity at inference.
void read_dropout(Layer& l) {
  l.type = LayerType::kDropout;
  l.out_h = l.in_h;
  l.out_w = l.in_w;
  l.out_c = l.in_c;
}

// [yolo]: its input holds (5 + classes) values per masked anchor.
Status read_yolo(const Options& o, Layer& l) {
  const int h = l.in_h, w = l.in_w, c = l.in_c;
  l.type = LayerType::kYolo;
  QDET_ASSIGN_OR_RETURN(l.classes, o.get_int("classes", 20));
  QDET_ASSIGN_OR_RETURN(int num, o.get_int("num", 1));
  QDET_ASSIGN_OR_RETURN(l.mask, o.get_ints("mask"));
  QDET_ASSIGN_OR_RETURN(l.anchors, o.get_floats("anchors"));
  QDET_ASSIGN_OR_RETURN(l.scale_x_y, o.get_float("scale_x_y", 1.f));
  QDET_TRY(check_range(o, "classes", l.classes, 1, 100000));
  QDET_TRY(check_range(o, "num", num, 1, 1000));
  if (l.mask.empty())
    for (int i = 0; i < num; ++i) l.mask.push_back(i);
  if (l.anchors.size() != 2 * static_cast<size_t>(num))
    return o.error("{} anchor values for num={} (need {})", l.anchors.size(), num, 2 * num);
  for (int m : l.mask)
    if (m < 0 || m >= num) return o.error("mask {} is not an anchor index (num={})", m, num);
  const int want = static_cast<int>(l.mask.size()) * (5 + l.classes);
  if (c != want)
    return o.error("input has {} channels; {} masks x (5 + {} classes) = {} expected", c, l.mask.size(), l.classes,
                   want);
  if (l.index == 0) return o.error("a yolo layer needs a layer before it");
  l.out_h = h;
  l.out_w = w;
  l.out_c = c;
  return ok_status();
}

}  // namespace

const char* layer_type_name(LayerType t) { return name_of(kLayerTypeNames, t); }

const char* activation_name(Activation a) { return name_of(kActivationNames, a); }

int64_t Layer::weight_floats() const {
  if (type != LayerType::kConvolutional) return 0;
  int64_t n = filters;                          // biases
  if (batch_normalize) n += 3 * int64_t{filters};  // scales, rolling mean, rolling variance
  n += int64_t{filters} * (in_c / groups) * size * size;
  return n;
}

int64_t Network::weight_floats() const {
  int64_t n = 0;
  for (const auto& l : layers) n += l.weight_floats();
  return n;
}

Result<Network> build_network(const std::vector<Section>& sections, std::string_view source) {
  Network net;
  net.source = std::string(source);
  {
    Options o(sections.at(0), source);
    QDET_ASSIGN_OR_RETURN(net.width, o.get_int("width", std::nullopt));
    QDET_ASSIGN_OR_RETURN(net.height, o.get_int("height", std::nullopt));
    QDET_ASSIGN_OR_RETURN(net.channels, o.get_int("channels", 3));
    QDET_TRY(check_range(o, "width", net.width, 1, kMaxDim));
    QDET_TRY(check_range(o, "height", net.height, 1, kMaxDim));
    QDET_TRY(check_range(o, "channels", net.channels, 1, 4096));
  }
  int h = net.height, w = net.width, c = net.channels;
  for (size_t si = 1; si < sections.size(); ++si) {
    const Section& s = sections[si];
    Options o(s, source);
    Layer l;
    l.index = static_cast<int>(net.layers.size());
    l.line = s.line;
    l.in_h = h;
    l.in_w = w;
    l.in_c = c;
    l.input = l.index - 1;
    if (s.type == "convolutional" || s.type == "conv") {
      QDET_TRY(read_convolutional(o, l));
    } else if (s.type == "maxpool" || s.type == "max") {
      QDET_TRY(read_maxpool(o, l));
    } else if (s.type == "route") {
      QDET_TRY(read_route(o, net, l));
    } else if (s.type == "shortcut") {
      QDET_TRY(read_shortcut(o, net, l));
    } else if (s.type == "upsample") {
      QDET_TRY(read_upsample(o, l));
    } else if (s.type == "dropout") {
      read_dropout(l);
    } else if (s.type == "yolo") {
      QDET_TRY(read_yolo(o, l));
    } else {
      return o.error("layer type [{}] is not supported (convolutional, maxpool, route, shortcut, upsample, dropout, yolo)",
                     s.type);
    }
    if (l.out_h < 1 || l.out_w < 1 || l.out_c < 1) return o.error("output {}x{}x{} is empty", l.out_w, l.out_h, l.out_c);
    h = l.out_h;
    w = l.out_w;
    c = l.out_c;
    if (l.type == LayerType::kYolo) net.yolo_layers.push_back(l.index);
    net.layers.push_back(std::move(l));
  }
  if (net.layers.empty()) return invalid_argument("{}: no layers after [net]", source);
  return net;
}

Result<Network> load_network(const std::string& cfg_path) {
  QDET_ASSIGN_OR_RETURN(std::string text, read_text_file(cfg_path));
  QDET_ASSIGN_OR_RETURN(auto sections, parse_cfg(text, cfg_path));
  return build_network(sections, cfg_path);
}

}  // namespace qdet::convert::darknet
