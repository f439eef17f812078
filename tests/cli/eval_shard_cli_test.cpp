// `qdet eval --shard K/N` and `--merge` end to end on YOLOX-Nano over all of val2017-139: four
// shards (two of them run from the annotation file with its images in reverse order) merge into
// exactly the unsharded run: the 12 numbers, the per-class table and the results file byte for
// byte; `qdet coco-eval --results` over the four shard files gives the same numbers. A finished
// shard is not run again with --resume; a missing shard and a bad --shard are one-line errors.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "test_support.h"

namespace qdet {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kModel = data_dir() / "models" / "yolox_nano_fp32_416.tflite";
const fs::path kImages = data_dir() / "coco" / "val2017-139" / "images";
const fs::path kAnnotations = data_dir() / "coco" / "val2017-139" / "instances_val2017_subset.json";

std::string eval_command(const fs::path& annotations, const fs::path& results, const std::string& extra) {
  return std::string(QDET_BINARY) + " eval '" + kModel.string() + "' --images '" + kImages.string() +
         "' --annotations '" + annotations.string() + "' --results '" + results.string() + "' --json " + extra;
}

json last_json(const std::string& out) {
  auto start = out.find("{\n");
  return json::parse(out.substr(start == std::string::npos ? 0 : start));
}

std::string slurp(const fs::path& p) {
  auto t = read_text_file(p);
  return t.ok() ? *t : std::string("<missing " + p.string() + ">");
}

TEST(EvalShardCli, FourShardsMergeIntoTheUnshardedRun) {
  QDET_REQUIRE_PATH(kModel);
  QDET_REQUIRE_PATH(kAnnotations);
  const fs::path dir = testing::scratch_dir();
  std::string out;
  ASSERT_EQ(testing::run_command(eval_command(kAnnotations, dir / "whole.json", ""), &out), 0) << out;
  const json whole = last_json(out);
  ASSERT_EQ(whole["images"], 139);
  ASSERT_GT(whole["stats"][0].get<double>(), 0.25);

  // The same annotations with the images listed in reverse: the split must not change.
  json reversed = json::parse(slurp(kAnnotations));
  std::reverse(reversed["images"].begin(), reversed["images"].end());
  const fs::path reversed_path = dir / "reversed.json";
  ASSERT_TRUE(write_file_atomic(reversed_path, reversed.dump()).ok());

  const fs::path results = dir / "shards" / "dt.json";
  int images = 0;
  for (int k = 0; k < 4; ++k) {
    const fs::path& gt = k % 2 ? reversed_path : kAnnotations;
    ASSERT_EQ(testing::run_command(eval_command(gt, results, "--shard " + std::to_string(k) + "/4"), &out), 0) << out;
    const json part = last_json(out);
    images += part["images"].get<int>();
    EXPECT_GE(part["images"].get<int>(), 34);
    EXPECT_LE(part["images"].get<int>(), 35);
    EXPECT_TRUE(fs::exists(dir / "shards" / ("dt.shard-" + std::to_string(k) + "-of-4.json")));
    EXPECT_TRUE(fs::exists(dir / "shards" / ("dt.shard-" + std::to_string(k) + "-of-4.done")));
    EXPECT_FALSE(fs::exists(dir / "shards" / ("dt.shard-" + std::to_string(k) + "-of-4.json.progress.jsonl")));
  }
  EXPECT_EQ(images, 139);

  for (const fs::path& where : {results, results.parent_path()}) {
    ASSERT_EQ(testing::run_command(std::string(QDET_BINARY) + " eval --merge '" + where.string() +
                                       "' --annotations '" + kAnnotations.string() + "' --results '" +
                                       (dir / "merged.json").string() + "' --json",
                                   &out),
              0)
        << out;
    const json merged = last_json(out);
    EXPECT_EQ(merged["stats"], whole["stats"]);  // all 12, exactly
    EXPECT_EQ(merged["per_category"], whole["per_category"]);
    EXPECT_EQ(merged["images"], 139);
    EXPECT_EQ(merged["detections"], whole["detections"]);
    EXPECT_EQ(merged["shards"], 4);
    EXPECT_EQ(slurp(dir / "merged.json"), slurp(dir / "whole.json"));
  }
  // Without --annotations the shards' recorded file is used; the text output has both tables.
  ASSERT_EQ(testing::run_command(std::string(QDET_BINARY) + " eval --merge '" + results.string() + "'", &out), 0)
      << out;
  EXPECT_NE(out.find("merged: 4 shards of " + results.string()), std::string::npos) << out;
  EXPECT_NE(out.find(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = "),
            std::string::npos) << out;

  // coco-eval scores the four shard files as one results file.
  std::string files;
  for (int k = 0; k < 4; ++k) files += " '" + (dir / "shards" / ("dt.shard-" + std::to_string(k) + "-of-4.json")).string() + "'";
  ASSERT_EQ(testing::run_command(std::string(QDET_BINARY) + " coco-eval --annotations '" + kAnnotations.string() +
                                     "' --json --results" + files,
                                 &out),
            0)
      << out;
  const json scored = last_json(out);
  EXPECT_EQ(scored["stats"], whole["stats"]);
  EXPECT_EQ(scored["per_category"], whole["per_category"]);

  // A finished shard is read back, not run again.
  ASSERT_EQ(testing::run_command(eval_command(kAnnotations, results, "--shard 2/4 --resume"), &out), 0) << out;
  const json again = last_json(out);
  EXPECT_EQ(again["resumed_images"], again["images"]);

  // A shard that never finished: the merge names it.
  fs::remove(dir / "shards" / "dt.shard-3-of-4.done");
  EXPECT_EQ(testing::run_command(std::string(QDET_BINARY) + " eval --merge '" + results.string() + "'", &out), 1);
  EXPECT_NE(out.find("qdet: error: " + results.string() + ": shard(s) 3 of 4 not finished"), std::string::npos) << out;
}

TEST(EvalShardCli, BadShardIsOneClearError) {
  QDET_REQUIRE_PATH(kModel);
  const fs::path dir = testing::scratch_dir();
  std::string out;
  EXPECT_EQ(testing::run_command(eval_command(kAnnotations, dir / "r.json", "--shard 4/4"), &out), 1);
  EXPECT_NE(out.find("qdet: error: --shard '4/4': K must be 0..3 (K counts from 0)"), std::string::npos) << out;
  EXPECT_EQ(testing::run_command(std::string(QDET_BINARY) + " eval '" + kModel.string() + "' --images '" +
                                     kImages.string() + "' --annotations '" + kAnnotations.string() +
                                     "' --shard 1/2",
                                 &out),
            1);
  EXPECT_NE(out.find("qdet: error: --shard needs --results"), std::string::npos) << out;
  EXPECT_EQ(testing::run_command(eval_command(kAnnotations, dir / "r.json", "--shard 150/200 --limit 100"), &out), 1);
  EXPECT_NE(out.find("qdet: error: --shard 150/200: no images in this shard (100 images selected)"), std::string::npos)
      << out;
}

}  // namespace
}  // namespace qdet
