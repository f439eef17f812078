// Internal to src/coco: pycocotools' accumulate() for one category.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "coco/eval_params.h"
#include "coco/image_eval.h"

namespace qdet::coco::detail {

// The detections of one category over all evaluated images, sorted by score, highest first,
// with a stable sort of their concatenation in image order (pycocotools: np.argsort(-scores,
// kind='mergesort')). rank = position within its image after the per-image score sort;
// masks as evaluate_image_category writes them (2 per area range).
struct SortedDetections {
  std::span<const double> scores;
  std::span<const uint16_t> ranks;
  std::span<const uint16_t> masks;
};

struct AccumulateScratch {
  std::vector<double> pr[kMaxIouThresholds];     // precision at each true positive
  std::vector<double> score[kMaxIouThresholds];  // score of each true positive
};

// Fills precision[t][r][k][a][m], recall[t][k][a][m] and scores[t][r][k][a][m] of category k
// (arrays of K categories). npig[a]: non-ignored ground truth of the category in area range a;
// where it is 0 the entries are left untouched (pycocotools leaves -1).
void accumulate_category(const SortedDetections& dets, std::span<const int64_t> npig,
                         const EvalParams& params, size_t k, size_t K, double* precision,
                         double* recall, double* scores, AccumulateScratch& scratch);

// numpy's float64 sum: pairwise summation (8 accumulators below 128 values) within blocks of
// 8192 values (its buffer size), blocks added in order.
double numpy_sum(std::span<const double> values);

}  // namespace qdet::coco::detail
