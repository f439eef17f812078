// COCOeval for boxes with pycocotools' exact rules (cocoeval.py + maskApi.c bbIou), fast:
// flat IoU matrices per (image, category), per-detection bit masks over IoU thresholds, and
// one stable sort by score per category. Threads split images, then categories; the numbers
// do not depend on the thread count.
//
// Incremental use (what `qdet eval` does): create an evaluator from the ground truth, add each
// image's detections as they are produced, evaluate at the end.
//
//   QDET_ASSIGN_OR_RETURN(auto ev, CocoEvaluator::create(gt));
//   for (...) QDET_TRY(ev.add_image(image_id, detections_of_that_image));
//   QDET_ASSIGN_OR_RETURN(EvalResult r, ev.evaluate());
//   r.stats[0]  // AP @[.50:.95], all areas, 100 detections
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "coco/dataset.h"
#include "coco/eval_params.h"
#include "coco/results.h"

namespace qdet::coco {

enum class UnknownCategory {
  kError,  // a detection whose category_id is not in the ground truth's categories is an error
  kDrop,   // ... is dropped, as pycocotools does silently
};

struct EvalOptions {
  EvalParams params = EvalParams::coco_defaults();
  // Worker threads for evaluate(); 0 = one per hardware thread. Same numbers for any count.
  int threads = 1;
  UnknownCategory unknown_categories = UnknownCategory::kError;
  // pycocotools overwrites an annotation's `ignore` with `iscrowd` before evaluating, so the
  // `ignore` field has no effect there. true: an annotation is ignored when either is set (it
  // still matches at most one detection unless it is a crowd).
  bool use_ignore_flag = false;
  // Evaluate only these images (pycocotools' params.imgIds); empty = every image of the ground
  // truth. Each must be an image of the ground truth.
  std::vector<int64_t> image_ids;
};

// Summary statistic order (pycocotools' stats).
enum Stat : int {
  kAP = 0, kAP50, kAP75, kAPSmall, kAPMedium, kAPLarge,
  kAR1, kAR10, kAR100, kARSmall, kARMedium, kARLarge, kNumStats
};
// "AP", "AP50", ..., "ARl".
const char* stat_name(int stat);

struct CategoryResult {
  int64_t id = 0;
  std::string name;
  double ap = -1;    // mean precision over IoU .50:.95 and recall, area all, maxDets last; -1: no GT
  double ap50 = -1;  // the same at IoU .50
  int64_t num_gt = 0;          // non-crowd (non-ignored) ground truth in the evaluated images
  int64_t num_detections = 0;  // detections of this category in the evaluated images
};

struct EvalResult {
  EvalParams params;
  std::vector<int64_t> category_ids;  // K, ascending (pycocotools' params.catIds)
  std::vector<int64_t> image_ids;     // I evaluated images, ascending
  // Dimensions as in pycocotools' eval dict, row-major; -1 where a category has no ground truth
  // in an area range.
  size_t T = 0, R = 0, K = 0, A = 0, M = 0;
  std::vector<double> precision;  // [T][R][K][A][M]
  std::vector<double> recall;     // [T][K][A][M]
  std::vector<double> scores;     // [T][R][K][A][M]: score at which each recall point is reached
  std::array<double, kNumStats> stats{};
  std::vector<CategoryResult> per_category;  // in category_ids order

  double precision_at(size_t t, size_t r, size_t k, size_t a, size_t m) const {
    return precision[(((t * R + r) * K + k) * A + a) * M + m];
  }
  double recall_at(size_t t, size_t k, size_t a, size_t m) const {
    return recall[((t * K + k) * A + a) * M + m];
  }
};

class CocoEvaluator {
 public:
  // `gt` must outlive the evaluator.
  static Result<CocoEvaluator> create(const Dataset& gt, EvalOptions options = {});
  CocoEvaluator(CocoEvaluator&&) noexcept;
  CocoEvaluator& operator=(CocoEvaluator&&) noexcept;
  ~CocoEvaluator();

  // Adds detections of any images, in any order. Within an image, detections keep the order
  // they were added in (it breaks score ties, as the order in a results file does).
  // Errors: an image_id not in the ground truth (pycocotools: "Results do not correspond to
  // current coco set"), an unknown category_id (unless dropped by the options), a box or score
  // that validate_detection refuses. Nothing is added when an error is returned.
  Status add(std::span<const Detection> detections);
  // Adds one image's detections (all must carry `image_id`) and records the image as processed,
  // also when it has none.
  Status add_image(int64_t image_id, std::span<const Detection> detections);
  // Images passed to add_image, in the order they were added.
  const std::vector<int64_t>& processed_images() const;
  size_t num_detections() const;
  size_t num_dropped() const;  // detections of unknown categories dropped (UnknownCategory::kDrop)

  // Runs the evaluation over everything added so far (evaluate + accumulate + summarize).
  Result<EvalResult> evaluate() const;

 private:
  struct State;
  explicit CocoEvaluator(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// One call: evaluate `detections` against `gt`.
Result<EvalResult> evaluate_detections(const Dataset& gt, std::span<const Detection> detections,
                                       EvalOptions options = {});

// The mean of the values > -1 as numpy computes it (pairwise summation in 8192-value blocks,
// then one division); -1 when there are none. Exposed for tests.
double numpy_mean_of_valid(std::span<const double> values);

}  // namespace qdet::coco
