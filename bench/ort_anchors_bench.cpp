// YOLOX-Nano quantized by ONNX Runtime's own quantize_static (the issue-4 anchors) against
// ONNX Runtime's float model, all run by ONNX Runtime and scored by qdet on val2017-139:
//
//   ort_anchors_bench [--images DIR] [--annotations JSON] [--limit N] [--threads T]
//                     [--models DIR] [EXTRA.tflite ...]
//
// Every image is preprocessed once as the yolox_nano preset says (BGR 0..255, letterbox
// top-left, pad 114; NCHW for ONNX), all of them go to one node process per model
// (bench/ort_batch.js: the model is loaded once), its raw outputs are decoded by qdet's
// yolox_raw head with YOLOX's own evaluation settings (conf 0.001, class-wise NMS 0.65, no
// per-image cap, boxes not clipped) and scored by qdet's COCOeval. Extra .tflite files on the
// command line are run by qdet's interpreter through `qdet eval`'s engine (their preset's eval
// settings) and get a row in the same table. Prints AP, AP50 and median / p90 latency per model.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/file.h"
#include "base/paths.h"
#include "bench/latency_stats.h"
#include "peer_process.h"
#include "coco/dataset.h"
#include "coco/evaluator.h"
#include "coco/model_eval.h"
#include "detect/head.h"
#include "detect/labels.h"
#include "detect/nms.h"
#include "detect/preset.h"
#include "image/codec.h"
#include "image/preprocess.h"

