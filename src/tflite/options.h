// Builtin options <-> graph::OpAttrs, both directions in one place (internal to src/tflite).
#pragma once

#include <flatbuffers/flatbuffers.h>

#include "base/status.h"
#include "graph/op.h"
#include "tflite/tflite_generated.h"

namespace qdet::tflite {

// The BuiltinOptions union type TFLite uses for `kind` (NONE for ops without options and for
// custom ops).
tfl::BuiltinOptions options_type_for(graph::OpKind kind);

// Fills op.attrs from the operator's builtin options. An absent options table reads as TFLite's
// runtime reads it; options of the wrong type for the op are an error (message without the
// file name: the caller adds "op N (KIND)" context).
Status read_builtin_options(const tfl::Operator& src, graph::Op& op);

// Writes the options table for op.kind (every op with an options type gets one, as the TFLite
// converter does); returns {NONE, 0} for ops without options.
struct WrittenOptions {
  tfl::BuiltinOptions type = tfl::BuiltinOptions::NONE;
  flatbuffers::Offset<void> table;
};
WrittenOptions write_builtin_options(flatbuffers::FlatBufferBuilder& fbb, const graph::Op& op);

}  // namespace qdet::tflite
