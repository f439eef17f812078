#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "base/file.h"
#include "bench/energy.h"

namespace qdet::bench {
namespace {

namespace fs = std::filesystem;

struct Domain {
  fs::path dir;
  std::string name;
  uint64_t max_range_uj = 0;
  uint64_t start_uj = 0;
};

Result<uint64_t> read_counter(const fs::path& file) {
  FILE* f = std::fopen(file.c_str(), "r");
  if (!f) {
    const int err = errno;
    if (err == EACCES || err == EPERM)
      return io_error("{} is not readable (root-only since Linux 5.10: run as root, or `sudo chmod "
                      "a+r` it)", file.string());
    return io_error("{}: cannot open: {}", file.string(), std::strerror(err));
  }
  unsigned long long v = 0;
  const int n = std::fscanf(f, "%llu", &v);
  std::fclose(f);
  if (n != 1) return parse_error("{}: not a number", file.string());
  return static_cast<uint64_t>(v);
}

class RaplMeter final : public EnergyMeter {
 public:
  explicit RaplMeter(std::vector<Domain> domains) : domains_(std::move(domains)) {}
  const char* name() const override { return "rapl"; }
  std::string describe() const override {
    std::string s = "powercap";
    for (const auto& d : domains_) s += fmt::format(" {} ({})", d.dir.filename().string(), d.name);
    return s;
  }
  Status start() override {
    for (auto& d : domains_) {
      QDET_ASSIGN_OR_RETURN(d.start_uj, read_counter(d.dir / "energy_uj"));
    }
    return ok_status();
  }
  Result<double> stop() override {
    double total_uj = 0;
    for (const auto& d : domains_) {
      QDET_ASSIGN_OR_RETURN(uint64_t end, read_counter(d.dir / "energy_uj"));
      // The counter wraps to 0 after max_energy_range_uj (one wrap at most between two reads:
      // at 100 W a 262 kJ range takes 40 minutes).
      uint64_t delta = end >= d.start_uj ? end - d.start_uj : end + d.max_range_uj - d.start_uj;
      total_uj += static_cast<double>(delta);
    }
    return total_uj * 1e-6;
  }

 private:
  std::vector<Domain> domains_;
};

}  // namespace

fs::path default_powercap_root() {
  if (const char* s = std::getenv("QDET_POWERCAP_ROOT"); s && *s) return s;
  return "/sys/class/powercap";
}

Result<std::unique_ptr<EnergyMeter>> make_rapl_meter(const fs::path& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return not_found("{}: no powercap folder", root.string());
  std::vector<Domain> domains;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    std::string dir = entry.path().filename().string();
    // Package domains are intel-rapl:N; intel-rapl:N:M are their sub-domains (core, uncore,
    // dram), already included in the package and not added again.
    if (dir.rfind("intel-rapl:", 0) != 0 || dir.find(':', 11) != std::string::npos) continue;
    Domain d;
    d.dir = entry.path();
    auto name = read_text_file(d.dir / "name");
    d.name = name.ok() ? std::string(name->substr(0, name->find_first_of("\r\n"))) : "?";
    if (d.name.rfind("package", 0) != 0 && d.name.rfind("psys", 0) != 0) continue;
    if (d.name.rfind("psys", 0) == 0) continue;  // platform domain overlaps the packages
    QDET_ASSIGN_OR_RETURN(d.max_range_uj, read_counter(d.dir / "max_energy_range_uj"));
    QDET_TRY(read_counter(d.dir / "energy_uj"));  // unreadable counters fail here, with the reason
    domains.push_back(std::move(d));
  }
  if (domains.empty()) return not_found("{}: no intel-rapl package domains", root.string());
  std::sort(domains.begin(), domains.end(),
            [](const Domain& a, const Domain& b) { return a.dir < b.dir; });
  return std::unique_ptr<EnergyMeter>(new RaplMeter(std::move(domains)));
}

}  // namespace qdet::bench
