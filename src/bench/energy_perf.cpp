#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "base/file.h"
#include "bench/energy.h"

namespace qdet::bench {
namespace {

class PerfMeter final : public EnergyMeter {
 public:
  PerfMeter(int fd, double scale) : fd_(fd), scale_(scale) {}
  ~PerfMeter() override { ::close(fd_); }
  const char* name() const override { return "perf"; }
  std::string describe() const override { return "perf event power/energy-pkg/"; }
  Status start() override {
    QDET_ASSIGN_OR_RETURN(start_, read_count());
    return ok_status();
  }
  Result<double> stop() override {
    QDET_ASSIGN_OR_RETURN(uint64_t end, read_count());
    return static_cast<double>(end - start_) * scale_;
  }

 private:
  Result<uint64_t> read_count() {
    uint64_t v = 0;
    if (::read(fd_, &v, sizeof v) != sizeof v) return io_error("perf: reading energy-pkg failed");
    return v;
  }
  int fd_;
  double scale_;
  uint64_t start_ = 0;
};

}  // namespace

Result<std::unique_ptr<EnergyMeter>> make_perf_meter() {
  const std::filesystem::path pmu = "/sys/bus/event_source/devices/power";
  auto type_text = read_text_file(pmu / "type");
  if (!type_text.ok()) return not_found("perf: no power PMU ({} missing)", (pmu / "type").string());
  auto event_text = read_text_file(pmu / "events" / "energy-pkg");
  if (!event_text.ok()) return not_found("perf: the power PMU has no energy-pkg event");
  auto scale_text = read_text_file(pmu / "events" / "energy-pkg.scale");
  unsigned config = 0;
  if (std::sscanf(event_text->c_str(), "event=%x", &config) != 1)
    return parse_error("perf: cannot parse energy-pkg event '{}'", *event_text);
  perf_event_attr attr{};
  attr.size = sizeof attr;
  attr.type = static_cast<uint32_t>(std::atoi(type_text->c_str()));
  attr.config = config;
  int fd = static_cast<int>(::syscall(SYS_perf_event_open, &attr, -1, 0, -1, 0));
  if (fd < 0)
    return io_error("perf: perf_event_open(power/energy-pkg/) failed: {} (needs root or "
                    "perf_event_paranoid <= 0)", std::strerror(errno));
  double scale = scale_text.ok() ? std::atof(scale_text->c_str()) : 2.3283064365386962890625e-10;
  return std::unique_ptr<EnergyMeter>(new PerfMeter(fd, scale));
}

}  // namespace qdet::bench
