#include "detect/resolve_preset.h"

#include <fmt/format.h>

namespace qdet::detect {

Result<ResolvedPreset> resolve_preset(const std::filesystem::path& model_path, const graph::Graph& graph,
                                      const std::string& preset_name, const std::filesystem::path& sidecar) {
  // A preprocessing-only sidecar on an unrecognised model is enough for calibration; a detector
  // also needs its head, which Detector::create checks.
  std::filesystem::path side = sidecar;
  if (side.empty()) {
    std::error_code ec;
    if (std::filesystem::exists(sidecar_path(model_path), ec)) side = sidecar_path(model_path);
  }
  Result<Preset> base = preset_name.empty() ? recognize(signature_of(graph)) : find_preset(preset_name);
  if (!preset_name.empty() && !base.ok()) return base.status();
  ResolvedPreset r;
  r.source = preset_name.empty() ? "recognised" : "--preset";
  if (base.ok()) r.preset = *base;
  if (!side.empty()) {
    QDET_ASSIGN_OR_RETURN(r.preset, load_sidecar(r.preset, side));
    r.source = base.ok() ? fmt::format("{} + sidecar {}", r.source, side.string())
                         : fmt::format("sidecar {}", side.string());
  }
  if (!base.ok() && side.empty()) return base.status().with_context(model_path.string());
  return r;
}

}  // namespace qdet::detect
