#include "bench/bench_model.h"

#include <gtest/gtest.h>

#include "bench/bench_support.h"
#include "test_support.h"

namespace qdet::bench {
namespace {

namespace fs = std::filesystem;

fs::path tiny_model_file() {
  const fs::path p = qdet::testing::scratch_dir() / "tiny.tflite";
  EXPECT_TRUE(tflite::save_tflite(p, testing::tiny_conv_model()).ok());
  return p;
}

TEST(BenchModel, KeepsEveryRunAndCountsTheWork) {
  BenchOptions o;
  o.model = tiny_model_file();
  o.runs = 7;
  o.warmup = 2;
  o.energy = "estimate";
  auto r = bench_model(o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->samples_ms.size(), 7u);
  EXPECT_EQ(r->latency.count, 7);
  EXPECT_LE(r->latency.min_ms, r->latency.median_ms);
  EXPECT_LE(r->latency.median_ms, r->latency.p90_ms);
  EXPECT_LE(r->latency.p90_ms, r->latency.p99_ms);
  EXPECT_EQ(r->file_bytes, static_cast<int64_t>(fs::file_size(o.model)));
  EXPECT_EQ(r->bytes_by_dtype.at("float32"), testing::kTinyWeightBytes);
  EXPECT_EQ(r->macs_by_dtype.at("float32"), testing::kTinyMacs);
  EXPECT_GT(r->arena_bytes, 0);
  EXPECT_GT(r->peak_rss_bytes, 0);
  EXPECT_EQ(r->energy.method, "estimate");
  EXPECT_FALSE(r->energy.measured);
  const double expected_pj = testing::kTinyMacs * 4.6 + testing::kTinyBytesMoved * 160.0;
  EXPECT_EQ(r->arithmetic.method, "arithmetic");
  EXPECT_NEAR(r->arithmetic.per_inference_j, expected_pj * 1e-12, 1e-20);
  EXPECT_NEAR(r->arithmetic.total_j, 7 * expected_pj * 1e-12, 1e-19);
  ASSERT_EQ(r->macs_by_kernel.size(), 1u);
  EXPECT_EQ(r->macs_by_kernel.begin()->first.rfind("float32 · ", 0), 0u);
  EXPECT_EQ(r->macs_by_kernel.begin()->second, testing::kTinyMacs);
}

// No meter: energy per inference is the median latency x the power of the cores used, so on
// one CPU a slower run is never shown cheaper.
TEST(BenchModel, EstimateIsTimeTimesPower) {
  BenchOptions o;
  o.model = tiny_model_file();
  o.runs = 5;
  o.warmup = 0;
  o.energy = "estimate";
  o.cpu_watts = 20;
  auto r = bench_model(o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_DOUBLE_EQ(r->energy.per_inference_j, r->latency.median_ms * 1e-3 * 20);
  EXPECT_DOUBLE_EQ(r->energy.total_j, 5 * r->energy.per_inference_j);
  EXPECT_EQ(r->energy.source.rfind("estimate (time x power): median ", 0), 0u) << r->energy.source;
  EXPECT_NE(r->energy.source.find("x 20.00 W, --cpu-watts 20"), std::string::npos) << r->energy.source;
  // Two threads: two cores' power from the table for a CPU it knows.
  const fs::path cpuinfo = o.model.parent_path() / "cpuinfo";
  testing::write_text(cpuinfo, "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz\n");
  o.cpu_watts = 0;
  o.cpuinfo = cpuinfo;
  o.threads = 2;
  auto two = bench_model(o);
  ASSERT_TRUE(two.ok()) << two.status().message();
  EXPECT_DOUBLE_EQ(two->energy.per_inference_j, two->latency.median_ms * 1e-3 * 2 * 270.0 / 40);
  EXPECT_NE(two->energy.source.find("2 cores x 6.75 W (Xeon(R) Platinum 8380: 270 W TDP / 40 cores)"),
            std::string::npos) << two->energy.source;
}

// --profile: one entry per op in graph order, with its kind, kernel, output dtype and name.
TEST(BenchModel, ProfileTimesEveryOp) {
  BenchOptions o;
  o.model = tiny_model_file();
  o.runs = 3;
  o.warmup = 0;
  o.energy = "estimate";
  auto plain = bench_model(o);
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_TRUE(plain->profile.empty());
  o.profile = true;
  auto r = bench_model(o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->profile.size(), 2u);
  EXPECT_EQ(r->samples_ms.size(), 3u);  // the profiled runs are not latency samples
  for (int i = 0; i < 2; ++i) {
    const OpTime& t = r->profile[i];
    EXPECT_EQ(t.op, i);
    EXPECT_EQ(t.kind, "CONV_2D");
    EXPECT_EQ(t.dtype, "float32");
    EXPECT_FALSE(t.kernel.empty());
    EXPECT_GT(t.ms, 0.0);
  }
  EXPECT_EQ(r->profile[0].output, "c");
  EXPECT_EQ(r->profile[1].output, "d");
}

TEST(BenchModel, RaplThroughTheEnvironmentAndAutoSaysWhichMeter) {
  BenchOptions o;
  o.model = tiny_model_file();  // (clears the scratch folder first)
  const fs::path root = o.model.parent_path() / "powercap";
  testing::make_powercap_tree(root, 12345, 262143328850);
  ::setenv("QDET_POWERCAP_ROOT", root.c_str(), 1);
  o.runs = 3;
  o.warmup = 0;
  o.idle_seconds = 0;
  auto r = bench_model(o);
  ::unsetenv("QDET_POWERCAP_ROOT");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->energy.method, "rapl");
  EXPECT_TRUE(r->energy.measured);
  EXPECT_EQ(r->energy.total_j, 0.0);  // the synthetic counter does not move
  EXPECT_EQ(r->energy.runs, 3);
  EXPECT_EQ(r->energy.source.rfind("auto chose rapl; measured: powercap intel-rapl:0 (package-0)", 0), 0u)
      << r->energy.source;
  EXPECT_EQ(r->arithmetic.method, "arithmetic");  // always there beside a measurement
  EXPECT_GT(r->arithmetic.per_inference_j, 0);
}

TEST(BenchModel, UnreadableCounterIsOneLine) {
  const fs::path root = qdet::testing::scratch_dir() / "powercap";
  testing::make_powercap_tree(root, 1, 100);
  fs::remove(root / "intel-rapl:0" / "energy_uj");
  fs::create_symlink(root / "nowhere", root / "intel-rapl:0" / "energy_uj");
  auto meter = make_rapl_meter(root);
  ASSERT_FALSE(meter.ok());
  EXPECT_EQ(meter.status().message(),
            (root / "intel-rapl:0" / "energy_uj").string() + ": cannot open: No such file or directory");
}

TEST(BenchModel, BadOptionsAndMissingModel) {
  BenchOptions o;
  o.model = "/nonexistent/model.tflite";
  o.energy = "estimate";
  auto missing = bench_model(o);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/model.tflite"), std::string::npos);
  o.runs = 0;
  EXPECT_EQ(bench_model(o).status().message(), "--runs must be at least 1 (got 0)");
  o.runs = 1;
  o.energy = "joules";
  EXPECT_EQ(bench_model(o).status().message(),
            "unknown energy method 'joules' (auto, rapl, perf, nvml, estimate)");
}

}  // namespace
}  // namespace qdet::bench
