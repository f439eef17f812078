// COCO evaluation of a detector over a dataset: `qdet eval`'s engine, also used by `qdet study`.
//
// Every image of the annotation file (or the first `limit`) is decoded on a second thread while
// the model runs on the current one, detections go to the evaluator and, image by image, to a
// journal (`<results>.partial`, one JSON line per finished image, flushed to disk every few
// images). An interrupted run resumed with `resume` reads the journal and skips the finished
// images, so killing and resuming gives the same numbers. At the end the results file is written
// atomically and the journal removed. A corrupt or missing image is reported and counted, not fatal.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "coco/evaluator.h"
#include "detect/detector.h"

namespace qdet::coco {

struct ModelEvalOptions {
  std::filesystem::path model;
  std::filesystem::path images;       // folder holding the annotation file's file_name entries
  std::filesystem::path annotations;  // instances JSON
  std::filesystem::path results;      // COCO results output; empty: not written (no resume)
  bool resume = false;
  int limit = 0;                      // 0: every image
  detect::DetectorOptions detector;   // preset, threads, ...; thresholds default to COCO's below
  float score_threshold = 0.001f;
  int max_detections = 100;
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
  std::string preset;          // preset name and where it came from
  std::vector<std::string> notes;  // e.g. the SSD's post-processing limits raised
};

Result<ModelEvalResult> evaluate_model(const ModelEvalOptions& options,
                                       const std::function<void(const ModelEvalProgress&)>& progress = {});

}  // namespace qdet::coco
