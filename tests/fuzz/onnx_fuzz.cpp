// The ONNX importer (protobuf parse, initializers, shape inference, lowering) on arbitrary bytes.
// A model it converts must verify and write as TFLite.
#include <span>

#include "convert/onnx/importer.h"
#include "convert/onnx/onnx_model.h"
#include "fuzz_target.h"
#include "tflite/writer.h"

QDET_FUZZ_TARGET(onnx) {
  auto parsed = qdet::convert::onnx::parse_model(std::span<const uint8_t>(data, size), "fuzz.onnx");
  if (!parsed.ok()) return 0;
  auto model = qdet::convert::onnx::import_model(*parsed);
  if (!model.ok()) return 0;
  QDET_FUZZ_CHECK(model->graph.verify().ok());
  QDET_FUZZ_CHECK(qdet::tflite::write_tflite(*model).ok());
  return 0;
}
