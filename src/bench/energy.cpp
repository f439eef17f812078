#include "bench/energy.h"

#include <chrono>
#include <thread>

#include "base/timer.h"

namespace qdet::bench {

Result<std::unique_ptr<EnergyMeter>> choose_energy_meter(std::string_view which,
                                                         std::vector<std::string>* unavailable) {
  struct Candidate {
    const char* name;
    std::function<Result<std::unique_ptr<EnergyMeter>>()> make;
  };
  const Candidate candidates[] = {
      {"rapl", [] { return make_rapl_meter(default_powercap_root()); }},
      {"perf", [] { return make_perf_meter(); }},
      {"nvml", [] { return make_nvml_meter(); }},
  };
  bool any = which == "auto";
  if (!any && which != "rapl" && which != "perf" && which != "nvml")
    return invalid_argument("unknown energy method '{}' (auto, rapl, perf, nvml, estimate)", which);
  for (const auto& c : candidates) {
    if (!any && which != c.name) continue;
    auto meter = c.make();
    if (meter.ok()) return std::move(meter).value();
    if (unavailable) unavailable->push_back(meter.status().message());
    if (!any) return meter.status();
  }
  return std::unique_ptr<EnergyMeter>();
}

Result<EnergyResult> measure_energy(EnergyMeter& meter, double idle_seconds,
                                    const std::function<int()>& timed_runs) {
  EnergyResult r;
  r.method = meter.name();
  r.measured = true;
  if (idle_seconds > 0) {
    QDET_TRY(meter.start());
    int64_t t0 = now_ns();
    std::this_thread::sleep_for(std::chrono::duration<double>(idle_seconds));
    QDET_ASSIGN_OR_RETURN(double idle_j, meter.stop());
    double idle_window = static_cast<double>(now_ns() - t0) * 1e-9;
    r.idle_w = idle_window > 0 ? idle_j / idle_window : 0;
  }
  QDET_TRY(meter.start());
  int64_t t0 = now_ns();
  r.runs = timed_runs();
  QDET_ASSIGN_OR_RETURN(r.total_j, meter.stop());
  r.window_s = static_cast<double>(now_ns() - t0) * 1e-9;
  double active_j = r.total_j - r.idle_w * r.window_s;
  r.per_inference_j = r.runs > 0 ? active_j / r.runs : 0;
  r.source = fmt::format("measured: {}, {:.3f} J over {:.3f} s, idle {:.2f} W subtracted",
                         meter.describe(), r.total_j, r.window_s, r.idle_w);
  return r;
}

EnergyResult arithmetic_energy(const WorkPerInference& w, int runs, const EnergyCosts& c) {
  double pj = w.macs_fp32 * c.mac_fp32_pj + w.macs_fp16 * c.mac_fp16_pj +
              w.macs_int16 * c.mac_int16_pj + w.macs_int8 * c.mac_int8_pj +
              w.bytes_moved * c.dram_pj_per_byte;
  EnergyResult r;
  r.method = "arithmetic";
  r.measured = false;
  r.runs = runs;
  r.per_inference_j = pj * 1e-12;
  r.total_j = r.per_inference_j * runs;
  r.source = "arithmetic energy, what hardware with native int8/fp16 units would spend: MACs x "
             "energy per MAC by precision + bytes moved x DRAM energy (Horowitz, ISSCC 2014, 45 nm)";
  return r;
}

EnergyResult time_power_energy(double median_ms, int runs, double watts, const std::string& basis) {
  EnergyResult r;
  r.method = "estimate";
  r.measured = false;
  r.runs = runs;
  r.per_inference_j = median_ms * 1e-3 * watts;
  r.total_j = r.per_inference_j * runs;
  r.window_s = median_ms * 1e-3 * runs;
  r.source = fmt::format("estimate (time x power): median {:.3f} ms x {:.2f} W, {}", median_ms, watts, basis);
  return r;
}

std::string energy_method_label(const std::string& method) {
  return method == "estimate" ? "estimate (time x power)" : method;
}

}  // namespace qdet::bench
