// `qdet eval` throughput against pure inference at the same thread count (issue 3: eval must
// keep >= 90% of it), in one run:
//
//   eval_throughput_bench [--model M.tflite] [--images DIR] [--annotations JSON] [--limit N]
//                         [--threads T] [--rounds R]
//
// Pure inference: every image decoded beforehand, then Detector::detect (preprocess, invoke,
// head, NMS) on each; the interpreter's own invoke time is reported too. Eval: the whole of
// `qdet eval` (coco::evaluate_model: decoding on the prefetch thread, the detector, the
// evaluator, the results journal and the final COCOeval). Rounds alternate eval and pure
// inference so that machine load hits both alike; the table gives each round and the medians.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "base/paths.h"
#include "base/timer.h"
#include "coco/dataset.h"
#include "coco/model_eval.h"
#include "detect/detector.h"
#include "image/codec.h"

namespace {

namespace fs = std::filesystem;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : (v[(v.size() - 1) / 2] + v[v.size() / 2]) / 2;
}

int fail(const qdet::Status& s) {
  std::fprintf(stderr, "eval_throughput_bench: %s\n", s.message().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path model = qdet::data_dir() / "models" / "yolox_nano_fp32_416.tflite";
  fs::path images = qdet::data_dir() / "coco" / "val2017-139" / "images";
  fs::path annotations = qdet::data_dir() / "coco" / "val2017-139" / "instances_val2017_subset.json";
  int limit = 0, threads = 1, rounds = 2;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--model") model = next();
    else if (a == "--images") images = next();
    else if (a == "--annotations") annotations = next();
    else if (a == "--limit") limit = std::atoi(next().c_str());
    else if (a == "--threads") threads = std::atoi(next().c_str());
    else if (a == "--rounds") rounds = std::max(1, std::atoi(next().c_str()));
    else return fail(qdet::invalid_argument("unknown argument '{}'", a));
  }
  auto gt = qdet::coco::load_instances(annotations);
  if (!gt.ok()) return fail(gt.status());
  std::vector<qdet::image::Image> decoded;
  for (const auto& im : gt->images) {
    if (limit > 0 && static_cast<int>(decoded.size()) >= limit) break;
    auto img = qdet::image::load_image(images / im.file_name);
    if (!img.ok()) return fail(img.status());
    decoded.push_back(std::move(*img));
  }
  const double n = static_cast<double>(decoded.size());
  qdet::detect::DetectorOptions dopt;
  dopt.num_threads = threads;
  auto detector = qdet::detect::Detector::create(model, dopt);
  if (!detector.ok()) return fail(detector.status());

  const fs::path results = fs::temp_directory_path() / fmt::format("qdet-eval-bench-{}.json", ::getpid());
  std::vector<double> eval_rate, detect_rate, invoke_rate;
  std::printf("%s, %zu images, %d thread(s)\n\n", model.filename().c_str(), decoded.size(), threads);
  std::printf("| round | qdet eval img/s | detect img/s | invoke img/s | eval / detect | eval / invoke |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (int r = 0; r < rounds; ++r) {
    qdet::coco::ModelEvalOptions o;
    o.model = model;
    o.images = images;
    o.annotations = annotations;
    o.results = results;
    o.limit = limit;
    o.detector.num_threads = threads;
    auto e = qdet::coco::evaluate_model(o);
    if (!e.ok()) return fail(e.status());
    eval_rate.push_back(n / e->wall_s);

    double invoke_s = 0;
    const int64_t t0 = qdet::now_ns();
    for (const auto& img : decoded) {
      auto d = (*detector)->detect(img);
      if (!d.ok()) return fail(d.status());
      invoke_s += d->inference_ms * 1e-3;
    }
    const double detect_s = static_cast<double>(qdet::now_ns() - t0) * 1e-9;
    detect_rate.push_back(n / detect_s);
    invoke_rate.push_back(n / invoke_s);
    std::printf("| %d | %.2f | %.2f | %.2f | %.0f%% | %.0f%% |\n", r + 1, eval_rate.back(),
                detect_rate.back(), invoke_rate.back(), 100 * eval_rate.back() / detect_rate.back(),
                100 * eval_rate.back() / invoke_rate.back());
  }
  std::error_code ec;
  fs::remove(results, ec);
  const double me = median(eval_rate), md = median(detect_rate), mi = median(invoke_rate);
  std::printf("| median | %.2f | %.2f | %.2f | %.0f%% | %.0f%% |\n", me, md, mi, 100 * me / md, 100 * me / mi);
  return 0;
}
