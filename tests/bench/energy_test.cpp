#include "bench/energy.h"

#include <gtest/gtest.h>

#include <fstream>

#include "bench/cpu_power.h"
#include "bench/latency_stats.h"
#include "test_support.h"

namespace qdet::bench {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& s) {
  std::ofstream(p) << s << "\n";
}

// A powercap tree like /sys/class/powercap: two packages, one with a sub-domain that must not
// be added again, and a psys domain that overlaps the packages.
fs::path make_powercap(const fs::path& root, uint64_t pkg0_start, uint64_t pkg1_start) {
  auto add = [&](const std::string& dir, const std::string& name, uint64_t energy, uint64_t max) {
    fs::create_directories(root / dir);
    write(root / dir / "name", name);
    write(root / dir / "energy_uj", std::to_string(energy));
    write(root / dir / "max_energy_range_uj", std::to_string(max));
  };
  add("intel-rapl:0", "package-0", pkg0_start, 262143328850);
  add("intel-rapl:0:0", "core", 5, 262143328850);
  add("intel-rapl:1", "package-1", pkg1_start, 262143328850);
  add("intel-rapl:2", "psys", 7, 262143328850);
  return root;
}

TEST(Rapl, CounterWrapsDuringTheRun) {
  auto root = make_powercap(testing::scratch_dir(), 262143328850 - 1000000, 2000000);
  auto meter = make_rapl_meter(root);
  ASSERT_TRUE(meter.ok()) << meter.status().message();
  EXPECT_EQ((*meter)->describe(), "powercap intel-rapl:0 (package-0) intel-rapl:1 (package-1)");
  auto result = measure_energy(**meter, 0.0, [&] {
    // During the run package 0 wraps (1.0 J to the top, then 0.5 J) and package 1 adds 3 J.
    write(root / "intel-rapl:0" / "energy_uj", "500000");
    write(root / "intel-rapl:1" / "energy_uj", "5000000");
    write(root / "intel-rapl:0:0" / "energy_uj", "999999999");
    return 10;
  });
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_DOUBLE_EQ(result->total_j, 1.5 + 3.0);
  EXPECT_DOUBLE_EQ(result->per_inference_j, 0.45);
  EXPECT_EQ(result->runs, 10);
  EXPECT_EQ(result->method, "rapl");
  EXPECT_TRUE(result->measured);
}

TEST(Rapl, IdlePowerIsSubtracted) {
  auto root = make_powercap(testing::scratch_dir(), 0, 0);
  fs::remove_all(root / "intel-rapl:1");
  auto meter = make_rapl_meter(root);
  ASSERT_TRUE(meter.ok());
  // Counters do not move while idle: idle power 0, all energy is the run's.
  auto result = measure_energy(**meter, 0.01, [&] {
    write(root / "intel-rapl:0" / "energy_uj", "2000000");
    return 4;
  });
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->idle_w, 0.0);
  EXPECT_DOUBLE_EQ(result->per_inference_j, 0.5);
}

TEST(Rapl, MissingOrEmptyTreeIsExplained) {
  auto missing = make_rapl_meter("/nonexistent/powercap");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "/nonexistent/powercap: no powercap folder");
  auto empty = make_rapl_meter(testing::scratch_dir());
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("no intel-rapl package domains"), std::string::npos);
}

TEST(Energy, AutoFallsBackWithReasons) {
  ::setenv("QDET_POWERCAP_ROOT", "/nonexistent/powercap", 1);
  std::vector<std::string> why;
  auto meter = choose_energy_meter("auto", &why);
  ::unsetenv("QDET_POWERCAP_ROOT");
  ASSERT_TRUE(meter.ok());
  if (*meter) GTEST_SKIP() << "this machine has a real energy meter: " << (*meter)->describe();
  ASSERT_GE(why.size(), 3u);
  EXPECT_EQ(why[0], "/nonexistent/powercap: no powercap folder");
  auto bad = choose_energy_meter("joules", &why);
  EXPECT_EQ(bad.status().message(), "unknown energy method 'joules' (auto, rapl, perf, nvml, estimate)");
}

