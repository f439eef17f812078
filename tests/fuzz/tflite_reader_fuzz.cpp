// libFuzzer target for the TFLite reader (built with clang and -DQDET_FUZZ=ON; not a ctest).
//   build-fuzz/tests/fuzz/tflite_reader_fuzz -max_total_time=60 CORPUS_DIR
// Seed the corpus with small .tflite files (e.g. the writer's output, or the shared models).
// Any model the reader accepts must verify and survive a write -> read round trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "tflite/metadata.h"
#include "tflite/reader.h"
#include "tflite/writer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto model = qdet::tflite::read_tflite(std::span<const uint8_t>(data, size), "fuzz.tflite");
  if (!model.ok()) return 0;
  if (!model->graph.verify().ok()) std::abort();
  auto bytes = qdet::tflite::write_tflite(*model);
  if (!bytes.ok()) std::abort();
  auto again = qdet::tflite::read_tflite(*bytes, "again.tflite");
  if (!again.ok()) std::abort();
  (void)qdet::tflite::read_label_map(*model);  // the trailing bytes are untrusted too
  return 0;
}
