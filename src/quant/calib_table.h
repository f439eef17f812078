// The calibration table: one range per float activation, editable JSON, reusable with
// `qdet quantize --table` (docs/ARCHITECTURE.md, "Quantizer"). Format:
//   {
//     "format": "qdet-calibration", "version": 1,
//     "model": "yolox_nano_fp32_416.tflite", "method": "mse", "images": 111,
//     "tensors": {
//       "<tensor name>": {"min": -3.2, "max": 7.9, "method": "mse",
//                         "observed_min": -4.1, "observed_max": 12.0},
//       ...
//     },
//     "fallback": ["<weighted op output name>", ...],
//     "gptq_images": 32
//   }
// "fallback" (optional) lists the layers the float fallback (fallback.h) kept in float, by the
// name of their weighted op's output tensor, so that the table reproduces the model; absent,
// the quantizer decides again. "gptq_images" (optional) says the weights were rounded by GPTQ
// (gptq.h) on the first N calibration images: with --calib the same rounding is made again;
// absent, weights are rounded to nearest. Only "min" and "max" are required per tensor; a user may edit them (the quantizer uses them
// as given) or delete entries. Tensors are keyed as graph_edit.h tensor_keys names them.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "quant/modes.h"
#include "quant/spec.h"

namespace qdet::quant {

struct TableEntry {
  Range range;
  std::string method;
  Range observed;          // the extremes seen (informational)
  bool has_observed = false;
  // calibrate.h channel_spread of the tensor when a per-channel op reads it (0: not measured).
  double channel_spread = 0;
};

struct CalibrationTable {
  std::string model;
  std::string method;
  int images = 0;
  std::map<std::string, TableEntry> tensors;
  std::optional<std::vector<std::string>> fallback;
  std::optional<int> gptq_images;
};

std::string table_to_json(const CalibrationTable& table);
// Errors name `source` and the tensor or key: malformed JSON, missing min/max, non-numbers,
// non-finite values, min > max.
Result<CalibrationTable> table_from_json(std::string_view text, std::string_view source);

Status save_table(const std::filesystem::path& path, const CalibrationTable& table);
Result<CalibrationTable> load_table(const std::filesystem::path& path);

RangeMap ranges_of(const CalibrationTable& table);

}  // namespace qdet::quant