TEST(Energy, ArithmeticUsesPerPrecisionCosts) {
  WorkPerInference w;
  w.macs_fp32 = 1e9;   // 4.6 mJ
  w.macs_int8 = 1e9;   // 0.23 mJ
  w.bytes_moved = 1e6; // 0.16 mJ
  EnergyResult r = arithmetic_energy(w, 3);
  EXPECT_NEAR(r.per_inference_j, 4.6e-3 + 0.23e-3 + 0.16e-3, 1e-12);
  EXPECT_NEAR(r.total_j, 3 * r.per_inference_j, 1e-15);
  EXPECT_FALSE(r.measured);
  EXPECT_EQ(r.method, "arithmetic");
}

TEST(Energy, TimeTimesPowerFollowsLatency) {
  EnergyResult fast = time_power_energy(10, 4, 6.0, "w");
  EnergyResult slow = time_power_energy(12, 4, 6.0, "w");
  EXPECT_DOUBLE_EQ(fast.per_inference_j, 0.06);
  EXPECT_DOUBLE_EQ(fast.total_j, 0.24);
  EXPECT_GT(slow.per_inference_j, fast.per_inference_j);
  EXPECT_EQ(fast.method, "estimate");
  EXPECT_EQ(energy_method_label(fast.method), "estimate (time x power)");
  EXPECT_EQ(fast.source, "estimate (time x power): median 10.000 ms x 6.00 W, w");
}

TEST(CpuPower, TableUserWattsAndUnknownModels) {
  const fs::path dir = testing::scratch_dir();
  write(dir / "epyc", "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7763 64-Core Processor\n"
                      "processor\t: 1\nmodel name\t: AMD EPYC 7763 64-Core Processor");
  auto epyc = cpu_power(dir / "epyc", 3, 0);
  ASSERT_TRUE(epyc.ok()) << epyc.status().message();
  EXPECT_EQ(epyc->cpu_model, "AMD EPYC 7763 64-Core Processor");
  EXPECT_DOUBLE_EQ(epyc->watts_per_core, 280.0 / 64);
  EXPECT_DOUBLE_EQ(epyc->watts, 3 * 280.0 / 64);

  write(dir / "vm", "model name\t: Intel(R) Xeon(R) Processor");
  auto vm = cpu_power(dir / "vm", 1, 0);
  ASSERT_TRUE(vm.ok());
  EXPECT_DOUBLE_EQ(vm->watts, default_watts_per_core());
  EXPECT_NE(vm->basis.find("CPU 'Intel(R) Xeon(R) Processor' not in qdet's TDP table"), std::string::npos) << vm->basis;

  auto user = cpu_power(dir / "missing", 2, 15);  // no cpuinfo needed with --cpu-watts
  ASSERT_TRUE(user.ok());
  EXPECT_DOUBLE_EQ(user->watts, 15);
  EXPECT_EQ(user->basis, "--cpu-watts 15");
  EXPECT_EQ(cpu_power(dir / "vm", 0, 0).status().message(), "cores must be at least 1 (got 0)");

  // The default is the table's median W per core: inside the table's range.
  double lo = 1e9, hi = 0;
  for (const auto& row : cpu_power_table()) {
    lo = std::min(lo, row.tdp_w / row.cores);
    hi = std::max(hi, row.tdp_w / row.cores);
  }
  EXPECT_GE(default_watts_per_core(), lo);
  EXPECT_LE(default_watts_per_core(), hi);
}

TEST(LatencyStats, PercentilesInterpolateLikeNumpy) {
  std::vector<double> v = {5, 1, 4, 2, 3};
  LatencyStats s = compute_latency_stats(v);
  EXPECT_EQ(s.count, 5);
  EXPECT_DOUBLE_EQ(s.min_ms, 1);
  EXPECT_DOUBLE_EQ(s.median_ms, 3);
  EXPECT_DOUBLE_EQ(s.p90_ms, 4.6);   // numpy.percentile([1..5], 90)
  EXPECT_DOUBLE_EQ(s.p99_ms, 4.96);
  EXPECT_DOUBLE_EQ(s.mean_ms, 3);
  EXPECT_NEAR(s.cv, std::sqrt(2.5) / 3, 1e-12);
}

}  // namespace
}  // namespace qdet::bench
