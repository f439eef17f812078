// Sharded evaluation: the split (disjoint, complete, balanced, independent of the annotation
// file's order), the shard file names and records, and merge_shards() against one unsharded
// evaluation of the same detections on a seeded synthetic dataset (ties in score included), with
// each way a merge must refuse: a missing shard, shards of two runs, a stale part, a detection
// outside its shard.
#include "coco/shard.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "base/file.h"
#include "test_support.h"

namespace qdet::coco {
namespace {

namespace fs = std::filesystem;

TEST(Shard, ParsesKOfN) {
  auto s = parse_shard("2/4");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->index, 2);
  EXPECT_EQ(s->count, 4);
  EXPECT_TRUE(parse_shard("0/1").ok());
  EXPECT_EQ(parse_shard("4/4").status().message(), "--shard '4/4': K must be 0..3 (K counts from 0)");
  EXPECT_EQ(parse_shard("1/0").status().message(), "--shard '1/0': N must be at least 1");
  for (const char* bad : {"", "3", "a/4", "1/4x", "-1/4", "1//4", "/4"})
    EXPECT_FALSE(parse_shard(bad).ok()) << bad;
}

TEST(Shard, SplitIsCompleteDisjointBalancedAndOrderFree) {
  std::vector<int64_t> ids;
  std::mt19937 rng(17);
  for (int i = 0; i < 139; ++i) ids.push_back(static_cast<int64_t>(rng() % 600000));
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  for (int n : {1, 2, 3, 4, 7}) {
    std::vector<int64_t> shuffled = ids;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    std::multiset<int64_t> all;
    size_t smallest = ids.size(), largest = 0;
    for (int k = 0; k < n; ++k) {
      const auto part = shard_image_ids(ids, Shard{k, n});
      EXPECT_EQ(part, shard_image_ids(shuffled, Shard{k, n})) << k << "/" << n;
      EXPECT_TRUE(std::is_sorted(part.begin(), part.end()));
      all.insert(part.begin(), part.end());
      smallest = std::min(smallest, part.size());
      largest = std::max(largest, part.size());
    }
    EXPECT_EQ(std::vector<int64_t>(all.begin(), all.end()), ids) << n;
    EXPECT_LE(largest - smallest, 1u) << n;
  }
}

TEST(Shard, FileNames) {
  EXPECT_EQ(shard_results_path("out/dt.json", Shard{2, 4}), fs::path("out/dt.shard-2-of-4.json"));
  EXPECT_EQ(shard_done_path("out/dt.json", Shard{2, 4}), fs::path("out/dt.shard-2-of-4.done"));
  EXPECT_EQ(shard_results_path("fp16.results.json", Shard{0, 1}), fs::path("fp16.results.shard-0-of-1.json"));
}

TEST(Shard, RecordRoundTrips) {
  ShardRecord r;
  r.shard = {1, 3};
  r.annotations = "/data/gt.json";
  r.limit = 10;
  r.selected_images = 10;
  r.image_ids = {4, 7, 9};
  r.failed = {{7, "7.jpg: not a JPEG\nsecond line"}};
  r.results = "dt.shard-1-of-3.json";
  r.host = "node-a";
  r.notes = {"post-processing: x"};
  r.detections = 12;
  auto back = parse_shard_record(shard_record_to_json(r), "r.done");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->shard.index, 1);
  EXPECT_EQ(back->shard.count, 3);
  EXPECT_EQ(back->image_ids, r.image_ids);
  EXPECT_EQ(back->failed, r.failed);
  EXPECT_EQ(back->host, "node-a");
  EXPECT_EQ(back->notes, r.notes);
  EXPECT_FALSE(parse_shard_record("{\"shard\": 3, \"shards\": 3}", "r.done").ok());
  EXPECT_NE(parse_shard_record("[1,", "r.done").status().message().find("r.done: "), std::string::npos);
  auto j = nlohmann::json::parse(shard_record_to_json(r));
  j["results"] = "../elsewhere.json";
  EXPECT_FALSE(parse_shard_record(j.dump(), "r.done").ok());
}

// A seeded dataset: `n` images (ids not in file order), 3 categories, a few boxes each, and
// detections near them with scores on a coarse grid (many ties, which the order within an image
// breaks).
struct Synthetic {
  std::string gt_json;
  std::vector<int64_t> file_order;
  std::vector<Detection> dets;  // image by image in file order
};

