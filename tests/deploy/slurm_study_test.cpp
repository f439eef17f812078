// deploy/slurm/ for real: a single-node Slurm cluster (Debian's munged, slurmctld, slurmd) is
// started on localhost by deploy/slurm/local_cluster.sh, submit_study.sh submits a study of
// YOLOX-Nano (fp32, fp16) over all 139 images of val2017-139 as make -> a 4-task eval array and
// one benchmark job -> an assembling job (--dependency=afterok), and the assembled report must
// hold exactly the one-process study's statistics: all 12 numbers, the per-class AP, the merged
// COCO results file byte for byte. The daemons this test started are stopped whatever happens
// (a watchdog stops them even when the test process is killed).
//
// Where the daemons cannot start (packages missing, no permission) the test skips and says why;
// QDET_REQUIRE_DATA does not turn that skip into a failure (it is about shared data, and a
// machine without a runnable Slurm is not missing data).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/file.h"
#include "base/paths.h"
#include "test_support.h"

namespace qdet {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kModel = data_dir() / "models" / "yolox_nano_fp32_416.tflite";
const fs::path kCoco = data_dir() / "coco" / "val2017-139";
const fs::path kSlurm = fs::path(QDET_SOURCE_DIR) / "deploy" / "slurm";

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

std::string slurp(const fs::path& p) {
  auto t = read_text_file(p);
  return t.ok() ? *t : std::string("<missing " + p.string() + ">");
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Every job log of the study, for a failure message.
std::string logs_of(const fs::path& out) {
  std::string s;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(out / "logs", ec))
    s += "--- " + e.path().filename().string() + "\n" + slurp(e.path());
  return s;
}

class LocalCluster {
 public:
  explicit LocalCluster(fs::path dir) : dir_(std::move(dir)) {}
  ~LocalCluster() {
    if (!started_) return;
    std::string out;
    int rc = testing::run_command(q(kSlurm / "local_cluster.sh") + " stop " + q(dir_), &out);
    if (rc != 0) ADD_FAILURE() << "stopping the cluster failed: " << out;
  }
  // 0: running; 2: cannot start here (*why says why); other: the script failed.
  int start(std::string* why) {
    int rc = testing::run_command(
        q(kSlurm / "local_cluster.sh") + " start " + q(dir_) + " --owner " + std::to_string(::getpid()), why);
    started_ = true;  // stop() is safe after a failed start: it stops what has a pid file
    return rc;
  }
  std::string env() const { return "SLURM_CONF=" + q(dir_ / "slurm.conf") + " "; }

