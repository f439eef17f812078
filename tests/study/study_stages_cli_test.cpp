// `qdet study --stage ...` as a scheduler runs it, without a scheduler: make, three eval shards
// run in any order, bench, assemble; the report's statistics equal the one-process study's, the
// merged results file is the one-process file byte for byte, the benchmark names its host. A
// variant whose make fails is a row with its error and the later stages skip it; a missing shard
// is a row naming it; stages out of order and make-time options given to later stages are
// one-line errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/paths.h"
#include "test_support.h"

namespace qdet::study {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kModel = data_dir() / "models" / "yolox_nano_fp32_416.tflite";
const fs::path kCoco = data_dir() / "coco" / "val2017-139";

std::string slurp(const fs::path& p) {
  auto t = read_text_file(p);
  return t.ok() ? *t : std::string("<missing " + p.string() + ">");
}

std::string study(const std::string& args) { return std::string(QDET_BINARY) + " study " + args; }

std::string make_args(const fs::path& calib) {
  return kModel.string() + " --images " + (kCoco / "images").string() + " --annotations " +
         (kCoco / "instances_val2017_subset.json").string() + " --calib " + calib.string() +
         " --modes int8,fp32 --limit 10 --runs 2 --warmup 1 --pictures 1";
}

TEST(StudyStages, ShardedStagesEqualTheOneProcessStudy) {
  QDET_REQUIRE_PATH(kModel);
  QDET_REQUIRE_PATH(kCoco);
  const fs::path dir = qdet::testing::scratch_dir();
  fs::create_directories(dir / "empty_calib");  // int8 cannot calibrate: its make fails
  const fs::path out = dir / "staged";
  std::string log;
  const std::string o = " -o " + out.string();

  // Stages out of order, and settings given to a later stage.
  EXPECT_EQ(qdet::testing::run_command(study("--stage eval" + o), &log), 1);
  EXPECT_EQ(log, "qdet: error: " + (out / "plan.json").string() + ": no study plan here: run --stage make first\n");

  ASSERT_EQ(qdet::testing::run_command(study(make_args(dir / "empty_calib") + o + " --stage make"), &log), 0) << log;
  EXPECT_NE(log.find("study: [make fp32] made: "), std::string::npos) << log;
  EXPECT_NE(log.find("study: [make int8] failed: "), std::string::npos) << log;
  EXPECT_TRUE(fs::exists(out / "plan.json"));
  EXPECT_TRUE(fs::exists(out / "fp32.make.done"));
  EXPECT_TRUE(fs::exists(out / "int8.error"));

  EXPECT_EQ(qdet::testing::run_command(study("--stage bench --limit 3" + o), &log), 1);
  EXPECT_EQ(log, "qdet: error: --stage bench: --limit belongs to --stage make (later stages read " + out.string() +
                     "/plan.json)\n");
  EXPECT_EQ(qdet::testing::run_command(study("--stage eval --variant dynamic" + o), &log), 1);
  EXPECT_EQ(log, "qdet: error: --variant dynamic: not a mode of this study (fp32, int8)\n");

  // Shards in any order; then the benchmark and the report.
  for (int k : {2, 0}) {
    ASSERT_EQ(qdet::testing::run_command(study("--stage eval --shard " + std::to_string(k) + "/3" + o), &log), 0)
        << log;
    EXPECT_NE(log.find("study: [eval fp32 " + std::to_string(k) + "/3] done: "), std::string::npos) << log;
    EXPECT_NE(log.find("study: [eval int8 " + std::to_string(k) + "/3] skipped: its make failed"), std::string::npos)
        << log;
  }
  ASSERT_EQ(qdet::testing::run_command(study("--stage bench" + o), &log), 0) << log;
  EXPECT_NE(log.find("study: [bench fp32] done on " + host_name()), std::string::npos) << log;
  EXPECT_TRUE(fs::exists(out / "pictures" / "fp32_0.png"));

  // Shard 1 missing: the row says so.
  ASSERT_EQ(qdet::testing::run_command(study("--stage assemble" + o), &log), 0) << log;
  json partial = json::parse(slurp(out / "results.json"));
  ASSERT_EQ(partial["variants"].size(), 2u);
  EXPECT_NE(partial["variants"][0]["error"].get<std::string>().find("shard(s) 1 of 3 not finished"),
            std::string::npos) << partial["variants"][0];
  EXPECT_FALSE(fs::exists(out / "fp32.done"));

  ASSERT_EQ(qdet::testing::run_command(study("--stage eval --variant fp32 --shard 1/3 --threads 2" + o), &log), 0)
      << log;
  ASSERT_EQ(qdet::testing::run_command(study("--stage assemble" + o), &log), 0) << log;
  EXPECT_NE(log.find("study: [assemble fp32] AP "), std::string::npos) << log;
  EXPECT_NE(log.find("report: " + (out / "index.html").string()), std::string::npos) << log;
  EXPECT_TRUE(fs::exists(out / "fp32.done"));

  // The same study in one process.
  const fs::path one = dir / "one";
  ASSERT_EQ(qdet::testing::run_command(study(make_args(dir / "empty_calib") + " -o " + one.string()), &log), 0) << log;
  const json staged = json::parse(slurp(out / "results.json"));
  const json whole = json::parse(slurp(one / "results.json"));
  ASSERT_EQ(staged["variants"].size(), 2u);
  ASSERT_EQ(whole["variants"].size(), 2u);
  const json& s = staged["variants"][0];
  const json& w = whole["variants"][0];
  EXPECT_EQ(s["variant"], "fp32");
  EXPECT_EQ(s["coco"]["images"], 10);
  ASSERT_EQ(w["coco"]["stats"].size(), 12u);
  EXPECT_EQ(s["coco"]["stats"], w["coco"]["stats"]);
  EXPECT_EQ(s["coco"]["per_class_ap"], w["coco"]["per_class_ap"]);
  EXPECT_EQ(slurp(out / "fp32.results.json"), slurp(one / "fp32.results.json"));
  EXPECT_EQ(s["size"], w["size"]);
  EXPECT_EQ(s["host"], host_name());
  EXPECT_EQ(w["host"], host_name());
  EXPECT_NE(s["notes"].dump().find("evaluated in 3 shards"), std::string::npos) << s["notes"];
  // int8: the same failure row both ways.
  EXPECT_EQ(staged["variants"][1]["variant"], "int8");
  EXPECT_EQ(staged["variants"][1]["error"].get<std::string>().rfind("make: ", 0), 0u) << staged["variants"][1];
  EXPECT_EQ(whole["variants"][1]["error"].get<std::string>().rfind("make: ", 0), 0u);
  EXPECT_NE(slurp(out / "report.md").find("- benchmarked on " + host_name()), std::string::npos);
}

}  // namespace
}  // namespace qdet::study