Synthetic make_synthetic(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  nlohmann::json gt;
  gt["categories"] = {{{"id", 1}, {"name", "a"}}, {{"id", 3}, {"name", "b"}}, {{"id", 7}, {"name", "c"}}};
  gt["images"] = nlohmann::json::array();
  gt["annotations"] = nlohmann::json::array();
  Synthetic s;
  int64_t ann_id = 1;
  for (int i = 0; i < n; ++i) {
    const int64_t id = 1000 + ((i * 37) % n) * 11;
    s.file_order.push_back(id);
    gt["images"].push_back({{"id", id}, {"width", 640}, {"height", 480}, {"file_name", std::to_string(id) + ".jpg"}});
    const int boxes = static_cast<int>(rng() % 4);
    for (int b = 0; b < boxes; ++b) {
      const int64_t cat = std::array<int64_t, 3>{1, 3, 7}[rng() % 3];
      const double x = 600 * u(rng), y = 440 * u(rng), w = 5 + 150 * u(rng), h = 5 + 150 * u(rng);
      gt["annotations"].push_back({{"id", ann_id++}, {"image_id", id}, {"category_id", cat},
                                   {"bbox", {x, y, w, h}}, {"area", w * h}, {"iscrowd", rng() % 17 == 0 ? 1 : 0}});
      for (int d = 0; d < 2; ++d)
        s.dets.push_back({id, d ? std::array<int64_t, 3>{1, 3, 7}[rng() % 3] : cat,
                          {x + 10 * u(rng), y + 10 * u(rng), w * (0.8 + 0.4 * u(rng)), h},
                          static_cast<double>(rng() % 10) / 10 + 0.05});
    }
  }
  s.gt_json = gt.dump();
  return s;
}

// Writes shard k of n as the evaluation engine does: the results of its images, then the record.
void write_shard(const fs::path& results, const Synthetic& s, const fs::path& gt, Shard shard, int selected,
                 std::vector<int64_t> ids_override = {}) {
  std::vector<int64_t> ids(s.file_order.begin(), s.file_order.begin() + selected);
  ShardRecord r;
  r.shard = shard;
  r.annotations = gt.string();
  r.limit = selected == static_cast<int>(s.file_order.size()) ? 0 : selected;
  r.selected_images = selected;
  r.image_ids = ids_override.empty() ? shard_image_ids(ids, shard) : ids_override;
  r.results = shard_results_path(results, shard).filename().string();
  r.host = "host-" + std::to_string(shard.index);
  const std::set<int64_t> mine(r.image_ids.begin(), r.image_ids.end());
  std::vector<Detection> dets;
  for (const Detection& d : s.dets)
    if (mine.count(d.image_id)) dets.push_back(d);
  ASSERT_TRUE(write_results(shard_results_path(results, shard), dets).ok());
  ASSERT_TRUE(write_file_atomic(shard_done_path(results, shard), shard_record_to_json(r)).ok());
}

void expect_same_eval(const EvalResult& a, const EvalResult& b) {
  for (int i = 0; i < kNumStats; ++i) EXPECT_EQ(a.stats[i], b.stats[i]) << stat_name(i);
  ASSERT_EQ(a.per_category.size(), b.per_category.size());
  for (size_t k = 0; k < a.per_category.size(); ++k) {
    EXPECT_EQ(a.per_category[k].ap, b.per_category[k].ap) << a.per_category[k].name;
    EXPECT_EQ(a.per_category[k].ap50, b.per_category[k].ap50) << a.per_category[k].name;
    EXPECT_EQ(a.per_category[k].num_detections, b.per_category[k].num_detections);
  }
  EXPECT_EQ(a.precision, b.precision);
  EXPECT_EQ(a.recall, b.recall);
}

