// `qdet bench --json` end to end: every field the issue lists, on a tiny model written here.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "bench/bench_support.h"
#include "test_support.h"

namespace qdet::bench {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct CliRun {
  int status = 0;
  std::string output;
};

CliRun run_qdet(const std::string& env, const std::string& args) {
  CliRun r;
  r.status = qdet::testing::run_command("(" + env + " " + QDET_BINARY + " " + args + " 2>/dev/null)", &r.output);
  return r;
}

TEST(BenchCli, JsonHasEveryField) {
  const fs::path dir = qdet::testing::scratch_dir();
  const fs::path model = dir / "tiny.tflite";
  ASSERT_TRUE(tflite::save_tflite(model, testing::tiny_conv_model()).ok());
  testing::make_powercap_tree(dir / "powercap", 5000, 262143328850);
  auto r = run_qdet("QDET_POWERCAP_ROOT=" + (dir / "powercap").string(),
                    "bench " + model.string() + " --runs 5 --warmup 1 --idle 0 --json");
  ASSERT_EQ(r.status, 0) << r.output;
  json j = json::parse(r.output);

  const json& l = j.at("latency_ms");
  for (const char* k : {"min", "median", "p90", "p99", "mean", "cv", "max", "stddev"})
    EXPECT_TRUE(l.at(k).is_number()) << k;
  ASSERT_EQ(l.at("samples").size(), 5u);
  EXPECT_EQ(l.at("runs"), 5);
  EXPECT_EQ(l.at("warmup"), 1);
  double mn = 1e18;
  for (double s : l.at("samples")) mn = std::min(mn, s);
  EXPECT_EQ(l.at("min").get<double>(), mn);
  EXPECT_DOUBLE_EQ(j.at("throughput_fps").get<double>(), 1000.0 / l.at("median").get<double>());

  EXPECT_GT(j.at("memory").at("peak_rss_bytes").get<int64_t>(), 0);
  EXPECT_GT(j.at("memory").at("arena_bytes").get<int64_t>(), 0);
  EXPECT_EQ(j.at("size").at("file_bytes").get<int64_t>(), static_cast<int64_t>(fs::file_size(model)));
  EXPECT_EQ(j.at("size").at("by_dtype").at("float32"), testing::kTinyWeightBytes);
  EXPECT_EQ(j.at("macs").at("float32").get<double>(), testing::kTinyMacs);

  const json& e = j.at("energy");
  EXPECT_EQ(e.at("method"), "rapl");
  EXPECT_EQ(e.at("measured"), true);
  EXPECT_EQ(e.at("total_j").get<double>(), 0.0);
  EXPECT_EQ(e.at("per_inference_j").get<double>(), 0.0);
  EXPECT_EQ(e.at("runs"), 5);
  EXPECT_EQ(e.at("idle_w").get<double>(), 0.0);
  EXPECT_NE(e.at("source").get<std::string>().find("auto chose rapl"), std::string::npos);
  const double expected = (testing::kTinyMacs * 4.6 + testing::kTinyBytesMoved * 160.0) * 1e-12;
  EXPECT_NEAR(e.at("arithmetic").at("per_inference_j").get<double>(), expected, 1e-20);
  EXPECT_EQ(j.at("macs_by_kernel").begin().value().get<double>(), testing::kTinyMacs);
}

TEST(BenchCli, ProfilePrintsTimeByOpKindAndTheSlowestOps) {
  const fs::path dir = qdet::testing::scratch_dir();
  const fs::path model = dir / "tiny.tflite";
  ASSERT_TRUE(tflite::save_tflite(model, testing::tiny_conv_model()).ok());
  auto r = run_qdet("", "bench " + model.string() + " --runs 2 --warmup 0 --energy estimate --profile");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("profile: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("100.0%     2  CONV_2D float32 "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("op 0 CONV_2D float32"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("'d'"), std::string::npos) << r.output;
  auto j = run_qdet("", "bench " + model.string() + " --runs 2 --warmup 0 --energy estimate --profile --json");
  ASSERT_EQ(j.status, 0) << j.output;
  const json p = json::parse(j.output).at("profile");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[1].at("op"), 1);
  EXPECT_EQ(p[1].at("kind"), "CONV_2D");
  EXPECT_EQ(p[1].at("output"), "d");
  EXPECT_TRUE(p[1].at("ms").is_number());
}

TEST(BenchCli, EstimateAndExplicitMeterErrors) {
  const fs::path dir = qdet::testing::scratch_dir();
  const fs::path model = dir / "tiny.tflite";
  ASSERT_TRUE(tflite::save_tflite(model, testing::tiny_conv_model()).ok());
  auto est = run_qdet("", "bench " + model.string() + " --runs 2 --energy estimate --cpu-watts 12.5 --json");
  ASSERT_EQ(est.status, 0) << est.output;
  json j = json::parse(est.output);
  EXPECT_EQ(j["energy"]["method"], "estimate");
  EXPECT_EQ(j["energy"]["measured"], false);
  EXPECT_DOUBLE_EQ(j["energy"]["per_inference_j"].get<double>(), j["latency_ms"]["median"].get<double>() * 1e-3 * 12.5);
  EXPECT_NE(j["energy"]["source"].get<std::string>().find("x 12.50 W, --cpu-watts 12.5"), std::string::npos);
  EXPECT_TRUE(j["energy"].contains("arithmetic"));

  // An explicit meter that cannot work is one clear line and a non-zero exit.
  std::string out;
  int status = qdet::testing::run_command("QDET_POWERCAP_ROOT=/nonexistent/powercap " + std::string(QDET_BINARY) +
                                              " bench " + model.string() + " --energy rapl",
                                          &out);
  EXPECT_NE(status, 0);
  EXPECT_NE(out.find("qdet: error: /nonexistent/powercap: no powercap folder"), std::string::npos) << out;

  // The human summary names every section.
  auto text = run_qdet("QDET_POWERCAP_ROOT=/nonexistent/powercap", "bench " + model.string() + " --runs 2");
  ASSERT_EQ(text.status, 0) << text.output;
  for (const char* s : {"latency ms: min", "throughput:", "memory: peak RSS", "weights by dtype: float32",
                        "MACs per inference: float32 0.000 G", "energy:", "auto chose estimate",
                        "(estimate (time x power))", "arithmetic energy:", "MACs by kernel: float32 · "})
    EXPECT_NE(text.output.find(s), std::string::npos) << s << "\n" << text.output;
}

}  // namespace
}  // namespace qdet::bench
