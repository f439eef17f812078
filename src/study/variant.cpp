#include "study/variant.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "base/file.h"
#include "base/paths.h"
#include "bench/bench_model.h"
#include "coco/dataset.h"
#include "coco/model_eval.h"
#include "detect/detector.h"
#include "detect/draw_detections.h"
#include "detect/preset.h"
#include "image/codec.h"
#include "image/resize.h"
#include "quant/quantize.h"
#include "tflite/writer.h"

namespace qdet::study {
namespace {

namespace fs = std::filesystem;

constexpr int kPictureWidth = 480;

// The quantizer's progress is a plain function pointer: a line per stage on stderr.
void quantize_progress(const char* stage, size_t done, size_t total) {
  if (::isatty(STDERR_FILENO)) {
    std::fprintf(stderr, "\r  %s %zu/%zu", stage, done, total);
    if (done == total) std::fprintf(stderr, "\n");
  } else if (done == total) {
    std::fprintf(stderr, "  %s %zu/%zu\n", stage, done, total);
  }
}

}  // namespace

fs::path picture_path(const fs::path& dir, const std::string& mode, int index) {
  return dir / "pictures" / fmt::format("{}_{}.png", mode, index);
}

std::string mode_precision(const std::string& mode) {
  auto m = quant::parse_mode(mode);
  return m.ok() ? quant::mode_info(*m).precision : "?";
}

Status make_variant(const StudyOptions& o, const std::string& mode, report::Record& rec,
                    const Progress& progress) {
  quant::QuantizeOptions q;
  QDET_ASSIGN_OR_RETURN(q.mode, quant::parse_mode(mode));
  q.io = q.mode == quant::Mode::kFloat ? "keep" : "float";
  q.calib_dir = o.calib;
  q.calib_count = o.calib_count;
  q.preset = o.preset;
  q.num_threads = o.threads;
  q.progress = o.quantize_progress ? o.quantize_progress : quantize_progress;
  if (progress) progress(q.mode == quant::Mode::kFloat ? "rewriting the source as float32" : "quantizing");
  QDET_ASSIGN_OR_RETURN(quant::QuantizeOutcome r, quant::quantize_file(o.model, q));
  QDET_ASSIGN_OR_RETURN(auto bytes, tflite::write_tflite(r.model));
  for (const auto& w : r.notes.warnings) rec.notes.push_back(w);
  if (!r.float_ops.empty() && q.mode != quant::Mode::kFloat && q.mode != quant::Mode::kFp16)
    rec.notes.push_back(fmt::format("{} ops kept in float (head-aware quantization)", r.float_ops.size()));
  const fs::path out = variant_model_path(o.output, mode);
  const fs::path sidecar = detect::sidecar_path(o.model);
  std::error_code ec;
  if (fs::exists(sidecar, ec)) {
    QDET_ASSIGN_OR_RETURN(std::string text, read_text_file(sidecar));
    QDET_TRY(write_file_atomic(detect::sidecar_path(out), text));
  }
  QDET_TRY(write_file_atomic(out, bytes));
  rec.model_path = out.string();
  rec.file_bytes = static_cast<int64_t>(bytes.size());
  return ok_status();
}

coco::ModelEvalOptions variant_eval_options(const StudyOptions& o, const std::string& mode) {
  coco::ModelEvalOptions e;
  e.model = variant_model_path(o.output, mode);
  e.images = o.images;
  e.annotations = o.annotations;
  e.results = variant_results_path(o.output, mode);
  e.resume = o.resume;
  e.limit = o.limit;
  e.detector.preset = o.preset;
  e.detector.num_threads = o.threads;
  e.detector.input_shape = o.input_shape;
  return e;
}

std::function<void(const coco::ModelEvalProgress&)> eval_progress_lines(const Progress& progress) {
  return [progress, last_decile = -1](const coco::ModelEvalProgress& p) mutable {
    const int decile = p.total ? 10 * p.done / p.total : 10;
    if (!progress || decile == last_decile) return;
    last_decile = decile;
    const double rate = p.elapsed_s > 0 ? p.done / p.elapsed_s : 0;
    progress(fmt::format("evaluating: {}/{} images ({:.1f} img/s)", p.done, p.total, rate));
  };
}

Status evaluate_variant(const StudyOptions& o, const std::string& mode, report::Record& rec,
                        const Progress& progress) {
  const coco::ModelEvalOptions e = variant_eval_options(o, mode);
  QDET_ASSIGN_OR_RETURN(coco::ModelEvalResult r, coco::evaluate_model(e, eval_progress_lines(progress)));
  rec.coco_stats.assign(r.eval.stats.begin(), r.eval.stats.end());
  rec.per_class_ap.clear();
  for (const auto& c : r.eval.per_category) rec.per_class_ap[c.name] = c.ap;
  rec.eval_images = r.images;
  for (const auto& n : r.notes) rec.notes.push_back(n);
  if (r.failed_images > 0)
    rec.notes.push_back(fmt::format("{} of {} images could not be read", r.failed_images, r.images));
  return ok_status();
}

Status bench_variant(const StudyOptions& o, const std::string& mode, report::Record& rec,
                     const Progress& progress) {
  bench::BenchOptions b;
  b.model = variant_model_path(o.output, mode);
  b.threads = o.threads;
  b.runs = o.runs;
  b.warmup = o.warmup;
  b.energy = o.energy;
  b.input_shape = o.input_shape;
  b.cpu_watts = o.cpu_watts;
  QDET_ASSIGN_OR_RETURN(bench::BenchResult r, bench::bench_model(b, progress));
  report::fill_from_bench(rec, r);
  rec.host = host_name();
  return ok_status();
}

Status draw_variant(const StudyOptions& o, const std::string& mode, const Progress& progress) {
  if (o.pictures <= 0) return ok_status();
  QDET_ASSIGN_OR_RETURN(coco::Dataset gt, coco::load_instances(o.annotations));
  detect::DetectorOptions d;
  d.preset = o.preset;
  d.num_threads = o.threads;
  d.score_threshold = 0.3f;
  d.input_shape = o.input_shape;
  QDET_ASSIGN_OR_RETURN(auto detector, detect::Detector::create(variant_model_path(o.output, mode), d));
  QDET_TRY(ensure_directory(o.output / "pictures"));
  const int n = std::min<int>(o.pictures, static_cast<int>(gt.images.size()));
  if (progress) progress(fmt::format("drawing detections on {} images", n));
  for (int i = 0; i < n; ++i) {
    QDET_ASSIGN_OR_RETURN(image::Image img, image::load_image(o.images / gt.images[i].file_name));
    QDET_ASSIGN_OR_RETURN(detect::DetectResult r, detector->detect(img));
    // Drawn at report size (the labels stay readable when the page shows several side by side).
    const double s = img.width > kPictureWidth ? static_cast<double>(kPictureWidth) / img.width : 1.0;
    const int w = std::max(1, static_cast<int>(std::lround(img.width * s)));
    const int h = std::max(1, static_cast<int>(std::lround(img.height * s)));
    QDET_ASSIGN_OR_RETURN(image::Image small, image::resize_bilinear(img, w, h));
    auto dets = r.detections;
    for (auto& det : dets) {
      det.x0 = static_cast<float>(det.x0 * s);
      det.y0 = static_cast<float>(det.y0 * s);
      det.x1 = static_cast<float>(det.x1 * s);
      det.y1 = static_cast<float>(det.y1 * s);
    }
    QDET_TRY(detect::draw_detections(small, dets, detector->labels()));
    QDET_ASSIGN_OR_RETURN(auto png, image::encode_png(small));
    QDET_TRY(write_file_atomic(picture_path(o.output, mode, i), png));
    QDET_TRY(write_file_atomic(fs::path(picture_path(o.output, mode, i)).replace_extension(".txt"),
                               fmt::format("{} detection{} (score ≥ 0.3), {:.0f} ms", dets.size(),
                                           dets.size() == 1 ? "" : "s", r.inference_ms)));
  }
  return ok_status();
}

}  // namespace qdet::study
