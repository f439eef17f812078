// `qdet coco-eval` end to end: pycocotools' printed layout, --json, errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "base/file.h"
#include "test_support.h"

namespace qdet::coco {
namespace {

std::filesystem::path fixture(const std::string& name) { return fixtures_dir() / "cocoeval" / name; }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// cocoapi's own printed results for its fake bbox detections; that pycocotools printed the title
// with '{:<17}', today's with '{:<18}' (one more space before "(AP)" / "(AR)").
TEST(CocoEvalCommand, PrintsPycocotoolsSummaryLines) {
  auto dir = fixture("cocoapi_val2014_100");
  QDET_REQUIRE_PATH(dir / "val2014_fake_eval_res.txt");
  auto printed = read_text_file(dir / "val2014_fake_eval_res.txt");
  ASSERT_TRUE(printed.ok());
  std::vector<std::string> expected;
  bool in_bbox = false;
  for (std::string line : lines_of(*printed)) {
    if (line.rfind("type=", 0) == 0) in_bbox = line == "type=bbox";
    if (!in_bbox || line.rfind(" Average", 0) != 0) continue;
    for (const char* title : {"Precision", "Recall   "}) {
      std::string from = std::string(title) + " (A", to = std::string(title) + "  (A";
      if (auto at = line.find(from); at != std::string::npos) line.replace(at, from.size(), to);
    }
    expected.push_back(line);
  }
  ASSERT_EQ(expected.size(), 12u);
  EXPECT_EQ(expected[0], " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.505");

  std::string out;
  int rc = testing::run_command(
      fmt::format("'{}' coco-eval --annotations '{}' --results '{}'", QDET_BINARY,
                  (dir / "instances_val2014_100.json").string(),
                  (dir / "instances_val2014_fakebbox100_results.json").string()),
      &out);
  ASSERT_EQ(rc, 0) << out;
  std::vector<std::string> got = lines_of(out);
  ASSERT_GE(got.size(), 12u) << out;
  for (size_t i = 0; i < 12; ++i) EXPECT_EQ(got[i], expected[i]) << "line " << i;
  // Then the per-category table: header and one row per category.
  EXPECT_NE(out.find("  id  category"), std::string::npos) << out;
  EXPECT_NE(out.find("   1  person           0.533   0.788      250         201"), std::string::npos) << out;
  EXPECT_NE(out.find("  11  fire hydrant         -       -        0           2"), std::string::npos) << out;
}

TEST(CocoEvalCommand, JsonHasStatsAndPerCategory) {
  auto dir = fixture("detectron2_tiny");
  QDET_REQUIRE_PATH(dir / "expected.json");
  std::string out;
  int rc = testing::run_command(fmt::format("'{}' coco-eval -a '{}' -r '{}' --json 2>/dev/null",
                                            QDET_BINARY, (dir / "gt.json").string(),
                                            (dir / "dt.json").string()),
                                &out);
  ASSERT_EQ(rc, 0) << out;
  nlohmann::json j = nlohmann::json::parse(out);
  std::ifstream in(dir / "expected.json");
  nlohmann::json expected = nlohmann::json::parse(in)["cases"][0]["expected"];
  ASSERT_EQ(j["stats"].size(), 12u);
  for (size_t i = 0; i < 12; ++i) EXPECT_NEAR(j["stats"][i].get<double>(), expected[i].get<double>(), 1e-12) << i;
  EXPECT_EQ(j["per_category"]["person"]["id"], 1);
  EXPECT_NEAR(j["per_category"]["person"]["AP"].get<double>(), j["stats"][0].get<double>(), 1e-12);
  EXPECT_EQ(j["per_category"]["bed"]["AP"], -1);  // no ground truth
}

TEST(CocoEvalCommand, ErrorsAreOneLine) {
  auto dir = testing::scratch_dir();
  auto gt = fixture("torchmetrics_single_box") / "gt.json";
  QDET_REQUIRE_PATH(gt);
  ASSERT_TRUE(write_file_atomic(dir / "bad.json", std::string_view("[{\"image_id\": 0,\n oops}]")).ok());
  ASSERT_TRUE(write_file_atomic(dir / "other.json",
                                std::string_view(R"([{"image_id": 5, "category_id": 0, "bbox": [0, 0, 1, 1], "score": 1}])"))
                  .ok());
  std::string out;
  int rc = testing::run_command(fmt::format("'{}' coco-eval -a '{}' -r '{}'", QDET_BINARY,
                                            gt.string(), (dir / "bad.json").string()),
                                &out);
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(out, fmt::format("qdet: error: {}: invalid JSON at line 2, column 2 (byte 18): syntax "
                             "error while parsing object key - invalid literal; last read: "
                             "'0,<U+000A> o'; expected string literal\n",
                             (dir / "bad.json").string()));
  rc = testing::run_command(fmt::format("'{}' coco-eval -a '{}' -r '{}'", QDET_BINARY, gt.string(),
                                        (dir / "other.json").string()),
                            &out);
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(out, fmt::format("qdet: error: {}: detection 0: image_id 5 is not an image of the ground "
                             "truth (pycocotools: Results do not correspond to current coco set)\n",
                             (dir / "other.json").string()));
}

}  // namespace
}  // namespace qdet::coco
