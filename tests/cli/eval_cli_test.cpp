// qdet eval end to end: COCO numbers on the first images of val2017-139, the journal and
// --resume (a killed run's finished images are not redone and the numbers are the same).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

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
  EXPECT_FALSE(fs::exists(results.string() + ".partial"));

  // A journal as a killed run leaves it: the first image finished, then a torn line.
  auto dets = nlohmann::json::parse(std::ifstream(results));
  ASSERT_FALSE(dets.empty());
  int64_t first_image = dets[0]["image_id"];
  nlohmann::json mine = nlohmann::json::array();
  for (const auto& d : dets)
    if (d["image_id"] == first_image) mine.push_back(d);
  fs::remove(results);
  {
    std::ofstream journal(results.string() + ".partial");
    journal << nlohmann::json{{"image_id", first_image}, {"detections", mine}}.dump() << "\n";
    journal << "{\"image_id\": 12, \"detections\": [{\"image_";
  }
  ASSERT_EQ(testing::run_command(eval_command(p, results, 3, true), &out), 0) << out;
  auto resumed = last_json(out);
  EXPECT_EQ(resumed["resumed_images"], 1);
  EXPECT_EQ(resumed["images"], 3);
  EXPECT_EQ(resumed["stats"], first["stats"]);
  EXPECT_EQ(nlohmann::json::parse(std::ifstream(results)).size(), dets.size());
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
