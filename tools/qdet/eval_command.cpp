// qdet eval MODEL --images DIR --annotations JSON: COCO mAP of a detector, pycocotools-exact.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "coco/model_eval.h"
#include "base/json_text.h"
#include "coco/shard.h"
#include "coco/summary.h"
#include "command.h"

namespace qdet::cli {
namespace {

struct EvalArgs {
  coco::ModelEvalOptions options;
  std::string shard;  // "K/N"
  std::string merge;  // the shards' --results path or their folder
  bool json = false;
};

// A bar with rate and ETA on a terminal; a plain line every 10% otherwise.
void show_progress(const coco::ModelEvalProgress& p) {
  static int last_decile = -1;
  const bool tty = ::isatty(STDERR_FILENO);
  double rate = p.elapsed_s > 0 ? p.done / p.elapsed_s : 0;
  double eta = rate > 0 ? (p.total - p.done) / rate : 0;
  if (tty) {
    int width = 30;
    int filled = p.total ? width * p.done / p.total : width;
    std::fprintf(stderr, "\r[%s%s] %d/%d  %.1f img/s  ETA %.0fs ", std::string(filled, '#').c_str(),
                 std::string(width - filled, '.').c_str(), p.done, p.total, rate, eta);
    if (p.done == p.total) std::fprintf(stderr, "\n");
  } else {
    int decile = p.total ? 10 * p.done / p.total : 10;
    if (decile != last_decile) {
      std::fprintf(stderr, "eval: %d/%d images (%.1f img/s, ETA %.0fs)\n", p.done, p.total, rate, eta);
      last_decile = decile;
    }
  }
}

// --merge: every shard's results scored together, as one unsharded run would be.
void run_merge(const EvalArgs& a) {
  auto merged = coco::merge_shards(a.merge, a.options.annotations);
  exit_on_error(merged.status());
  const auto& m = *merged;
  if (!a.options.results.empty()) exit_on_error(coco::write_results(a.options.results, m.detections));
  for (const auto& f : m.failures) std::fprintf(stderr, "qdet: warning: %s (image skipped)\n", f.c_str());
  std::vector<std::string> hosts;
  for (const auto& r : m.records)
    if (std::find(hosts.begin(), hosts.end(), r.host) == hosts.end()) hosts.push_back(r.host);
  if (a.json) {
    auto j = nlohmann::json::parse(coco::eval_result_to_json(m.eval));
    j["images"] = m.images;
    j["failed_images"] = m.failures.size();
    j["failures"] = m.failures;
    j["detections"] = m.detections.size();
    j["shards"] = m.shards;
    j["hosts"] = hosts;
    j["preset"] = m.records.front().preset;
    j["notes"] = m.records.front().notes;
    std::printf("%s\n", j.dump(1).c_str());
    return;
  }
  for (const auto& n : m.records.front().notes) std::printf("note: %s\n", n.c_str());
  std::printf("merged: %d shards of %s (hosts: %s)\nmodel: %s\npreset: %s\nimages: %d (%zu failed), detections: %zu\n",
              m.shards, m.results.c_str(), fmt::format("{}", fmt::join(hosts, ", ")).c_str(),
              m.records.front().model.c_str(), m.records.front().preset.c_str(), m.images, m.failures.size(),
              m.detections.size());
  std::printf("%s\n%s", coco::format_summary(m.eval).c_str(), coco::format_category_table(m.eval).c_str());
  if (!a.options.results.empty()) std::printf("results: %s\n", a.options.results.c_str());
}

void run_eval(EvalArgs& a) {
  if (!a.merge.empty()) {
    if (!a.options.model.empty() || a.options.limit > 0 || a.options.resume)
      exit_on_error(invalid_argument("eval --merge: no MODEL, --limit or --resume (the shards' records say them)"));
    return run_merge(a);
  }
  if (a.options.model.empty()) exit_on_error(invalid_argument("eval: MODEL is required (or --merge)"));
  if (a.options.images.empty()) exit_on_error(invalid_argument("eval: --images is required"));
  if (a.options.annotations.empty()) exit_on_error(invalid_argument("eval: --annotations is required"));
  if (!a.shard.empty()) {
    auto shard = coco::parse_shard(a.shard);
    exit_on_error(shard.status());
    a.options.shard = *shard;
  }
  auto r = coco::evaluate_model(a.options, show_progress);
  exit_on_error(r.status());
  const auto& res = *r;
  for (const auto& f : res.failures) std::fprintf(stderr, "qdet: warning: %s (image skipped)\n", f.c_str());
  double run_images = res.images - res.resumed_images;
  double throughput = res.wall_s > 0 ? run_images / res.wall_s : 0;
  double inference_rate = res.inference_s > 0 ? run_images / res.inference_s : 0;
  if (a.json) {
    auto j = nlohmann::json::parse(coco::eval_result_to_json(res.eval));
    j["images"] = res.images;
    j["failed_images"] = res.failed_images;
    j["failures"] = res.failures;
    j["resumed_images"] = res.resumed_images;
    j["detections"] = res.detections;
    j["preset"] = res.preset;
    j["notes"] = res.notes;
    j["settings"] = {{"score_threshold", res.settings.score_threshold},
                     {"iou_threshold", res.settings.iou_threshold},
                     {"max_detections", res.settings.max_detections},
                     {"multi_label", res.settings.multi_label},
                     {"clip_boxes", res.settings.clip_boxes}};
    j["throughput_img_s"] = throughput;
    j["inference_img_s"] = inference_rate;
    j["wall_s"] = res.wall_s;
    j["batch"] = res.batch;
    std::printf("%s\n", json_text(j, 1).c_str());
    return;
  }
  for (const auto& n : res.notes) std::printf("note: %s\n", n.c_str());
  std::printf("model: %s\npreset: %s\nimages: %d (%d failed, %d resumed), detections: %zu\n",
              a.options.model.c_str(), res.preset.c_str(), res.images, res.failed_images,
              res.resumed_images, res.detections);
  std::printf("%s\n%s", coco::format_summary(res.eval).c_str(),
              coco::format_category_table(res.eval).c_str());
  std::printf("throughput: %.2f img/s end to end, %.2f img/s inside the detector (%.0f%%)%s\n",
              throughput, inference_rate, inference_rate > 0 ? 100 * throughput / inference_rate : 0,
              res.batch > 1 ? fmt::format(", batches of {}", res.batch).c_str() : "");
  if (!res.results.empty()) std::printf("results: %s\n", res.results.c_str());
  if (a.options.shard)
    std::printf("shard: %d of %d (%zu images); record: %s\n", a.options.shard->index, a.options.shard->count,
                res.image_ids.size(), coco::shard_done_path(a.options.results, *a.options.shard).c_str());
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  auto& o = args->options;
  auto* sub = app.add_subcommand("eval", "COCO mAP of a detector over a dataset (pycocotools-exact)");
  sub->add_option("model", o.model, "Model (.tflite)");
  sub->add_option("--images", o.images, "Folder with the annotation file's images");
  sub->add_option("--annotations", o.annotations, "COCO instances JSON (with --merge: default the shards')");
  sub->add_option("--preset", o.detector.preset, "Preprocessing + head preset (default: recognised)");
  sub->add_option("--limit", o.limit, "Evaluate only the first N images of the annotation file");
  sub->add_option("--results", o.results, "Write COCO results here (journal: RESULTS.progress.jsonl)");
  sub->add_option("--sync-every", o.images_per_flush, "Sync the journal every N images (default 8)")
      ->check(CLI::Range(1, 1000000));
  sub->add_flag("--resume", o.resume, "Continue an interrupted run from its journal");
  sub->add_option("--shard", args->shard,
                  "Evaluate part K of N (K from 0) of the images, split by sorted image id; writes "
                  "RESULTS' shard file and record (.shard-K-of-N.json, .done)");
  sub->add_option("--merge", args->merge,
                  "Score finished shards together (PATH: the shards' --results, or their folder); "
                  "--results then writes the merged results")
      ->excludes("--shard");
  sub->add_option("--threads", o.detector.num_threads, "Interpreter threads")->check(CLI::Range(1, 256));
  // Post-processing defaults come from the preset's eval settings (the model's own project's
  // evaluation); each option overrides one.
  sub->add_option_function<float>(
      "--score", [args](float v) { args->options.score_threshold = v; },
      "Score threshold (default: the preset's evaluation setting, e.g. 0.001)")
      ->check(unit_interval());
  sub->add_option_function<float>(
      "--iou", [args](float v) { args->options.iou_threshold = v; },
      "NMS IoU threshold (default: the preset's evaluation setting)")
      ->check(unit_interval());
  sub->add_option_function<int>(
         "--max-dets", [args](int v) { args->options.max_detections = v; },
         "Detections kept per image after NMS, 0: no limit (default: the preset's)")
      ->check(CLI::Range(0, 1000000));
  sub->add_option_function<bool>(
      "--multi-label", [args](bool v) { args->options.multi_label = v; },
      "Every class above the threshold gives a box (true/false; default: the preset's)");
  sub->add_option_function<bool>(
      "--clip", [args](bool v) { args->options.clip_boxes = v; },
      "Clip boxes to the image (true/false; default: the preset's)");
  sub->add_flag("--keep-postprocess,--ssd-as-shipped", o.keep_postprocess,
                "Keep TFLite_Detection_PostProcess's shipped limits (the SSD's 10 boxes) and take "
                "its outputs as they are");
  add_input_shape_options(sub, o.detector.input_shape, /*with_batch=*/true);
  sub->add_flag("--json", args->json, "Print one JSON object");
  sub->callback([args] { run_eval(*args); });
}

}  // namespace qdet::cli
