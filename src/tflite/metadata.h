// TFLite metadata helpers: the files that TFLite's metadata tools pack with a model.
//
// The metadata writer appends a zip archive of "associated files" (label maps, vocabularies)
// after the model's flatbuffer; qdet's reader keeps those bytes in graph::Model::trailing.
// The archive's offsets may count from the start of the zip or from the start of the original
// .tflite file; like Python's zipfile, the reader locates the central directory from the end
// and corrects every offset by the difference, so both (and files re-written by qdet, whose
// flatbuffer has a different length) work.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "graph/graph.h"

namespace qdet::tflite {

struct ZipEntry {
  std::string name;
  uint16_t method = 0;            // 0 stored, 8 deflated
  uint32_t crc32 = 0;
  uint32_t compressed_size = 0;
  uint32_t size = 0;              // uncompressed
  uint64_t local_header = 0;      // offset of the local header in the bytes given to list_zip
};

// Lists the entries of a zip archive that ends at the end of `bytes` (bytes may start with
// anything: the archive is found from its end-of-central-directory record). Zip64 and
// multi-disk archives are not supported.
Result<std::vector<ZipEntry>> list_zip(std::span<const uint8_t> bytes);

// The uncompressed contents of `entry` (stored or deflated), checked against its CRC-32.
// Entries over 64 MiB uncompressed are refused.
Result<std::vector<uint8_t>> read_zip_entry(std::span<const uint8_t> bytes, const ZipEntry& entry);

// Names of the files associated with the model (the zip in Model::trailing); empty when the
// model carries no archive.
Result<std::vector<std::string>> associated_file_names(const graph::Model& model);

// The lines of the model's label file: the associated file whose name contains "label"
// (case-insensitive), else the only .txt file. Trailing '\r' and a final empty line are
// dropped; line i is the label of class index i (for the SSD, line 0 is "???").
Result<std::vector<std::string>> read_label_map(const graph::Model& model);

}  // namespace qdet::tflite
