#include "coco/model_eval.h"

#include <fcntl.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>

#include "base/file.h"
#include "base/timer.h"
#include "coco/labels.h"
#include "detect/labels.h"
#include "detect/preset.h"
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

// The journal: one line per finished image, {"image_id": N, "detections": [...]} or
// {"image_id": N, "error": "..."}; a torn last line (a kill mid-write) is ignored on resume.
class Journal {
 public:
  static Result<Journal> open(const fs::path& path, bool keep) {
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_APPEND | (keep ? 0 : O_TRUNC);
    int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) return io_error("{}: cannot write the evaluation journal", path.string());
    return Journal(fd);
  }
  Journal(Journal&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  ~Journal() {
    if (fd_ >= 0) {
      ::fsync(fd_);
      ::close(fd_);
    }
  }
  Status append(const std::string& line, bool sync) {
    std::string text = line + "\n";
    if (::write(fd_, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
      return io_error("evaluation journal: write failed");
    if (sync) ::fdatasync(fd_);
    return ok_status();
  }

 private:
  explicit Journal(int fd) : fd_(fd) {}
  int fd_;
};

struct JournalEntry {
  int64_t image_id;
  std::vector<Detection> detections;
  std::string error;
};

std::vector<JournalEntry> read_journal(const fs::path& path) {
  std::vector<JournalEntry> entries;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("image_id")) continue;  // torn or foreign line
    JournalEntry e;
    e.image_id = j["image_id"].get<int64_t>();
    if (j.contains("error")) e.error = j["error"].get<std::string>();
    if (j.contains("detections")) {
      auto dets = parse_results(j["detections"].dump(), path.string());
      if (!dets.ok()) continue;
      e.detections = std::move(dets).value();
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

fs::path journal_path(const fs::path& results) { return results.string() + ".partial"; }

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

  // The model, with its post-processing limits raised for COCO, and its preset.
  QDET_ASSIGN_OR_RETURN(graph::Model model, tflite::load_tflite(options.model));
  QDET_TRY(raise_postprocess_limits(model.graph, options.max_detections, options.score_threshold,
                                    &out.notes));
  detect::Preset preset;
  std::string preset_source;
  if (!options.detector.preset.empty()) {
    QDET_ASSIGN_OR_RETURN(preset, detect::find_preset(options.detector.preset));
    preset_source = "--preset";
  } else {
    auto recognised = detect::recognize(detect::signature_of(model.graph));
    fs::path sidecar = options.detector.sidecar.empty() ? detect::sidecar_path(options.model)
                                                        : options.detector.sidecar;
    if (fs::exists(sidecar, ec)) {
      detect::Preset base = recognised.ok() ? *recognised : detect::Preset{};
      QDET_ASSIGN_OR_RETURN(preset, detect::load_sidecar(base, sidecar));
      preset_source = "sidecar " + sidecar.string();
    } else {
      if (!recognised.ok()) return recognised.status().with_context(options.model.string());
      preset = *recognised;
      preset_source = "recognised";
    }
  }
  preset.score_threshold = options.score_threshold;
  preset.max_detections = options.max_detections;
  out.preset = fmt::format("{} ({})", preset.name, preset_source);
  detect::DetectorOptions dopt = options.detector;
  dopt.score_threshold = options.score_threshold;
  dopt.max_detections = options.max_detections;
  auto graph = std::make_shared<const graph::Graph>(std::move(model.graph));
  QDET_ASSIGN_OR_RETURN(auto detector, detect::Detector::create(graph, preset, dopt));
  QDET_ASSIGN_OR_RETURN(auto class_map, class_to_category(detector->labels(), gt));

  // Images in the annotation file's order, then the journal's finished ones taken out.
  std::vector<const ImageInfo*> todo;
  for (const auto& im : gt.images) {
    if (options.limit > 0 && static_cast<int>(todo.size()) >= options.limit) break;
    todo.push_back(&im);
  }
  EvalOptions eval_options;
  if (options.limit > 0)  // pycocotools' params.imgIds: only these images count
    for (const auto* im : todo) eval_options.image_ids.push_back(im->id);
  QDET_ASSIGN_OR_RETURN(CocoEvaluator evaluator, CocoEvaluator::create(gt, eval_options));
  std::set<int64_t> selected;
  for (const auto* im : todo) selected.insert(im->id);
  std::vector<Detection> all;
  std::set<int64_t> finished;
  if (options.resume) {
    for (auto& e : read_journal(journal_path(options.results))) {
      if (!selected.count(e.image_id) || finished.count(e.image_id)) continue;
      finished.insert(e.image_id);
      QDET_TRY(evaluator.add_image(e.image_id, e.detections));
      all.insert(all.end(), e.detections.begin(), e.detections.end());
      if (!e.error.empty()) {
        ++out.failed_images;
        out.failures.push_back(e.error);
      }
      ++out.resumed_images;
    }
  }
  std::optional<Journal> journal;
  if (!options.results.empty()) {
    QDET_TRY(ensure_directory(options.results.has_parent_path() ? options.results.parent_path() : "."));
    QDET_ASSIGN_OR_RETURN(Journal j, Journal::open(journal_path(options.results), options.resume));
    journal.emplace(std::move(j));
  }
  std::vector<const ImageInfo*> pending;
  std::vector<fs::path> files;
  for (const auto* im : todo) {
    if (finished.count(im->id)) continue;
    pending.push_back(im);
    files.push_back(options.images / im->file_name);
  }

  int64_t t0 = now_ns();
  ModelEvalProgress p{out.resumed_images, static_cast<int>(todo.size()), 0};
  if (progress) progress(p);
  Prefetcher prefetch(files, 4);
  for (size_t n = 0; n < pending.size(); ++n) {
    Decoded d = prefetch.next();
    const ImageInfo& info = *pending[d.index];
    std::vector<Detection> dets;
    std::string error;
    if (!d.image.ok()) {
      error = d.image.status().message();
    } else {
      int64_t ti = now_ns();
      auto r = detector->detect(*d.image);
      out.inference_s += static_cast<double>(now_ns() - ti) * 1e-9;
      if (!r.ok()) return r.status().with_context(files[d.index].string());
      out.invoke_s += r->inference_ms * 1e-3;
      for (const auto& det : r->detections) {
        if (det.class_id < 0 || static_cast<size_t>(det.class_id) >= class_map.size() ||
            class_map[det.class_id] < 0)
          continue;  // a class the annotations do not have
        Detection c;
        c.image_id = info.id;
        c.category_id = class_map[det.class_id];
        c.bbox = {det.x0, det.y0, det.x1 - det.x0, det.y1 - det.y0};
        c.score = det.score;
        dets.push_back(c);
      }
    }
    if (!error.empty()) {
      ++out.failed_images;
      out.failures.push_back(error);
    }
    QDET_TRY(evaluator.add_image(info.id, dets));
    if (journal) {
      std::string line = fmt::format("{{\"image_id\":{},", info.id);
      if (!error.empty()) {
        line += "\"error\":" + nlohmann::json(error).dump() + ",";
      }
      line += "\"detections\":" + results_to_json(dets) + "}";
      for (char& ch : line)
        if (ch == '\n') ch = ' ';
      QDET_TRY(journal->append(line, (n + 1) % 8 == 0 || n + 1 == pending.size()));
    }
    all.insert(all.end(), dets.begin(), dets.end());
    p.done = out.resumed_images + static_cast<int>(n) + 1;
    p.elapsed_s = static_cast<double>(now_ns() - t0) * 1e-9;
    if (progress) progress(p);
  }
  out.wall_s = static_cast<double>(now_ns() - t0) * 1e-9;
  out.images = static_cast<int>(todo.size());
  out.detections = all.size();
  QDET_ASSIGN_OR_RETURN(out.eval, evaluator.evaluate());
  if (!options.results.empty()) {
    QDET_TRY(write_results(options.results, all));
    journal.reset();
    fs::remove(journal_path(options.results), ec);
  }
  return out;
}

}  // namespace qdet::coco
