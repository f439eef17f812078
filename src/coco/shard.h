// Sharded evaluation: `qdet eval --shard K/N` evaluates one of N parts of the images, so N jobs
// of a scheduler (a Slurm array, a Kubernetes Indexed Job, GNU parallel) can share a dataset;
// merging the N parts gives exactly the unsharded run's numbers and results file.
//
// The split: the selected images (every image of the annotation file, or the first --limit)
// sorted by id, image i of that list to shard i mod N. It depends only on the set of ids, not on
// the order of the annotation file, and the shards differ in size by at most one image.
//
// Files, for `--results out/dt.json --shard 2/4` (K counts from 0, like SLURM_ARRAY_TASK_ID
// and JOB_COMPLETION_INDEX):
//   out/dt.shard-2-of-4.json                 the shard's COCO results (atomically, at the end)
//   out/dt.shard-2-of-4.json.progress.jsonl  its journal while it runs (--resume continues it)
//   out/dt.shard-2-of-4.done                 the shard's record, written last: which images it
//                                            evaluated, failed images, settings, host
// A shard is finished when its .done exists. merge_shards() checks that every shard 0..N-1 is
// finished and evaluated exactly its part of the same selection, then scores the union.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "coco/dataset.h"
#include "coco/evaluator.h"
#include "coco/results.h"

namespace qdet::coco {

struct Shard {
  int index = 0;  // K, 0 <= K < count
  int count = 1;  // N
};

// "K/N" with 0 <= K < N, N >= 1 (e.g. "2/4").
Result<Shard> parse_shard(std::string_view text);

// The ids of `shard`'s part of `selected` (any order): sorted ids, every count-th from index.
// Returned ascending.
std::vector<int64_t> shard_image_ids(std::vector<int64_t> selected, Shard shard);

// The images an evaluation selects: the annotation file's images, or its first `limit` (> 0).
std::vector<const ImageInfo*> select_images(const Dataset& gt, int limit);

// out/dt.json -> out/dt.shard-2-of-4.json and out/dt.shard-2-of-4.done.
std::filesystem::path shard_results_path(const std::filesystem::path& results, Shard shard);
std::filesystem::path shard_done_path(const std::filesystem::path& results, Shard shard);

// What a finished shard wrote in its .done file.
struct ShardRecord {
  Shard shard;
  std::string annotations;  // the annotation file's path as the shard saw it
  int limit = 0;            // the --limit the selection came from (0: every image)
  int selected_images = 0;  // images of the whole selection (all shards)
  std::vector<int64_t> image_ids;                       // this shard's images, ascending
  std::vector<std::pair<int64_t, std::string>> failed;  // unreadable images and why
  std::string results;      // the shard's results file name (beside the .done)
  std::string model, preset, host;
  std::vector<std::string> notes;  // the post-processing's source, limits raised
  size_t detections = 0;
  double wall_s = 0;
};

std::string shard_record_to_json(const ShardRecord& record);
Result<ShardRecord> parse_shard_record(std::string_view json, std::string_view source);

// Every shard merged. detections are in the order the unsharded run writes them (the selected
// images in annotation file order, each image's detections in the order found), so writing
// them gives the unsharded results file byte for byte.
struct MergedShards {
  std::filesystem::path results;  // the shards' common --results path (out/dt.json)
  int shards = 0;
  int limit = 0;
  std::filesystem::path annotations;
  std::vector<ShardRecord> records;  // by shard index
  std::vector<Detection> detections;
  int images = 0;
  std::vector<std::string> failures;  // "<file>: <reason>" of every failed image
  EvalResult eval;
};

// `where`: the shards' --results path (out/dt.json; the file itself need not exist) or a folder
// holding exactly one sharded run. `annotations`: the ground truth; empty: the path the shards
// recorded. Errors name a missing or unreadable shard, shards of different runs (counts,
// limits, selections), and a results file holding images outside its shard.
Result<MergedShards> merge_shards(const std::filesystem::path& where,
                                  const std::filesystem::path& annotations = {});

}  // namespace qdet::coco
