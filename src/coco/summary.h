// Printers over an EvalResult: pycocotools' summarize() text, a per-category table, JSON.
#pragma once

#include <string>

#include "coco/evaluator.h"

namespace qdet::coco {

// The 12 lines of pycocotools' summarize(), character for character, e.g.
//  " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.505"
std::string format_summary(const EvalResult& result);

// One row per category: id, name, AP, AP50, ground truth and detection counts; "-" for a
// category without ground truth.
std::string format_category_table(const EvalResult& result);

// {"stats": [12 numbers], "stat_names": [...], "per_category": {"person": {"id": 1, "AP": ..,
//  "AP50": .., "num_gt": .., "num_detections": ..}, ...}}; a category without ground truth has
// AP and AP50 -1. with_arrays adds "precision" [T][R][K][A][M] and "recall" [T][K][A][M] as
// nested lists plus the parameters, for plots, and "scores" [T][R][K][A][M].
std::string eval_result_to_json(const EvalResult& result, bool with_arrays = false);

}  // namespace qdet::coco
