#include <dlfcn.h>

#include "bench/energy.h"

namespace qdet::bench {
namespace {

// The few NVML entry points used, loaded at run time so qdet needs no NVIDIA library to build.
using NvmlInit = int (*)();
using NvmlShutdown = int (*)();
using NvmlGetHandle = int (*)(unsigned, void**);
using NvmlGetEnergy = int (*)(void*, unsigned long long*);  // millijoules since driver load

class NvmlMeter final : public EnergyMeter {
 public:
  NvmlMeter(void* lib, void* device, NvmlGetEnergy get, NvmlShutdown shutdown)
      : lib_(lib), device_(device), get_(get), shutdown_(shutdown) {}
  ~NvmlMeter() override {
    shutdown_();
    ::dlclose(lib_);
  }
  const char* name() const override { return "nvml"; }
  std::string describe() const override { return "NVML total energy of GPU 0"; }
  Status start() override {
    if (get_(device_, &start_) != 0) return io_error("nvml: energy counter not supported");
    return ok_status();
  }
  Result<double> stop() override {
    unsigned long long end = 0;
    if (get_(device_, &end) != 0) return io_error("nvml: energy counter not supported");
    return static_cast<double>(end - start_) * 1e-3;
  }

 private:
  void* lib_;
  void* device_;
  NvmlGetEnergy get_;
  NvmlShutdown shutdown_;
  unsigned long long start_ = 0;
};

}  // namespace

Result<std::unique_ptr<EnergyMeter>> make_nvml_meter() {
  void* lib = ::dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) return not_found("nvml: libnvidia-ml.so.1 not found (no NVIDIA driver)");
  auto init = reinterpret_cast<NvmlInit>(::dlsym(lib, "nvmlInit_v2"));
  auto shutdown = reinterpret_cast<NvmlShutdown>(::dlsym(lib, "nvmlShutdown"));
  auto handle = reinterpret_cast<NvmlGetHandle>(::dlsym(lib, "nvmlDeviceGetHandleByIndex_v2"));
  auto energy = reinterpret_cast<NvmlGetEnergy>(::dlsym(lib, "nvmlDeviceGetTotalEnergyConsumption"));
  if (!init || !shutdown || !handle || !energy) {
    ::dlclose(lib);
    return not_found("nvml: libnvidia-ml lacks the energy API");
  }
  void* device = nullptr;
  if (init() != 0) {
    ::dlclose(lib);
    return not_found("nvml: nvmlInit failed");
  }
  if (handle(0, &device) != 0) {
    shutdown();
    ::dlclose(lib);
    return not_found("nvml: no GPU 0");
  }
  return std::unique_ptr<EnergyMeter>(new NvmlMeter(lib, device, energy, shutdown));
}

}  // namespace qdet::bench
