// The shared .tflite models and what the tests know about them (../shared/data/README.md).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "base/paths.h"

namespace qdet::tflite::testing {

struct ModelFile {
  std::string stem;  // file name without .tflite; also the oracle fixture folder
  std::filesystem::path path() const { return data_dir() / "models" / (stem + ".tflite"); }
  std::filesystem::path oracle_dir() const { return fixtures_dir() / "oracle" / stem; }
};

inline const std::vector<ModelFile>& model_files() {
  static const std::vector<ModelFile> files = {
      {"yolox_nano_fp32_416"},
      {"ssd_mobilenet_v1_1_metadata_1"},
      {"yolov5n-fp16"},
      {"yolov5n-int8"},
  };
  return files;
}

}  // namespace qdet::tflite::testing
