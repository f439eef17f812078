// ONNX-level rewrites run before lowering (internal to src/convert/onnx).
#pragma once

#include "convert/onnx/onnx_model.h"

namespace qdet::convert::onnx {

// Folds BatchNormalization (constant parameters) into the Conv that alone feeds it, and a
// constant zero Pad of H/W into the Conv it alone feeds. Nodes that do not qualify stay.
void rewrite_model(Model& model);

}  // namespace qdet::convert::onnx