namespace {

namespace fs = std::filesystem;
using qdet::bench::LatencyStats;

struct Row {
  std::string model, runtime;
  double ap = -1, ap50 = -1;
  LatencyStats latency;
  std::string note;
};

using qdet::bench_programs::peers_node_path;
using qdet::bench_programs::run_capture;

struct Prepared {
  std::vector<int64_t> image_ids;
  std::vector<qdet::image::Geometry> geometry;
  fs::path inputs;  // N NCHW float32 tensors back to back
};

int fail(const qdet::Status& s) {
  std::fprintf(stderr, "ort_anchors_bench: %s\n", s.message().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path images = qdet::data_dir() / "coco" / "val2017-139" / "images";
  fs::path annotations = qdet::data_dir() / "coco" / "val2017-139" / "instances_val2017_subset.json";
  fs::path models = qdet::data_dir() / "models";
  fs::path script = fs::path(__FILE__).parent_path() / "ort_batch.js";
  int limit = 0, threads = 1;
  std::vector<fs::path> extra;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--images") images = next();
    else if (a == "--annotations") annotations = next();
    else if (a == "--models") models = next();
    else if (a == "--limit") limit = std::atoi(next().c_str());
    else if (a == "--threads") threads = std::atoi(next().c_str());
    else if (a == "--script") script = next();
    else extra.push_back(a);
  }
  auto gt = qdet::coco::load_instances(annotations);
  if (!gt.ok()) return fail(gt.status());

  // The yolox_nano preprocessing, NCHW as the ONNX models take it.
  auto preset = qdet::detect::find_preset("yolox_nano");
  if (!preset.ok()) return fail(preset.status());
  qdet::image::TensorFormat format = preset->tensor_format();
  format.layout = qdet::image::Layout::kNchw;
  auto builder = qdet::image::TensorBuilder::create(format);
  if (!builder.ok()) return fail(builder.status());
  Prepared prep;
  const fs::path dir = fs::temp_directory_path() / fmt::format("qdet-ort-anchors-{}", ::getpid());
  fs::create_directories(dir);
  prep.inputs = dir / "inputs.bin";
  {
    std::ofstream f(prep.inputs, std::ios::binary);
    std::vector<uint8_t> tensor(format.byte_size());
    for (const auto& im : gt->images) {
      if (limit > 0 && static_cast<int>(prep.image_ids.size()) >= limit) break;
      auto img = qdet::image::load_image(images / im.file_name);
      if (!img.ok()) return fail(img.status());
      auto g = builder->build(*img, tensor);
      if (!g.ok()) return fail(g.status());
      f.write(reinterpret_cast<const char*>(tensor.data()), static_cast<std::streamsize>(tensor.size()));
      prep.image_ids.push_back(im.id);
      prep.geometry.push_back(*g);
    }
  }
  const size_t n = prep.image_ids.size();
  std::printf("%zu images of %s, %d thread(s)\n", n, annotations.filename().c_str(), threads);
  qdet::coco::EvalOptions eval_options;
  eval_options.image_ids = prep.image_ids;

  std::vector<Row> rows;
  const char* onnx[] = {"yolox_nano_416.onnx", "anchors/yolox_nano_ort_int8_minmax.onnx",
                        "anchors/yolox_nano_ort_int8_entropy.onnx",
                        "anchors/yolox_nano_ort_int8_percentile.onnx"};
  const qdet::detect::EvalSettings& es = preset->eval;
  for (const char* name : onnx) {
    Row row{fs::path(name).filename().string(), "onnxruntime"};
    const fs::path model = models / name;
    const fs::path outputs = dir / "outputs.bin";
    int status = 0;
    std::string out = run_capture(
        fmt::format("NODE_PATH='{}' node '{}' '{}' '{}' {} '{}' --threads {} 2>&1", peers_node_path(),
                    script.string(), model.string(), prep.inputs.string(), n, outputs.string(), threads),
        &status);
    auto j = nlohmann::json::parse(out.substr(std::min(out.find('{'), out.size())), nullptr, false);
    if (status != 0 || j.is_discarded()) {
      row.note = "ONNX Runtime failed: " + out.substr(0, 200);
      rows.push_back(row);
      continue;
    }
    std::vector<double> times = j["times_ms"].get<std::vector<double>>();
    row.latency = qdet::bench::compute_latency_stats(times);
    auto bytes = qdet::read_file(outputs);
    if (!bytes.ok()) return fail(bytes.status());
    const std::vector<int64_t> shape = j["output_shape"].get<std::vector<int64_t>>();
    qdet::Shape s(shape.begin(), shape.end());
    const size_t per = static_cast<size_t>(qdet::num_elements(s)) * 4;
    if (bytes->size() != per * n) return fail(qdet::internal_error("{}: {} output bytes", name, bytes->size()));
    auto evaluator = qdet::coco::CocoEvaluator::create(*gt, eval_options);
    if (!evaluator.ok()) return fail(evaluator.status());
    auto head = qdet::detect::find_head("yolox_raw");
    qdet::detect::HeadOptions ho;
    ho.input_width = format.width;
    ho.input_height = format.height;
    ho.score_threshold = es.score_threshold;
    ho.multi_label = es.multi_label;
    qdet::detect::NmsOptions no;
    no.iou_threshold = es.iou_threshold;
    no.max_detections = es.max_detections;
    for (size_t i = 0; i < n; ++i) {
      qdet::detect::OutputView v;
      v.data = std::span<const uint8_t>(bytes->data() + i * per, per);
      v.shape = s;
      v.name = name;
      auto cands = (*head)->decode(std::span<const qdet::detect::OutputView>(&v, 1), ho);
      if (!cands.ok()) return fail(cands.status());
      auto kept = qdet::detect::map_to_source(qdet::detect::nms(std::move(*cands), no), prep.geometry[i],
                                              es.clip_boxes);
      std::vector<qdet::coco::Detection> dets;
      for (const auto& d : kept)
        dets.push_back({prep.image_ids[i], qdet::detect::coco80_to_id(d.class_id),
                        {d.x0, d.y0, d.x1 - d.x0, d.y1 - d.y0}, d.score});
      qdet::Status st = evaluator->add_image(prep.image_ids[i], dets);
      if (!st.ok()) return fail(st);
    }
    auto r = evaluator->evaluate();
    if (!r.ok()) return fail(r.status());
    row.ap = r->stats[0];
    row.ap50 = r->stats[1];
    rows.push_back(row);
    std::fprintf(stderr, "%s: AP %.1f\n", name, 100 * row.ap);
  }

  for (const fs::path& model : extra) {
    qdet::coco::ModelEvalOptions o;
    o.model = model;
    o.images = images;
    o.annotations = annotations;
    o.limit = limit;
    o.detector.num_threads = threads;
    auto r = qdet::coco::evaluate_model(o);
    Row row{model.filename().string(), "qdet"};
    if (!r.ok()) {
      row.note = r.status().message();
    } else {
      row.ap = r->eval.stats[0];
      row.ap50 = r->eval.stats[1];
      row.latency = qdet::bench::compute_latency_stats(r->invoke_ms);
    }
    rows.push_back(row);
  }
  fs::remove_all(dir);

  const double base = rows.empty() ? 0 : rows[0].latency.median_ms;
  std::printf("\n| model | runtime | AP | AP50 | median ms | p90 ms | vs %s |\n|---|---|---|---|---|---|---|\n",
              rows.empty() ? "" : rows[0].model.c_str());
  for (const Row& r : rows) {
    if (!r.note.empty()) {
      std::printf("| %s | %s | - | - | - | - | %s |\n", r.model.c_str(), r.runtime.c_str(), r.note.c_str());
      continue;
    }
    std::printf("| %s | %s | %.1f | %.1f | %.2f | %.2f | %.2fx |\n", r.model.c_str(), r.runtime.c_str(),
                100 * r.ap, 100 * r.ap50, r.latency.median_ms, r.latency.p90_ms,
                base > 0 ? r.latency.median_ms / base : 0);
  }
  return 0;
}
