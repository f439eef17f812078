// Constant folding of ONNX nodes at conversion time (internal to src/convert/onnx).
#pragma once

#include <string_view>

#include "base/status.h"
#include "convert/onnx/context.h"

namespace qdet::convert::onnx {

// True for op types const folding knows.
bool is_foldable_op(std::string_view op_type);

// Folds `node` when its op is foldable and its inputs are constants (Shape: whenever its
// input is known; shapes are static): its outputs become constants and the result is true.
// False when the node must be lowered to ops instead; an error names the node.
Result<bool> try_fold(Context& ctx, const Node& node);

}  // namespace qdet::convert::onnx
