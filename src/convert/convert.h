// qdet convert's library entry: a model file in, a graph::Model (TFLite builtin ops) out.
//   .onnx          ONNX (convert/onnx/importer.h)
//   .cfg           darknet, with its .weights (convert/darknet/importer.h)
// A darknet model also yields a detection preset (the yolo head: anchors, masks, strides) as
// the JSON of the sidecar that detect/eval read beside the .tflite (OUT.qdet.json).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "base/status.h"
#include "graph/graph.h"

namespace qdet::convert {

enum class SourceFormat { kOnnx, kDarknet };
const char* source_format_name(SourceFormat f);
// From the file name (.onnx, .cfg); an error lists what is understood.
Result<SourceFormat> detect_format(const std::filesystem::path& model);

struct ConvertOptions {
  std::filesystem::path model;    // .onnx or .cfg
  std::filesystem::path weights;  // darknet: default is the .cfg with .weights
  // ONNX: input 0's shape in the ONNX layout (e.g. 1,3,320,320) instead of the file's, every
  // shape computed from it (a detector whose upsample sizes and reshapes are constants in the
  // .tflite gets them for this size). Empty: the file's.
  std::vector<int64_t> input_shape;
};

struct Converted {
  graph::Model model;
  SourceFormat format = SourceFormat::kOnnx;
  std::string sidecar_json;  // empty when the source carries no head description
};

Result<Converted> convert_model(const ConvertOptions& options);

// Converts and writes `out` (and, when there is one, the sidecar beside it) atomically: on any
// error nothing is left at `out`.
Result<Converted> convert_to_file(const ConvertOptions& options, const std::filesystem::path& out);

// The sidecar path for a model: "a/b.tflite" -> "a/b.qdet.json".
std::filesystem::path sidecar_path_for(const std::filesystem::path& model);

}  // namespace qdet::convert
