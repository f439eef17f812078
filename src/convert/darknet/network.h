// A darknet network: the layers of a .cfg with their options checked and every output shape
// computed (darknet's own rules, e.g. conv out = (in + 2*pad - size)/stride + 1, maxpool
// padding = size - 1 split floor/ceil around the input).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "convert/darknet/cfg.h"

namespace qdet::convert::darknet {

enum class LayerType { kConvolutional, kMaxpool, kRoute, kShortcut, kUpsample, kDropout, kYolo };
const char* layer_type_name(LayerType t);

enum class Activation { kLinear, kLeaky, kRelu, kRelu6, kLogistic, kTanh, kSwish };
const char* activation_name(Activation a);

struct Layer {
  LayerType type = LayerType::kConvolutional;
  int index = 0;  // position among layers (the [net] section not counted), as darknet numbers them
  int line = 0;   // cfg line of the section header
  int in_h = 0, in_w = 0, in_c = 0;
  int out_h = 0, out_w = 0, out_c = 0;
  int input = -1;  // the layer read (index - 1), -1 for the network input

  // convolutional
  int filters = 0, size = 1, stride = 1, padding = 0, groups = 1;
  bool batch_normalize = false;
  Activation activation = Activation::kLinear;
  // maxpool: size, stride as above; padding = total padding (split padding/2 before)
  // route: layers concatenated along channels, each cut to group group_id of `groups`
  std::vector<int> route_layers;
  int route_groups = 1, route_group_id = 0;
  // shortcut: out = activation(input + layers[from])
  int from = -1;
  // upsample
  float upsample_scale = 1.f;
  // yolo
  std::vector<int> mask;
  std::vector<float> anchors;  // w,h pairs in network-input pixels
  int classes = 0;
  float scale_x_y = 1.f;

  // Floats this layer reads from the .weights file.
  int64_t weight_floats() const;
};

struct Network {
  std::string source;
  int width = 0, height = 0, channels = 0;
  std::vector<Layer> layers;
  std::vector<int> yolo_layers;  // indices of the [yolo] layers, in order

  int64_t weight_floats() const;
};

// Checks the sections and computes shapes. Errors: "<source>:<line>: [type]: message", e.g. a
// route to a layer that does not exist, a shortcut between different shapes, filters not
// divisible by groups, a yolo layer whose input has the wrong number of channels.
Result<Network> build_network(const std::vector<Section>& sections, std::string_view source);

// parse_cfg + build_network on a file.
Result<Network> load_network(const std::string& cfg_path);

}  // namespace qdet::convert::darknet
