#include "bench/cpu_power.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

namespace qdet::bench {
namespace {

// Vendor TDP and physical cores (Intel ARK, AMD product pages). Specific names first: the
// first row whose text the model name contains is used.
constexpr CpuPowerRow kCpuPowerTable[] = {
    {"Xeon(R) Platinum 8480", 350, 56},  // Sapphire Rapids
    {"Xeon(R) Platinum 8380", 270, 40},  // Ice Lake
    {"Xeon(R) Platinum 8375C", 300, 32}, // Ice Lake (AWS)
    {"Xeon(R) Platinum 8280", 205, 28},  // Cascade Lake
    {"Xeon(R) Platinum 8175M", 240, 24}, // Skylake (AWS)
    {"Xeon(R) Gold 6248", 150, 20},      // Cascade Lake
    {"Xeon(R) Gold 6230", 125, 20},      // Cascade Lake
    {"Xeon(R) E-2288G", 95, 8},          // Coffee Lake
    {"EPYC 9654", 360, 96},              // Genoa
    {"EPYC 7763", 280, 64},              // Milan
    {"EPYC 7B13", 280, 64},              // Milan (GCP)
    {"EPYC 7742", 225, 64},              // Rome
    {"Core(TM) i9-13900K", 125, 24},     // Raptor Lake (base power)
    {"Core(TM) i7-12700", 65, 12},       // Alder Lake (base power)
    {"Core(TM) i7-8700", 65, 6},         // Coffee Lake
    {"Core(TM) i5-1135G7", 28, 4},       // Tiger Lake (laptop)
    {"Ryzen 9 7950X", 170, 16},          // Zen 4
    {"Ryzen 7 5800X", 105, 8},           // Zen 3
};

}  // namespace

std::span<const CpuPowerRow> cpu_power_table() { return kCpuPowerTable; }

double default_watts_per_core() {
  std::vector<double> w;
  for (const auto& row : kCpuPowerTable) w.push_back(row.tdp_w / row.cores);
  std::sort(w.begin(), w.end());
  const size_t n = w.size();
  return n % 2 ? w[n / 2] : 0.5 * (w[n / 2 - 1] + w[n / 2]);
}

std::string cpu_model_name(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string v = line.substr(colon + 1);
    const size_t b = v.find_first_not_of(" \t");
    const size_t e = v.find_last_not_of(" \t\r");
    return b == std::string::npos ? std::string() : v.substr(b, e - b + 1);
  }
  return {};
}

Result<CpuPower> cpu_power(const std::filesystem::path& cpuinfo, int cores, double user_watts) {
  if (cores < 1) return invalid_argument("cores must be at least 1 (got {})", cores);
  if (user_watts < 0) return invalid_argument("--cpu-watts must not be negative (got {})", user_watts);
  CpuPower p;
  p.cores = cores;
  {
    // /proc/cpuinfo has one block per logical CPU; the first names the model. Bounded read.
    std::ifstream f(cpuinfo);
    std::string text(64 * 1024, '\0');
    f.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<size_t>(std::max<std::streamsize>(0, f.gcount())));
    p.cpu_model = cpu_model_name(text);
  }
  if (user_watts > 0) {
    p.watts = user_watts;
    p.watts_per_core = user_watts / cores;
    p.basis = fmt::format("--cpu-watts {:g}", user_watts);
    return p;
  }
  for (const auto& row : kCpuPowerTable) {
    if (p.cpu_model.find(row.model_contains) == std::string::npos) continue;
    p.watts_per_core = row.tdp_w / row.cores;
    p.watts = p.watts_per_core * cores;
    p.basis = fmt::format("{} core{} x {:.2f} W ({}: {:g} W TDP / {} cores)", cores, cores == 1 ? "" : "s",
                          p.watts_per_core, row.model_contains, row.tdp_w, row.cores);
    return p;
  }
  p.watts_per_core = default_watts_per_core();
  p.watts = p.watts_per_core * cores;
  p.basis = fmt::format("{} core{} x {:.2f} W (CPU '{}' not in qdet's TDP table: the table's median W per core)",
                        cores, cores == 1 ? "" : "s", p.watts_per_core,
                        p.cpu_model.empty() ? std::string("unknown") : p.cpu_model);
  return p;
}

}  // namespace qdet::bench
