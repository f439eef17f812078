// One variant of the study: make it (quantizer), evaluate it (COCO), benchmark it, draw it.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "base/status.h"
#include "coco/model_eval.h"
#include "report/record.h"
#include "study/study.h"

namespace qdet::study {

using Progress = std::function<void(const std::string&)>;

// The weights / activations precision a mode produces ("int8 / int8").
std::string mode_precision(const std::string& mode);

// Writes MODE.tflite (and its sidecar) in options.output; notes go to record.
Status make_variant(const StudyOptions& options, const std::string& mode, report::Record& record,
                    const Progress& progress);
// qdet eval's options for the variant MODE.tflite, results to MODE.results.json.
coco::ModelEvalOptions variant_eval_options(const StudyOptions& options, const std::string& mode);
// Progress lines at every tenth of the images ("evaluating: 70/139 images (9.1 img/s)").
std::function<void(const coco::ModelEvalProgress&)> eval_progress_lines(const Progress& progress);
Status evaluate_variant(const StudyOptions& options, const std::string& mode, report::Record& record,
                        const Progress& progress);
Status bench_variant(const StudyOptions& options, const std::string& mode, report::Record& record,
                     const Progress& progress);
// pictures/MODE_N.png for the first options.pictures images of the annotation file.
Status draw_variant(const StudyOptions& options, const std::string& mode, const Progress& progress);
std::filesystem::path picture_path(const std::filesystem::path& dir, const std::string& mode, int index);

}  // namespace qdet::study
