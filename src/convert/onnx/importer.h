// ONNX -> graph::Model (TFLite builtin ops, NHWC).
//
// What the importer does, in order:
//   1. rewrites: BatchNormalization folded into Conv, zero Pad folded into Conv;
//   2. checks every node's op type and reports all unsupported ones in one error;
//   3. walks the nodes in order: constant inputs fold at conversion time (Shape included, all
//      shapes are static), everything else is lowered to TFLite builtins;
//   4. 4-D float inputs become NHWC ([1,3,416,416] -> [1,416,416,3]); 4-D outputs become NHWC
//      too; other outputs keep their ONNX layout and shape; tensors keep their ONNX names;
//   5. RELU/RELU6 fused into the op before them, unused tensors dropped, the graph verified.
// The model's description says where it came from and which layouts changed; the metadata
// entry "qdet_convert" holds the same as JSON (inputs/outputs with name, shape, layout).
#pragma once

#include <filesystem>

#include "base/status.h"
#include "convert/onnx/onnx_model.h"
#include "graph/graph.h"

namespace qdet::convert::onnx {

Result<graph::Model> import_model(const Model& model);
Result<graph::Model> import_file(const std::filesystem::path& path);

}  // namespace qdet::convert::onnx