 private:
  fs::path dir_;
  bool started_ = false;
};

std::string study_args() {
  return kModel.string() + " --images " + (kCoco / "images").string() + " --annotations " +
         (kCoco / "instances_val2017_subset.json").string() +
         " --modes fp32,fp16 --runs 3 --warmup 1 --pictures 1";
}

TEST(SlurmStudy, FourTaskArrayEqualsTheOneProcessStudy) {
  QDET_REQUIRE_PATH(kModel);
  QDET_REQUIRE_PATH(kCoco);
  // A folder of its own (not scratch_dir(): two suites running at once must not share daemons'
  // files); kept when the test fails, for its logs.
  std::string tmpl = (fs::temp_directory_path() / "qdet-slurm-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const fs::path dir = tmpl;
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec);  // munged's socket
  struct RemoveUnlessFailed {
    fs::path dir;
    ~RemoveUnlessFailed() {
      std::error_code ec;
      if (!::testing::Test::HasFailure()) fs::remove_all(dir, ec);
    }
  } cleanup{dir};  // declared before the cluster: removed after it stopped
  std::string out;
  {
    LocalCluster cluster(dir / "cluster");
    std::string why;
    const int rc = cluster.start(&why);
    if (rc == 2) {
      std::printf("SKIPPED: no local Slurm cluster: %s", why.c_str());
      GTEST_SKIP() << "no local Slurm cluster here (QDET_REQUIRE_DATA does not apply): " << why;
    }
    ASSERT_EQ(rc, 0) << why;

    // Submit: make -> 4-task eval array + bench -> assemble.
    const fs::path report = dir / "slurm-study";
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(testing::run_command(cluster.env() + "QDET=" + q(QDET_BINARY) + " " + q(kSlurm / "submit_study.sh") +
                                       " -o " + q(report) + " -n 4 -- " + study_args(),
                                   &out),
              0)
        << out;
    ASSERT_NE(out.find("make="), std::string::npos) << out;
    ASSERT_NE(out.find(" assemble="), std::string::npos) << out;
    const std::string jobs = out;

    // Wait for the queue to empty (bounded); a job whose dependency failed never runs: stop there.
    bool finished = false;
    while (seconds_since(t0) < 480) {
      ASSERT_EQ(testing::run_command(cluster.env() + "squeue -h -o '%i %j %T %r'", &out), 0) << out;
      if (out.find("DependencyNeverSatisfied") != std::string::npos)
        FAIL() << "a job failed, its dependents never run:\n" << out << logs_of(report);
      if (out.empty()) {
        finished = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    const double slurm_s = seconds_since(t0);
    ASSERT_TRUE(finished) << "the study was not done after 480 s; queue:\n" << out << logs_of(report);
    ASSERT_TRUE(fs::exists(report / "results.json")) << jobs << logs_of(report);

    // The array ran as 4 tasks, each on its shard of both variants.
    for (int k = 0; k < 4; ++k)
      for (const char* mode : {"fp32", "fp16"})
        EXPECT_TRUE(fs::exists(report / fmt::format("{}.results.shard-{}-of-4.done", mode, k))) << mode << " " << k;
    const std::string logs = logs_of(report);
    for (int k = 0; k < 4; ++k)
      EXPECT_NE(logs.find(fmt::format("[eval fp16 {}/4] done: ", k)), std::string::npos) << logs;

    // The same study in one process.
    const fs::path one = dir / "one-process";
    const auto t1 = std::chrono::steady_clock::now();
    ASSERT_EQ(testing::run_command(std::string(QDET_BINARY) + " study " + study_args() + " -o " + q(one), &out), 0)
        << out;
    const double one_s = seconds_since(t1);

    const json sharded = json::parse(slurp(report / "results.json"));
    const json whole = json::parse(slurp(one / "results.json"));
    ASSERT_EQ(sharded["variants"].size(), 2u) << sharded.dump(1);
    ASSERT_EQ(whole["variants"].size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
      const json& s = sharded["variants"][i];
      const json& w = whole["variants"][i];
      const std::string mode = w["variant"];
      EXPECT_EQ(s["variant"], mode);
      EXPECT_FALSE(s.contains("error")) << s.dump(1);
      EXPECT_EQ(s["coco"]["images"], 139);
      ASSERT_EQ(w["coco"]["stats"].size(), 12u);
      EXPECT_EQ(s["coco"]["stats"], w["coco"]["stats"]) << mode;  // every one of the 12, exactly
      EXPECT_EQ(s["coco"]["per_class_ap"], w["coco"]["per_class_ap"]) << mode;
      EXPECT_EQ(slurp(report / (mode + ".results.json")), slurp(one / (mode + ".results.json"))) << mode;
      EXPECT_EQ(s["host"], host_name());
      EXPECT_EQ(s["latency_ms"]["samples"].size(), 3u);
      EXPECT_NE(s["notes"].dump().find("evaluated in 4 shards"), std::string::npos) << s["notes"];
    }
    EXPECT_GT(whole["variants"][0]["coco"]["stats"][0].get<double>(), 0.25);
    EXPECT_NE(slurp(report / "report.md").find("- benchmarked on " + host_name()), std::string::npos);
    std::printf("wall time, study of fp32+fp16 on val2017-139: Slurm (make, 4-task eval array, bench, assemble) "
                "%.1f s; one process %.1f s\n",
                slurm_s, one_s);
    RecordProperty("slurm_wall_s", std::to_string(slurm_s));
    RecordProperty("one_process_wall_s", std::to_string(one_s));
  }
}

}  // namespace
}  // namespace qdet
