#include "convert/convert.h"

#include <algorithm>
#include <cctype>

#include "base/file.h"
#include "convert/darknet/importer.h"
#include "convert/onnx/importer.h"
#include "tflite/writer.h"

namespace qdet::convert {

const char* source_format_name(SourceFormat f) { return f == SourceFormat::kOnnx ? "onnx" : "darknet"; }

Result<SourceFormat> detect_format(const std::filesystem::path& model) {
  std::string ext = model.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".onnx") return SourceFormat::kOnnx;
  if (ext == ".cfg") return SourceFormat::kDarknet;
  return unsupported("{}: unknown model format '{}' (qdet converts .onnx and darknet .cfg + .weights)",
                     model.string(), ext);
}

std::filesystem::path sidecar_path_for(const std::filesystem::path& model) {
  std::filesystem::path p = model;
  p.replace_extension(".qdet.json");
  return p;
}

Result<Converted> convert_model(const ConvertOptions& options) {
  QDET_ASSIGN_OR_RETURN(SourceFormat format, detect_format(options.model));
  Converted c;
  c.format = format;
  if (format == SourceFormat::kOnnx) {
    if (!options.weights.empty())
      return invalid_argument("{}: --weights is for darknet models; an ONNX file holds its weights",
                              options.model.string());
    QDET_ASSIGN_OR_RETURN(onnx::Model m, onnx::load_model(options.model));
    if (!options.input_shape.empty()) {
      if (m.inputs.empty())
        return invalid_argument("{}: --input-shape given, but the model has no input", options.model.string());
      if (m.inputs[0].dims.size() != options.input_shape.size())
        return invalid_argument("{}: --input-shape has {} dims, input '{}' has {}", options.model.string(),
                                options.input_shape.size(), m.inputs[0].name, m.inputs[0].dims.size());
      for (int64_t d : options.input_shape)
        if (d < 1 || d > 65536)
          return invalid_argument("{}: --input-shape dims must be in 1..65536", options.model.string());
      m.inputs[0].dims = options.input_shape;
    }
    QDET_ASSIGN_OR_RETURN(c.model, onnx::import_model(m));
    return c;
  }
  if (!options.input_shape.empty())
    return invalid_argument("{}: --input-shape is for ONNX models (a darknet .cfg sets width and height)",
                            options.model.string());
  std::filesystem::path weights = options.weights;
  if (weights.empty()) {
    weights = options.model;
    weights.replace_extension(".weights");
  }
  QDET_ASSIGN_OR_RETURN(darknet::Imported d, darknet::import_files(options.model, weights));
  c.model = std::move(d.model);
  c.sidecar_json = std::move(d.sidecar_json);
  return c;
}

Result<Converted> convert_to_file(const ConvertOptions& options, const std::filesystem::path& out) {
  QDET_ASSIGN_OR_RETURN(Converted c, convert_model(options));
  QDET_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, tflite::write_tflite(c.model));
  if (!out.parent_path().empty()) QDET_TRY(ensure_directory(out.parent_path()));
  if (!c.sidecar_json.empty()) QDET_TRY(write_file_atomic(sidecar_path_for(out), c.sidecar_json));
  QDET_TRY(write_file_atomic(out, bytes));
  return c;
}

}  // namespace qdet::convert
