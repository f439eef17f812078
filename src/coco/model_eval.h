// COCO evaluation of a detector over a dataset: `qdet eval`'s engine, also used by `qdet study`.
//
// Every image of the annotation file (or the first `limit`; with a shard, its part of them) is
// decoded on a second thread while the model runs on the current one, detections go to the
// evaluator and, image by image, to the ResultsWriter's journal (`<results>.progress.jsonl`, one JSON line per finished image, synced
// every few images). An interrupted run resumed with `resume` reads the journal and skips the
// finished images, so killing and resuming gives the same numbers. At the end the results file
// is written atomically and the journal removed. A corrupt or missing image is reported and
// counted (also across a resume), not fatal.
//
// Post-processing follows the model's own project's evaluation (the preset's EvalSettings: e.g.
// YOLOX conf 0.001 / NMS 0.65 / no per-image cap / unclipped, YOLOv5 val.py multi-label / NMS 0.6
// / 300 / clipped); the options below override single settings.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "coco/evaluator.h"
#include "coco/shard.h"
#include "detect/detector.h"

namespace qdet::coco {

struct ModelEvalOptions {
  std::filesystem::path model;
  std::filesystem::path images;       // folder holding the annotation file's file_name entries
  std::filesystem::path annotations;  // instances JSON
  std::filesystem::path results;      // COCO results output; empty: not written (no resume)
  bool resume = false;
  int limit = 0;                      // 0: every image
  detect::DetectorOptions detector;   // preset, threads, sidecar, labels, fast kernels, input
                                      // shape and batch (images per invoke)
  // Overrides of the preset's EvalSettings (unset: the preset's).
  std::optional<float> score_threshold;
  std::optional<float> iou_threshold;
  std::optional<int> max_detections;  // per image; 0: no limit
  std::optional<bool> multi_label;
  std::optional<bool> clip_boxes;
  // Models with TFLite_Detection_PostProcess: keep its shipped limits (e.g. the SSD's 10 boxes
  // per image) instead of raising them; the score floor is then 0 unless score_threshold is set.
  bool keep_postprocess = false;
  size_t images_per_flush = 8;        // journal sync interval
  // Evaluate only this shard's part of the selected images (coco/shard.h). Needs `results`: the
  // shard writes shard_results_path(results) and, last, its record shard_done_path(results).
  // With `resume`, a shard whose record exists is read back instead of run again.
  std::optional<Shard> shard;
};

struct ModelEvalProgress {
  int done = 0, total = 0;
  double elapsed_s = 0;
};

struct ModelEvalResult {
  EvalResult eval;
  int images = 0;              // images evaluated (finished, including failed ones)
  int failed_images = 0;       // unreadable images (counted, no detections)
  std::vector<std::string> failures;  // "<file>: <reason>"
  int resumed_images = 0;      // taken from the journal
  size_t detections = 0;
  double wall_s = 0;           // this run's loop, resumed images excluded
  double inference_s = 0;      // time inside the detector (preprocess + invoke + head)
  double invoke_s = 0;         // time inside the interpreter only
  // Per image run (failed images excluded), for percentiles; with a batch, each image's share
  // of its invoke (the invoke's time / the images in it).
  std::vector<double> invoke_ms;
  int batch = 1;               // images per invoke (detector batch size)
  std::string preset;          // preset name and where it came from
  detect::EvalSettings settings;   // the post-processing used (overrides applied)
  std::vector<std::string> notes;  // the settings' source, the SSD's post-processing limits raised
  std::filesystem::path results;   // the results file written (a shard's own name when sharded)
  std::vector<int64_t> image_ids;  // the images evaluated, ascending
};

Result<ModelEvalResult> evaluate_model(const ModelEvalOptions& options,
                                       const std::function<void(const ModelEvalProgress&)>& progress = {});

}  // namespace qdet::coco
