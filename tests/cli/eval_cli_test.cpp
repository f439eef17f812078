// qdet eval end to end: COCO numbers on the first images of val2017-139, the journal and
// --resume (a killed run's finished images are not redone and the numbers are the same), a
// corrupt image (reported and counted, not fatal).
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "test_support.h"

namespace qdet {
namespace {

namespace fs = std::filesystem;

struct EvalPaths {
  fs::path model = data_dir() / "models" / "yolox_nano_fp32_416.tflite";
  fs::path images = data_dir() / "coco" / "val2017-139" / "images";
  fs::path annotations = data_dir() / "coco" / "val2017-139" / "instances_val2017_subset.json";
};

std::string eval_command(const EvalPaths& p, const fs::path& results, int limit, bool resume) {
  return std::string(QDET_BINARY) + " eval '" + p.model.string() + "' --images '" + p.images.string() +
         "' --annotations '" + p.annotations.string() + "' --limit " + std::to_string(limit) +
         " --results '" + results.string() + "' --json" + (resume ? " --resume" : "");
}

nlohmann::json last_json(const std::string& out) {
  auto start = out.find("{\n");
  return nlohmann::json::parse(out.substr(start == std::string::npos ? 0 : start));
}

TEST(EvalCli, ResumeSkipsFinishedImagesAndGivesTheSameNumbers) {
  EvalPaths p;
  QDET_REQUIRE_PATH(p.model);
  QDET_REQUIRE_PATH(p.annotations);
  auto dir = testing::scratch_dir();
  fs::path results = dir / "results.json";
  std::string out;
  ASSERT_EQ(testing::run_command(eval_command(p, results, 3, false), &out), 0) << out;
  auto first = last_json(out);
  EXPECT_EQ(first["images"], 3);
  EXPECT_EQ(first["failed_images"], 0);
  ASSERT_EQ(first["stats"].size(), 12u);
  EXPECT_GT(first["stats"][0].get<double>(), 0.0);
  EXPECT_TRUE(fs::exists(results));
  EXPECT_FALSE(fs::exists(results.string() + ".progress.jsonl"));

  // A journal as a killed run leaves it: the first image finished, then a torn line.
  auto dets = nlohmann::json::parse(std::ifstream(results));
  ASSERT_FALSE(dets.empty());
  int64_t first_image = dets[0]["image_id"];
  nlohmann::json mine = nlohmann::json::array();
  for (const auto& d : dets)
    if (d["image_id"] == first_image) mine.push_back(d);
  fs::remove(results);
  {
    // The journal's compact form: [category_id, x, y, w, h, score] per detection.
    nlohmann::json compact = nlohmann::json::array();
    for (const auto& d : mine)
      compact.push_back({d["category_id"], d["bbox"][0], d["bbox"][1], d["bbox"][2], d["bbox"][3], d["score"]});
    std::ofstream journal(results.string() + ".progress.jsonl");
    journal << nlohmann::json{{"image_id", first_image}, {"detections", compact}}.dump() << "\n";
    journal << "{\"image_id\": 12, \"detections\": [[1, 2";
  }
  ASSERT_EQ(testing::run_command(eval_command(p, results, 3, true), &out), 0) << out;
  auto resumed = last_json(out);
  EXPECT_EQ(resumed["resumed_images"], 1);
  EXPECT_EQ(resumed["images"], 3);
  EXPECT_EQ(resumed["stats"], first["stats"]);
  EXPECT_EQ(nlohmann::json::parse(std::ifstream(results)).size(), dets.size());
}

size_t count_lines(const fs::path& p) {
  std::ifstream in(p);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

// A real kill: `qdet eval` is started, SIGKILLed once its journal holds a few finished images,
// and `--resume` then finishes with exactly the numbers of an uninterrupted run.
TEST(EvalCli, SigkillMidRunThenResumeGivesTheSameNumbers) {
  EvalPaths p;
  QDET_REQUIRE_PATH(p.model);
  QDET_REQUIRE_PATH(p.annotations);
  const int limit = 16;
  auto dir = testing::scratch_dir();
  std::string out;
  ASSERT_EQ(testing::run_command(eval_command(p, dir / "whole.json", limit, false), &out), 0) << out;
  auto whole = last_json(out);

  const fs::path results = dir / "killed.json";
  const fs::path journal = results.string() + ".progress.jsonl";
  const std::string cmd = eval_command(p, results, limit, false) + " --sync-every 1 > /dev/null 2>&1";
  const char* argv[] = {"/bin/sh", "-c", cmd.c_str(), nullptr};
  // exec: the shell becomes qdet, so the signal reaches qdet itself.
  const std::string exec_cmd = "exec " + cmd;
  argv[2] = exec_cmd.c_str();
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char* const*>(argv), environ), 0);
  bool killed = false;
  for (int i = 0; i < 6000 && !killed; ++i) {  // up to 60 s on a loaded machine
    if (count_lines(journal) >= 3) {
      ::kill(pid, SIGKILL);
      killed = true;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(killed) << "the journal never reached 3 images";
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "qdet eval finished before it could be killed (status " << status << ")";
  EXPECT_FALSE(fs::exists(results));
  const size_t journaled = count_lines(journal);
  ASSERT_GE(journaled, 3u);
  ASSERT_LT(journaled, static_cast<size_t>(limit));

  ASSERT_EQ(testing::run_command(eval_command(p, results, limit, true), &out), 0) << out;
  auto resumed = last_json(out);
  // A line torn by the kill is dropped and its image run again.
  EXPECT_GE(resumed["resumed_images"].get<size_t>(), journaled - 1);
  EXPECT_LE(resumed["resumed_images"].get<size_t>(), journaled);
  EXPECT_EQ(resumed["images"], limit);
  EXPECT_EQ(resumed["stats"], whole["stats"]);
  EXPECT_EQ(resumed["detections"], whole["detections"]);
  EXPECT_FALSE(fs::exists(journal));
  EXPECT_EQ(nlohmann::json::parse(std::ifstream(results)).size(),
            nlohmann::json::parse(std::ifstream(dir / "whole.json")).size());
}

// A corrupt image file is reported, counted and scored as an image without detections; the run
// goes on and its failure survives a resume.
TEST(EvalCli, CorruptImageIsReportedAndCounted) {
  EvalPaths p;
  QDET_REQUIRE_PATH(p.model);
  QDET_REQUIRE_PATH(p.annotations);
  auto gt = nlohmann::json::parse(std::ifstream(p.annotations));
  auto dir = testing::scratch_dir();
  const fs::path images = dir / "images";
  fs::create_directories(images);
  std::vector<std::string> names;
  for (int i = 0; i < 3; ++i) names.push_back(gt["images"][i]["file_name"]);
  fs::copy_file(p.images / names[0], images / names[0]);
  fs::copy_file(p.images / names[2], images / names[2]);
  {
    std::ofstream bad(images / names[1], std::ios::binary);
    bad << "\xff\xd8\xff\xe0 this is not really a JPEG";
  }
  p.images = images;
  const fs::path results = dir / "r.json";
  std::string out;
  ASSERT_EQ(testing::run_command(eval_command(p, results, 3, false), &out), 0) << out;
  auto j = last_json(out);
  EXPECT_EQ(j["images"], 3);
  EXPECT_EQ(j["failed_images"], 1);
  ASSERT_EQ(j["failures"].size(), 1u);
  EXPECT_NE(j["failures"][0].get<std::string>().find(names[1]), std::string::npos) << j["failures"];
  EXPECT_NE(out.find("qdet: warning: "), std::string::npos) << out;
  EXPECT_GT(j["stats"][0].get<double>(), 0.0);

  // The journal keeps the failure: a resumed run reports it without reading the image again.
  const fs::path journal = results.string() + ".progress.jsonl";
  {
    std::ofstream f(journal);
    f << nlohmann::json{{"image_id", gt["images"][1]["id"]}, {"error", "earlier failure"},
                        {"detections", nlohmann::json::array()}}.dump()
      << "\n";
  }
  ASSERT_EQ(testing::run_command(eval_command(p, results, 3, true), &out), 0) << out;
  j = last_json(out);
  EXPECT_EQ(j["resumed_images"], 1);
  EXPECT_EQ(j["failed_images"], 1);
  EXPECT_EQ(j["failures"][0], "earlier failure");
}

// Each preset evaluates as its own project does; the settings used are reported.
TEST(EvalCli, YoloxUsesItsOwnEvaluationSettings) {
  EvalPaths p;
  QDET_REQUIRE_PATH(p.model);
  std::string out;
  ASSERT_EQ(testing::run_command(eval_command(p, testing::scratch_dir() / "r.json", 1, false), &out), 0) << out;
  auto j = last_json(out);
  EXPECT_FLOAT_EQ(j["settings"]["score_threshold"].get<float>(), 0.001f);
  EXPECT_FLOAT_EQ(j["settings"]["iou_threshold"].get<float>(), 0.65f);
  EXPECT_EQ(j["settings"]["max_detections"], 100);
  EXPECT_EQ(j["settings"]["clip_boxes"], false);
  ASSERT_EQ(testing::run_command(eval_command(p, testing::scratch_dir() / "r2.json", 1, false) +
                                     " --iou 0.5 --max-dets 0 --clip true",
                                 &out),
            0)
      << out;
  j = last_json(out);
  EXPECT_FLOAT_EQ(j["settings"]["iou_threshold"].get<float>(), 0.5f);
  EXPECT_EQ(j["settings"]["max_detections"], 0);
  EXPECT_EQ(j["settings"]["clip_boxes"], true);
}

TEST(EvalCli, MissingImageFolderIsOneClearError) {
  EvalPaths p;
  QDET_REQUIRE_PATH(p.model);
  p.images = "/nonexistent/images";
  std::string out;
  EXPECT_EQ(testing::run_command(eval_command(p, testing::scratch_dir() / "r.json", 2, false), &out), 1);
  EXPECT_NE(out.find("qdet: error: /nonexistent/images: image folder not found"), std::string::npos) << out;
}

TEST(EvalCli, ResumeNeedsAResultsFile) {
  EvalPaths p;
  QDET_REQUIRE_PATH(p.model);
  std::string out;
  std::string cmd = std::string(QDET_BINARY) + " eval '" + p.model.string() + "' --images '" +
                    p.images.string() + "' --annotations '" + p.annotations.string() + "' --resume";
  EXPECT_EQ(testing::run_command(cmd, &out), 1);
  EXPECT_NE(out.find("--resume needs --results"), std::string::npos) << out;
}

}  // namespace
}  // namespace qdet
