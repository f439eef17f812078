// The TFLite reader and the interpreter's prepare step on arbitrary bytes. A model the reader
// accepts must verify, survive a write -> read round trip, and either be refused by
// Interpreter::create with an error or be prepared (the arena within the fuzz budget).
#include <span>

#include "fuzz_target.h"
#include "runtime/interpreter.h"
#include "tflite/metadata.h"
#include "tflite/reader.h"
#include "tflite/writer.h"

QDET_FUZZ_TARGET(tflite) {
  auto model = qdet::tflite::read_tflite(std::span<const uint8_t>(data, size), "fuzz.tflite");
  if (!model.ok()) return 0;
  QDET_FUZZ_CHECK(model->graph.verify().ok());
  auto bytes = qdet::tflite::write_tflite(*model);
  QDET_FUZZ_CHECK(bytes.ok());
  auto again = qdet::tflite::read_tflite(*bytes, "again.tflite");
  QDET_FUZZ_CHECK(again.ok());
  (void)qdet::tflite::read_label_map(*model);  // the trailing bytes are untrusted too
  auto graph = std::make_shared<const qdet::graph::Graph>(std::move(model->graph));
  qdet::rt::InterpreterOptions options;
  options.use_fast_kernels = false;  // reference kernels: what every model falls back to
  options.max_memory_bytes = qdet::fuzz::kFuzzMemoryBudget;
  auto interp = qdet::rt::Interpreter::create(graph, options);
  if (interp.ok()) QDET_FUZZ_CHECK((*interp)->arena_bytes() <= qdet::fuzz::kFuzzMemoryBudget);
  return 0;
}
