// Writing graph::Model as a .tflite file that the official TFLite interpreter loads.
//
// The layout follows the TFLite converter: buffer 0 is the empty sentinel, every constant
// tensor gets its own 16-byte aligned buffer, activations use buffer 0, operator codes are
// deduplicated (builtin code, custom code, version) and set both builtin code fields
// (deprecated_builtin_code = min(code, 127)), ops with a TFLite options table always get one.
// Metadata entries become buffers named in Model.metadata; signature defs and
// the description are written; Model::trailing is appended after the flatbuffer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "base/status.h"
#include "graph/graph.h"

namespace qdet::tflite {

// Fails (with the graph's own verify() message) on a graph that does not verify.
Result<std::vector<uint8_t>> write_tflite(const graph::Model& model);

// write_tflite, then an atomic write to `path` (temporary file + rename).
Status save_tflite(const std::filesystem::path& path, const graph::Model& model);

}  // namespace qdet::tflite
