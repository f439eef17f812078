// qdet coco-eval: score a COCO results file against an instances file, as pycocotools does.
#include <cstdio>
#include <string>

#include "base/log.h"
#include "base/timer.h"
#include "coco/dataset.h"
#include "coco/evaluator.h"
#include "coco/results.h"
#include "coco/summary.h"
#include "command.h"

namespace qdet::cli {
namespace {

struct CocoEvalFlags {
  std::string annotations;
  std::vector<std::string> results;  // one or more files (e.g. the shards of one run)
  bool json = false;
  bool arrays = false;
  bool drop_unknown_categories = false;
  bool use_ignore_flag = false;
  bool only_result_images = false;
  int threads = 0;
};

Status run_coco_eval(const CocoEvalFlags& f) {
  int64_t t0 = now_ns();
  QDET_ASSIGN_OR_RETURN(coco::Dataset gt, coco::load_instances(f.annotations));
  int64_t t1 = now_ns();
  std::vector<coco::Detection> dets;
  for (const auto& file : f.results) {
    QDET_ASSIGN_OR_RETURN(std::vector<coco::Detection> part, coco::load_results(file));
    dets.insert(dets.end(), part.begin(), part.end());
  }
  int64_t t2 = now_ns();
  log_info("coco-eval: {} images, {} annotations, {} categories loaded in {:.3f} s; {} detections "
           "in {:.3f} s", gt.images.size(), gt.annotations.size(), gt.categories.size(),
           (t1 - t0) * 1e-9, dets.size(), (t2 - t1) * 1e-9);
  coco::EvalOptions options;
  options.threads = f.threads;
  options.use_ignore_flag = f.use_ignore_flag;
  options.unknown_categories =
      f.drop_unknown_categories ? coco::UnknownCategory::kDrop : coco::UnknownCategory::kError;
  if (f.only_result_images) {
    for (const coco::Detection& d : dets) options.image_ids.push_back(d.image_id);
    if (options.image_ids.empty()) return invalid_argument("{}: no detections", fmt::join(f.results, ", "));
  }
  QDET_ASSIGN_OR_RETURN(coco::CocoEvaluator ev, coco::CocoEvaluator::create(gt, options));
  Status added = ev.add(dets);
  if (!added.ok()) return added.with_context(fmt::format("{}", fmt::join(f.results, ", ")));
  if (ev.num_dropped() > 0)
    log_warn("coco-eval: dropped {} detections of categories not in {}", ev.num_dropped(),
             f.annotations);
  QDET_ASSIGN_OR_RETURN(coco::EvalResult result, ev.evaluate());
  log_info("coco-eval: evaluated {} images in {:.3f} s", result.image_ids.size(),
           (now_ns() - t2) * 1e-9);
  if (f.json || f.arrays) {
    std::fputs(coco::eval_result_to_json(result, f.arrays).c_str(), stdout);
  } else {
    std::fputs(coco::format_summary(result).c_str(), stdout);
    std::fputs("\n", stdout);
    std::fputs(coco::format_category_table(result).c_str(), stdout);
  }
  return ok_status();
}

}  // namespace

void add_coco_eval_command(CLI::App& app) {
  auto flags = std::make_shared<CocoEvalFlags>();
  auto* sub = app.add_subcommand(
      "coco-eval", "Score a COCO results file (bbox) against an instances file, as pycocotools");
  sub->add_option("--annotations,-a", flags->annotations, "Ground truth (instances_*.json)")
      ->required();
  sub->add_option("--results,-r", flags->results,
                  "Detections: a COCO results list, or a dataset dict whose 'annotations' hold them; "
                  "several files are scored as one (e.g. the shards of `qdet eval --shard`)")
      ->required();
  sub->add_flag("--json", flags->json, "Print the 12 numbers and per-category AP as JSON");
  sub->add_flag("--arrays", flags->arrays,
                "Print JSON with the precision [T][R][K][A][M], recall [T][K][A][M] and scores [T][R][K][A][M] arrays (for plots)");
  sub->add_flag("--drop-unknown-categories", flags->drop_unknown_categories,
                "Drop detections whose category is not in the annotations (pycocotools does this "
                "silently); by default they are an error");
  sub->add_flag("--use-ignore-flag", flags->use_ignore_flag,
                "Also ignore annotations with \"ignore\": 1 (pycocotools only uses iscrowd)");
  sub->add_flag("--only-result-images", flags->only_result_images,
                "Evaluate only the images that have detections (pycocotools evaluates every image "
                "of the annotations)");
  sub->add_option("--threads,-j", flags->threads, "Threads (0 = all cores; same numbers for any)")
      ->capture_default_str();
  sub->callback([flags] { exit_on_error(run_coco_eval(*flags)); });
}

}  // namespace qdet::cli
