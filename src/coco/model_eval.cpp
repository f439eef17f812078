#include "coco/model_eval.h"

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>
#include <thread>

#include "base/file.h"
#include "base/paths.h"
#include "base/timer.h"
#include "coco/results_writer.h"
#include "coco/shard.h"
#include "detect/labels.h"
#include "detect/preset.h"
#include "detect/resolve_preset.h"
#include "image/codec.h"
#include "runtime/detection_postprocess_params.h"
#include "tflite/reader.h"

namespace qdet::coco {
namespace {

namespace fs = std::filesystem;

// The SSD's TFLite_Detection_PostProcess keeps 10 boxes with its shipped options; COCO
// evaluation counts up to 100 per image, so raise the limit (and lower the score floor) there.
Status raise_postprocess_limits(graph::Graph& graph, int max_detections, float score_threshold,
                                std::vector<std::string>* notes) {
  if (max_detections <= 0) return ok_status();
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    if (graph.ops[i].kind != graph::OpKind::kDetectionPostProcess) continue;
    QDET_ASSIGN_OR_RETURN(auto params, rt::DetectionPostProcessParams::parse(graph.ops[i].custom_options));
    auto before = params;
    params.max_detections = std::max(params.max_detections, max_detections);
    params.detections_per_class = std::max(params.detections_per_class, max_detections);
    params.nms_score_threshold = std::min(params.nms_score_threshold, score_threshold);
    if (params.max_detections == before.max_detections &&
        params.nms_score_threshold == before.nms_score_threshold)
      continue;
    QDET_TRY(rt::set_detection_postprocess_params(graph, i, params));
    notes->push_back(fmt::format(
        "TFLite_Detection_PostProcess: max_detections {} -> {}, score threshold {:g} -> {:g} "
        "(COCO counts up to {} detections per image)",
        before.max_detections, params.max_detections, before.nms_score_threshold,
        params.nms_score_threshold, max_detections));
  }
  return ok_status();
}

// Category id of a detection's class: COCO-80 index for COCO label sets, else by name.
Result<std::vector<int64_t>> class_to_category(const std::vector<std::string>& labels,
                                               const Dataset& gt) {
  std::vector<int64_t> map;
  bool coco80 = labels.size() == 80;
  for (int i = 0; coco80 && i < 80; ++i) coco80 = labels[i] == detect::coco80_names()[i];
  if (coco80) {
    for (int i = 0; i < 80; ++i) map.push_back(detect::coco80_to_id(i));
    return map;
  }
  for (const auto& name : labels) {
    int64_t id = -1;
    for (const auto& c : gt.categories)
      if (c.name == name) id = c.id;
    map.push_back(id);
  }
  return map;
}

struct Decoded {
  size_t index;
  Result<image::Image> image;
};

// Decodes images ahead of the model on one thread, at most `depth` waiting.
class Prefetcher {
 public:
  Prefetcher(std::vector<fs::path> files, size_t depth) : files_(std::move(files)), depth_(depth) {
    worker_ = std::thread([this] { run(); });
  }
  ~Prefetcher() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
  Decoded next() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !queue_.empty(); });
    Decoded d = std::move(queue_.front());
    queue_.pop_front();
    cv_.notify_all();
    return d;
  }

 private:
  void run() {
    for (size_t i = 0; i < files_.size(); ++i) {
      auto img = image::load_image(files_[i]);
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || queue_.size() < depth_; });
      if (stop_) return;
      queue_.push_back(Decoded{i, std::move(img)});
      cv_.notify_all();
    }
  }
  std::vector<fs::path> files_;
  size_t depth_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Decoded> queue_;
  bool stop_ = false;
  std::thread worker_;
};