TEST(Shard, MergeEqualsOneEvaluation) {
  const fs::path dir = testing::scratch_dir();
  const Synthetic s = make_synthetic(41, 5);
  ASSERT_TRUE(write_file_atomic(dir / "gt.json", s.gt_json).ok());
  auto gt = parse_instances(s.gt_json, "gt.json");
  ASSERT_TRUE(gt.ok()) << gt.status().message();
  auto one = evaluate_detections(*gt, s.dets);
  ASSERT_TRUE(one.ok()) << one.status().message();
  ASSERT_GT(one->stats[kAP], 0.05);

  for (int n : {1, 3, 4}) {
    const fs::path results = dir / ("n" + std::to_string(n)) / "dt.json";
    fs::create_directories(results.parent_path());
    for (int k = n - 1; k >= 0; --k) write_shard(results, s, dir / "gt.json", Shard{k, n}, 41);
    for (const fs::path& where : {results, results.parent_path()}) {
      auto m = merge_shards(where);
      ASSERT_TRUE(m.ok()) << m.status().message();
      EXPECT_EQ(m->shards, n);
      EXPECT_EQ(m->images, 41);
      EXPECT_EQ(m->results, results);
      expect_same_eval(m->eval, *one);
      // The unsharded results file, byte for byte.
      EXPECT_EQ(results_to_json(m->detections), results_to_json(s.dets));
    }
  }

  // A limited selection: the first 20 images of the file (pycocotools' imgIds).
  const std::vector<int64_t> first(s.file_order.begin(), s.file_order.begin() + 20);
  std::vector<Detection> first_dets;
  for (const Detection& d : s.dets)
    if (std::find(first.begin(), first.end(), d.image_id) != first.end()) first_dets.push_back(d);
  EvalOptions limited;
  limited.image_ids = first;
  auto one_limited = evaluate_detections(*gt, first_dets, limited);
  ASSERT_TRUE(one_limited.ok());
  const fs::path lim = dir / "limit" / "dt.json";
  fs::create_directories(lim.parent_path());
  for (int k = 0; k < 3; ++k) write_shard(lim, s, dir / "gt.json", Shard{k, 3}, 20);
  auto m = merge_shards(lim, dir / "gt.json");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->images, 20);
  expect_same_eval(m->eval, *one_limited);
}

TEST(Shard, MergeRefusesIncompleteOrMixedShards) {
  const fs::path dir = testing::scratch_dir();
  const Synthetic s = make_synthetic(12, 9);
  const fs::path gt = dir / "gt.json";
  ASSERT_TRUE(write_file_atomic(gt, s.gt_json).ok());
  const fs::path results = dir / "run" / "dt.json";
  fs::create_directories(results.parent_path());
  for (int k : {0, 2}) write_shard(results, s, gt, Shard{k, 4}, 12);
  EXPECT_EQ(merge_shards(results).status().message(),
            results.string() + ": shard(s) 1, 3 of 4 not finished (no dt.shard-K-of-4.done)");
  EXPECT_EQ(merge_shards(dir / "run" / "other.json").status().message(),
            (dir / "run" / "other.json").string() + ": no finished shard (no other.shard-K-of-N.done file)");

  for (int k : {1, 3}) write_shard(results, s, gt, Shard{k, 4}, 12);
  ASSERT_TRUE(merge_shards(results).ok());
  write_shard(results, s, gt, Shard{0, 2}, 12);  // a stale run with another count
  EXPECT_NE(merge_shards(results).status().message().find("shards of different runs (of 2, 4 shards)"),
            std::string::npos);
  fs::remove(shard_done_path(results, Shard{0, 2}));

  // Another run in the same folder: a folder is ambiguous, the results path is not.
  write_shard(dir / "run" / "b.json", s, gt, Shard{0, 1}, 12);
  EXPECT_NE(merge_shards(dir / "run").status().message().find("several sharded runs"), std::string::npos);
  EXPECT_TRUE(merge_shards(dir / "run" / "b.json").ok());
  fs::remove(shard_done_path(dir / "run" / "b.json", Shard{0, 1}));

  // A shard that evaluated another part (a different selection or split).
  write_shard(results, s, gt, Shard{1, 4}, 12, {s.file_order[0]});
  EXPECT_NE(merge_shards(results).status().message().find("shard 1 of 4 did not evaluate its part"),
            std::string::npos);
  write_shard(results, s, gt, Shard{1, 4}, 12);
  ASSERT_TRUE(merge_shards(results).ok());

  // A detection of an image outside its shard.
  auto dets = load_results(shard_results_path(results, Shard{2, 4}));
  ASSERT_TRUE(dets.ok());
  const auto part0 = shard_image_ids(s.file_order, Shard{0, 4});
  dets->push_back({part0.front(), 1, {1, 1, 5, 5}, 0.5});
  ASSERT_TRUE(write_results(shard_results_path(results, Shard{2, 4}), *dets).ok());
  EXPECT_NE(merge_shards(results).status().message().find(
                fmt::format("image {} is not in shard 2 of 4", part0.front())),
            std::string::npos);
}

}  // namespace
}  // namespace qdet::coco
