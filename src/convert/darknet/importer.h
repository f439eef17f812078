// Darknet (.cfg + .weights) -> graph::Model, NHWC throughout.
//
// Input "input" [1, height, width, channels] float32 (darknet feeds RGB in 0..1). Each
// convolutional layer becomes CONV_2D / DEPTHWISE_CONV_2D (grouped: SPLIT + CONV_2D + CONCAT)
// with batch norm folded in (darknet: (x - mean) / (sqrt(var) + 1e-6) * scale + bias) and its
// activation fused (relu, relu6) or following (LEAKY_RELU 0.1, LOGISTIC, TANH, swish as
// LOGISTIC x MUL); maxpool -> MAX_POOL_2D, route -> CONCATENATION (groups -> STRIDED_SLICE),
// shortcut -> ADD, upsample -> RESIZE_NEAREST_NEIGHBOR, dropout -> nothing.
// Outputs: one per [yolo] layer, its raw input ("yolo_<layer>", [1, H, W, masks*(5+classes)],
// before any sigmoid); the yolo head decodes them with the anchors given in the sidecar.
#pragma once

#include <filesystem>
#include <string>

#include "base/status.h"
#include "convert/darknet/network.h"
#include "convert/darknet/weights.h"
#include "graph/graph.h"

namespace qdet::convert::darknet {

struct Imported {
  graph::Model model;
  // A detect sidecar (MODEL.qdet.json) with the yolo head and darknet's preprocessing
  // (letterbox, RGB, 0..1); empty when the network has no [yolo] layer.
  std::string sidecar_json;
};

Result<Imported> import_network(const Network& net, const Weights& weights);
Result<Imported> import_files(const std::filesystem::path& cfg, const std::filesystem::path& weights);

}  // namespace qdet::convert::darknet