// The preset's post-processing with the options' overrides: recorded in `out` (settings,
// notes), applied to `preset` and to the model's TFLite_Detection_PostProcess.
Status apply_eval_settings(const ModelEvalOptions& options, graph::Graph& graph, detect::Preset& preset,
                           ModelEvalResult& out) {
  detect::EvalSettings& es = out.settings;
  es = preset.eval;
  if (options.keep_postprocess) {
    es.postprocess_max_detections = 0;
    es.score_threshold = 0.f;
    es.source = "the model's TFLite_Detection_PostProcess as shipped: every box it outputs";
  }
  if (options.score_threshold) es.score_threshold = *options.score_threshold;
  if (options.iou_threshold) es.iou_threshold = *options.iou_threshold;
  if (options.max_detections) es.max_detections = *options.max_detections;
  if (options.multi_label) es.multi_label = *options.multi_label;
  if (options.clip_boxes) es.clip_boxes = *options.clip_boxes;
  if (!es.source.empty()) out.notes.push_back("post-processing: " + es.source);
  QDET_TRY(raise_postprocess_limits(graph, es.postprocess_max_detections, es.score_threshold, &out.notes));
  preset.score_threshold = es.score_threshold;
  preset.iou_threshold = es.iou_threshold;
  preset.max_detections = es.max_detections;
  preset.multi_label = es.multi_label;
  preset.clip_boxes = es.clip_boxes;
  return ok_status();
}

struct ModelDetector {
  std::unique_ptr<detect::Detector> detector;
  std::vector<int64_t> class_map;  // detector class -> COCO category id; -1: not annotated
};

// The model with its preset and post-processing, as a detector.
Result<ModelDetector> open_detector(const ModelEvalOptions& options, const Dataset& gt, ModelEvalResult& out) {
  QDET_ASSIGN_OR_RETURN(graph::Model model, tflite::load_tflite(options.model));
  QDET_ASSIGN_OR_RETURN(detect::ResolvedPreset resolved,
                        detect::resolve_preset(options.model, model.graph, options.detector.preset,
                                               options.detector.sidecar));
  detect::Preset preset = std::move(resolved.preset);
  QDET_TRY(apply_eval_settings(options, model.graph, preset, out));
  out.preset = fmt::format("{} ({})", preset.name, resolved.source);
  detect::DetectorOptions dopt = options.detector;
  dopt.score_threshold.reset();
  dopt.iou_threshold.reset();
  dopt.max_detections.reset();
  auto graph = std::make_shared<const graph::Graph>(std::move(model.graph));
  ModelDetector md;
  QDET_ASSIGN_OR_RETURN(md.detector, detect::Detector::create(graph, preset, dopt));
  out.batch = md.detector->batch_size();
  if (!dopt.input_shape.empty())
    out.notes.push_back(fmt::format("input resized to {}x{}, {} image{} per invoke",
                                    md.detector->input_format().width, md.detector->input_format().height,
                                    out.batch, out.batch == 1 ? "" : "s"));
  QDET_ASSIGN_OR_RETURN(md.class_map, class_to_category(md.detector->labels(), gt));
  return md;
}

struct Selection {
  std::vector<const ImageInfo*> all;   // the images selected (annotation file order, limit)
  std::vector<const ImageInfo*> todo;  // this shard's part of them; all of them unsharded
};

// Images in the annotation file's order (this shard's part of them). Sets the results path
// and the image ids of `out`.
Result<Selection> select_images_to_run(const ModelEvalOptions& options, const Dataset& gt,
                                       ModelEvalResult& out) {
  Selection sel;
  sel.all = select_images(gt, options.limit);
  sel.todo = sel.all;
  out.results = options.results;
  if (options.shard) {
    std::vector<int64_t> ids;
    for (const auto* im : sel.all) ids.push_back(im->id);
    const std::vector<int64_t> mine = shard_image_ids(std::move(ids), *options.shard);
    if (mine.empty())
      return invalid_argument("--shard {}/{}: no images in this shard ({} images selected)", options.shard->index,
                              options.shard->count, sel.all.size());
    const std::set<int64_t> part(mine.begin(), mine.end());
    sel.todo.clear();
    for (const auto* im : sel.all)
      if (part.count(im->id)) sel.todo.push_back(im);
    out.results = shard_results_path(options.results, *options.shard);
  }
  for (const auto* im : sel.todo) out.image_ids.push_back(im->id);
  std::sort(out.image_ids.begin(), out.image_ids.end());
  return sel;
}

ShardRecord start_shard_record(const ModelEvalOptions& options, const Selection& sel,
                               const ModelEvalResult& out) {
  ShardRecord record;
  record.shard = *options.shard;
  record.annotations = options.annotations.string();
  record.limit = options.limit;
  record.selected_images = static_cast<int>(sel.all.size());
  record.image_ids = out.image_ids;
  record.results = out.results.filename().string();
  record.model = options.model.string();
  record.preset = out.preset;
  record.host = host_name();
  record.notes = out.notes;
  return record;
}

