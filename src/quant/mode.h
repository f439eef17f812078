// The quantization modes as data: one row per mode, read by `qdet quantize`, the quantizer and
// `qdet study` (docs/ARCHITECTURE.md, "A new quantization mode").
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "base/status.h"
#include "tensor/dtype.h"

namespace qdet::quant {

enum class Mode : uint8_t { kFloat, kFp16, kDynamic, kInt8, kInt16x8 };

struct ModeInfo {
  Mode mode;
  const char* name;        // `qdet quantize --mode NAME`
  const char* study_name;  // the study's variant name (files MODE.tflite, rows of the report)
  const char* aliases;     // other accepted names, comma-separated
  bool needs_calibration;  // activation ranges come from --calib images or a --table
  const char* precision;   // "weights / activations", as the report prints it
  DType activations;       // the dtype of the quantized activations (float32: none)
};

// Every mode, in the study's order (the float baseline first).
std::span<const ModeInfo> mode_table();
const ModeInfo& mode_info(Mode m);
const char* mode_name(Mode m);
// A mode from its name, study name or an alias ("fp32", "float32" and "float" are one mode).
Result<Mode> parse_mode(std::string_view name);

}  // namespace qdet::quant
