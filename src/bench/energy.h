// Energy per inference, from meters behind one interface (docs/ARCHITECTURE.md, "Measurement"):
//   rapl      Linux powercap package domains ($QDET_POWERCAP_ROOT, default /sys/class/powercap),
//             counters read before the first and after the last timed run, wraparound through
//             max_energy_range_uj.
//   perf      the perf `power/energy-pkg/` event (perf_event_open).
//   nvml      NVIDIA's total energy counter, libnvidia-ml loaded at run time.
//   estimate  where no meter is readable: the measured median latency x the power of the cores
//             the run uses (bench/cpu_power.h: TDP share per core, or --cpu-watts), labelled
//             "estimate (time x power)" with its inputs. On one CPU a slower variant is never
//             shown cheaper per inference.
// Measured meters subtract idle power, sampled just before the timed runs.
//
// Beside them, always: the arithmetic energy, MACs and bytes moved x energy per operation by
// precision (Horowitz, ISSCC 2014): what hardware with native int8/fp16 units would spend. It
// is a second, separately named figure and never the one that ranks CPU rows.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace qdet::bench {

class EnergyMeter {
 public:
  virtual ~EnergyMeter() = default;
  virtual const char* name() const = 0;      // "rapl", "perf", "nvml"
  virtual std::string describe() const = 0;  // which counters, e.g. "powercap intel-rapl:0 (package-0)"
  virtual Status start() = 0;                // reads the counters
  virtual Result<double> stop() = 0;         // joules since start()
};

Result<std::unique_ptr<EnergyMeter>> make_rapl_meter(const std::filesystem::path& powercap_root);
Result<std::unique_ptr<EnergyMeter>> make_perf_meter();
Result<std::unique_ptr<EnergyMeter>> make_nvml_meter();
std::filesystem::path default_powercap_root();  // $QDET_POWERCAP_ROOT or /sys/class/powercap

struct EnergyResult {
  std::string method;   // rapl | perf | nvml | estimate (time x power) | arithmetic
  bool measured = false;
  double total_j = 0;   // energy over the timed window (measured), or per-inference x runs (estimate)
  double window_s = 0;  // length of the timed window
  double idle_w = 0;    // idle power subtracted (measured meters)
  double per_inference_j = 0;
  int runs = 0;
  std::string source;   // how the number was obtained, in words
  std::vector<std::string> unavailable;  // meters tried by `auto` and why each was not used
};

// Picks a meter: "rapl", "perf", "nvml", or "auto" (the first that works, in that order).
// Returns nullptr with the reasons in *unavailable when none works (callers then estimate).
Result<std::unique_ptr<EnergyMeter>> choose_energy_meter(std::string_view which,
                                                         std::vector<std::string>* unavailable);

// Measures idle power over `idle_seconds` (0: none subtracted), then the energy of `timed_runs`,
// which performs the timed runs and returns how many it did.
Result<EnergyResult> measure_energy(EnergyMeter& meter, double idle_seconds,
                                    const std::function<int()>& timed_runs);

// Energy per operation in picojoules (Horowitz, "Computing's energy problem", ISSCC 2014, 45 nm):
// a MAC is one multiply plus one add.
struct EnergyCosts {
  double mac_fp32_pj = 4.6;   // 3.7 mult + 0.9 add
  double mac_fp16_pj = 1.5;   // 1.1 + 0.4
  double mac_int16_pj = 0.85; // not in the paper: between 8-bit (0.23) and 32-bit (3.2) int MACs
  double mac_int8_pj = 0.23;  // 0.2 + 0.03
  double dram_pj_per_byte = 160.0;  // 640 pJ per 32-bit DRAM access
};

struct WorkPerInference {
  double macs_fp32 = 0, macs_fp16 = 0, macs_int16 = 0, macs_int8 = 0;
  double bytes_moved = 0;  // weights read once plus activations written and read once
};

// The arithmetic energy (method "arithmetic"): work x EnergyCosts.
EnergyResult arithmetic_energy(const WorkPerInference& work, int runs, const EnergyCosts& costs = {});

// The time x power estimate (method "estimate"): median latency x `watts`; `basis` says where
// the watts come from (bench/cpu_power.h).
EnergyResult time_power_energy(double median_ms, int runs, double watts, const std::string& basis);

// How a method is shown beside a number: "rapl", "estimate (time x power)", "arithmetic".
std::string energy_method_label(const std::string& method);

}  // namespace qdet::bench