// A finished shard (its record `done` names the same images): its results file is the record
// of its detections, read back into the evaluator and `out`. False when it is not finished.
Result<bool> read_finished_shard(const fs::path& done, const std::vector<const ImageInfo*>& todo,
                                 CocoEvaluator& evaluator, ModelEvalResult& out) {
  std::error_code ec;
  if (!fs::exists(done, ec)) return false;
  auto text = read_text_file(done);
  auto old = text.ok() ? parse_shard_record(*text, done.string()) : Result<ShardRecord>(text.status());
  auto dets = load_results(out.results);
  if (!old.ok() || !dets.ok() || old->image_ids != out.image_ids) return false;
  std::unordered_map<int64_t, std::vector<Detection>> by_image;
  for (const Detection& d : *dets) by_image[d.image_id].push_back(d);
  for (const auto* im : todo) QDET_TRY(evaluator.add_image(im->id, by_image[im->id]));
  for (const auto& [id, why] : old->failed) out.failures.push_back(why);
  out.failed_images = static_cast<int>(old->failed.size());
  out.resumed_images = out.images = static_cast<int>(todo.size());
  out.detections = evaluator.num_detections();
  QDET_ASSIGN_OR_RETURN(out.eval, evaluator.evaluate());
  return true;
}

// The results writer (none without a results path). With `resume`, the journal's finished
// images, as far as this run selects them, go to the evaluator again (detections in journal order).
Result<std::optional<ResultsWriter>> open_results_writer(const ModelEvalOptions& options,
                                                         const std::vector<int64_t>& image_ids,
                                                         CocoEvaluator& evaluator, ModelEvalResult& out) {
  std::optional<ResultsWriter> writer;
  if (out.results.empty()) return writer;
  ResultsWriter::Options wo;
  wo.images_per_flush = std::max<size_t>(1, options.images_per_flush);
  QDET_ASSIGN_OR_RETURN(ResultsWriter w, ResultsWriter::open(out.results, options.resume, wo));
  writer.emplace(std::move(w));
  if (!options.resume) return writer;
  const std::set<int64_t> selected(image_ids.begin(), image_ids.end());
  std::unordered_map<int64_t, std::vector<Detection>> by_image;
  for (const Detection& d : writer->detections()) by_image[d.image_id].push_back(d);
  std::unordered_map<int64_t, std::string> errors(writer->failed_images().begin(), writer->failed_images().end());
  for (int64_t id : writer->finished_images()) {
    if (!selected.count(id)) continue;
    QDET_TRY(evaluator.add_image(id, by_image[id]));
    if (auto it = errors.find(id); it != errors.end()) {
      ++out.failed_images;
      out.failures.push_back(it->second);
    }
    ++out.resumed_images;
  }
  return writer;
}

// The detector's boxes as COCO results, classes the annotations do not have left out.
std::vector<Detection> to_coco_results(const detect::DetectResult& r, int64_t image_id,
                                       const std::vector<int64_t>& class_map) {
  std::vector<Detection> dets;
  for (const auto& det : r.detections) {
    if (det.class_id < 0 || static_cast<size_t>(det.class_id) >= class_map.size() || class_map[det.class_id] < 0)
      continue;
    Detection c;
    c.image_id = image_id;
    c.category_id = class_map[det.class_id];
    c.bbox = {det.x0, det.y0, det.x1 - det.x0, det.y1 - det.y0};
    c.score = det.score;
    dets.push_back(c);
  }
  return dets;
}

