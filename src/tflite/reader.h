// Reading .tflite files into the graph IR (docs/ARCHITECTURE.md, "Formats and exactness": model files are untrusted).
//
// Every file is checked with the flatbuffers Verifier, then every index (buffer, tensor,
// operator code, subgraph) and every size (shapes, constant data vs shape x dtype, quantization
// vectors, quantized_dimension) is bounds-checked before use. Errors name the file and the
// problem, e.g. "model.tflite: tensor 17 refers to buffer 93 of 12".
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "graph/graph.h"

namespace qdet::tflite {

// Parses a whole .tflite file held in memory. `source_name` prefixes every error message.
// Only subgraph 0 is read (a model with more subgraphs is rejected as unsupported); bytes after
// the flatbuffer (e.g. a metadata zip) land in Model::trailing.
Result<graph::Model> read_tflite(std::span<const uint8_t> bytes, std::string_view source_name);

// Reads `path` and parses it; messages are prefixed with the path as given.
Result<graph::Model> load_tflite(const std::filesystem::path& path);

// TFLite's name of a builtin operator code ("CONV_2D", "GELU"), or "UNKNOWN" for codes TFLite
// does not define.
std::string tflite_builtin_name(int32_t code);

}  // namespace qdet::tflite
