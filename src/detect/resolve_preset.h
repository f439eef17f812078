// One rule for which preset a model runs with, used by detect, eval, calibration and the study.
//
// Precedence, lowest to highest:
//   1. the base: `--preset NAME` when given, else the family recognised from the model's tensors;
//   2. the sidecar, applied on top of the base: the file given with `--sidecar`, else
//      MODEL.qdet.json beside the model when it exists;
//   3. single command-line settings (--score, --iou, ...), applied by the caller afterwards.
// A model with neither a base nor a sidecar is an error that says how to give one. The result's
// head may be empty when only a sidecar without "head" describes the model (calibration needs
// only the preprocessing).
#pragma once

#include <filesystem>
#include <string>

#include "base/status.h"
#include "detect/preset.h"
#include "graph/graph.h"

namespace qdet::detect {

struct ResolvedPreset {
  Preset preset;
  std::string source;  // "recognised", "--preset", "--preset + sidecar F", "sidecar F", ...
};

// `preset_name` empty: recognise. `sidecar` empty: MODEL.qdet.json beside `model_path` if present.
Result<ResolvedPreset> resolve_preset(const std::filesystem::path& model_path, const graph::Graph& graph,
                                      const std::string& preset_name,
                                      const std::filesystem::path& sidecar = {});

}  // namespace qdet::detect