// Runs the detector over the images of `todo` the writer has not finished, batch_size()
// images per invoke (the last batch may be partial), decoding ahead on a second thread.
// Results are recorded image by image in file order, so the journal and a resume work as for one.
Status run_images(const ModelEvalOptions& options, const std::vector<const ImageInfo*>& todo, ModelDetector& md,
                  CocoEvaluator& evaluator, ResultsWriter* writer,
                  const std::function<void(const ModelEvalProgress&)>& progress, ModelEvalResult& out) {
  std::vector<const ImageInfo*> pending;
  std::vector<fs::path> files;
  for (const auto* im : todo) {
    if (writer && writer->is_finished(im->id)) continue;
    pending.push_back(im);
    files.push_back(options.images / im->file_name);
  }
  const int64_t t0 = now_ns();
  ModelEvalProgress p{out.resumed_images, static_cast<int>(todo.size()), 0};
  if (progress) progress(p);
  const size_t batch = static_cast<size_t>(md.detector->batch_size());
  Prefetcher prefetch(files, std::max<size_t>(4, 2 * batch));
  for (size_t n = 0; n < pending.size();) {
    std::vector<Decoded> group;
    while (group.size() < batch && n + group.size() < pending.size()) group.push_back(prefetch.next());
    std::vector<const image::Image*> readable;
    for (const Decoded& d : group)
      if (d.image.ok()) readable.push_back(&*d.image);
    std::vector<detect::DetectResult> results;
    if (!readable.empty()) {
      const int64_t ti = now_ns();
      auto r = md.detector->detect_batch(readable);
      out.inference_s += static_cast<double>(now_ns() - ti) * 1e-9;
      if (!r.ok()) return r.status().with_context(files[group.front().index].string());
      results = std::move(*r);
    }
    size_t next_result = 0;
    for (const Decoded& d : group) {
      const ImageInfo& info = *pending[d.index];
      std::vector<Detection> dets;
      std::string error;
      if (!d.image.ok()) {
        error = d.image.status().message();
      } else {
        const detect::DetectResult& r = results[next_result++];
        out.invoke_s += r.inference_ms * 1e-3;
        out.invoke_ms.push_back(r.inference_ms);
        dets = to_coco_results(r, info.id, md.class_map);
      }
      if (!error.empty()) {
        ++out.failed_images;
        out.failures.push_back(error);
      }
      QDET_TRY(evaluator.add_image(info.id, dets));
      if (writer) QDET_TRY(error.empty() ? writer->add_image(info.id, dets) : writer->add_failed_image(info.id, error));
      ++n;
      p.done = out.resumed_images + static_cast<int>(n);
      p.elapsed_s = static_cast<double>(now_ns() - t0) * 1e-9;
      if (progress) progress(p);
    }
  }
  out.wall_s = static_cast<double>(now_ns() - t0) * 1e-9;
  return ok_status();
}

}  // namespace

Result<ModelEvalResult> evaluate_model(const ModelEvalOptions& options,
                                       const std::function<void(const ModelEvalProgress&)>& progress) {
  ModelEvalResult out;
  QDET_ASSIGN_OR_RETURN(Dataset gt, load_instances(options.annotations));
  std::error_code ec;
  if (!fs::is_directory(options.images, ec))
    return not_found("{}: image folder not found", options.images.string());
  if (options.resume && options.results.empty())
    return invalid_argument("--resume needs --results (the journal lives beside the results file)");
  if (options.shard && options.results.empty())
    return invalid_argument("--shard needs --results (each shard writes its own results file and record)");

  QDET_ASSIGN_OR_RETURN(ModelDetector md, open_detector(options, gt, out));
  QDET_ASSIGN_OR_RETURN(const Selection sel, select_images_to_run(options, gt, out));
  EvalOptions eval_options;
  if (options.limit > 0 || options.shard)  // pycocotools' params.imgIds: only these images count
    eval_options.image_ids = out.image_ids;
  QDET_ASSIGN_OR_RETURN(CocoEvaluator evaluator, CocoEvaluator::create(gt, eval_options));

  ShardRecord record;
  fs::path done;
  if (options.shard) {
    done = shard_done_path(options.results, *options.shard);
    record = start_shard_record(options, sel, out);
    if (options.resume) {
      QDET_ASSIGN_OR_RETURN(const bool finished, read_finished_shard(done, sel.todo, evaluator, out));
      if (finished) return out;
    }
    fs::remove(done, ec);  // not finished until its new record is written
  }

  QDET_ASSIGN_OR_RETURN(std::optional<ResultsWriter> writer,
                        open_results_writer(options, out.image_ids, evaluator, out));
  QDET_TRY(run_images(options, sel.todo, md, evaluator, writer ? &*writer : nullptr, progress, out));
  out.images = static_cast<int>(sel.todo.size());
  out.detections = evaluator.num_detections();
  QDET_ASSIGN_OR_RETURN(out.eval, evaluator.evaluate());
  if (writer) {
    QDET_TRY(writer->finish());
    QDET_TRY(writer->remove_journal());
  }
  if (options.shard) {
    record.failed = writer->failed_images();
    record.detections = out.detections;
    record.wall_s = out.wall_s;
    QDET_TRY(write_file_atomic(done, shard_record_to_json(record)));
  }
  return out;
}

}  // namespace qdet::coco
