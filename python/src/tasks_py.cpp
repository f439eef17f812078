// The long tasks: qdet.quantize, qdet.convert, qdet.evaluate, qdet.bench, qdet.study — each the
// engine the CLI command of that name runs (quant/quantize.h, convert/convert.h,
// coco/model_eval.h, bench/bench_model.h, study/study.h), returning what `--json` prints as
// Python dicts. Each runs without the GIL, reports progress (common.h) and stops on Ctrl-C.
#include <fmt/format.h>

#include <cmath>
#include <map>
#include <optional>

#include "base/file.h"
#include "bench/bench_model.h"
#include "coco/model_eval.h"
#include "coco/summary.h"
#include "common.h"
#include "convert/convert.h"
#include "detect/preset.h"
#include "quant/quantize.h"
#include "report/printers.h"
#include "study/study.h"
#include "tflite/writer.h"

namespace qdet::py {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

pb::dict quantize(const fs::path& model, const fs::path& output, const std::string& mode,
                  const std::optional<fs::path>& calib, int calib_count, const std::string& method,
                  double percentile, bool per_tensor, const std::string& io, const std::vector<std::string>& keep_float,
                  const std::optional<fs::path>& table, const std::optional<fs::path>& save_table,
                  const std::optional<fs::path>& report, const std::optional<std::string>& preset,
                  double fallback_macs, const std::string& float_weights, const std::string& weight_rounding,
                  int gptq_images, bool compact, bool hybrid, bool head_aware, int num_threads,
                  const pb::object& progress_callback) {
  require_file(model, "model");
  if (calib) require_dir(*calib, "calibration folder");
  if (table) require_file(*table, "calibration table");
  if (output == model) throw StatusError{invalid_argument("output must differ from the input model")};
  if (float_weights != "fp16" && float_weights != "fp32")
    throw StatusError{invalid_argument("float_weights must be 'fp16' or 'fp32' (got '{}')", float_weights)};
  if (weight_rounding != "gptq" && weight_rounding != "nearest")
    throw StatusError{invalid_argument("weight_rounding must be 'gptq' or 'nearest' (got '{}')", weight_rounding)};
  // The options `qdet quantize` sets from its flags (tools/qdet/quantize_command.cpp).
  quant::QuantizeOptions o;
  o.mode = take(quant::parse_mode(mode));
  o.calib_dir = calib.value_or(fs::path());
  o.calib_count = calib_count;
  o.observer.method = take(quant::parse_method(method));
  o.observer.percentile = percentile;
  o.per_tensor = per_tensor;
  o.hybrid = hybrid;
  o.io = (o.mode == quant::Mode::kFloat && io == "float") ? "keep" : io;
  o.head.enabled = head_aware;
  o.head.keep_float = keep_float;
  o.table = table.value_or(fs::path());
  o.report = report.has_value();
  o.preset = preset.value_or("");
  o.num_threads = num_threads;
  o.fallback_macs = fallback_macs;
  o.fp16_float_weights = float_weights == "fp16";
  o.compact = compact;
  o.gptq = weight_rounding == "gptq";
  o.gptq_images = gptq_images;
  o.progress = Progress::quantize_progress;
  Progress progress(progress_callback);

  // The files, as `qdet quantize` writes them: the table, the report, the sidecar, and the
  // model last; each atomically, so an error or Ctrl-C before leaves no partial file.
  struct Written {
    quant::QuantizeOutcome r;
    size_t bytes = 0;
    fs::path table_path;
  };
  Written w = run_released(progress, [&] {
    Written w{take(quant::quantize_file(model, o))};
    auto bytes = take(tflite::write_tflite(w.r.model));
    w.bytes = bytes.size();
    if (w.r.table) {
      w.table_path = save_table ? *save_table : fs::path(output).replace_extension(".calib.json");
      check(quant::save_table(w.table_path, *w.r.table));
    }
    if (report)
      check(write_file_atomic(*report, quant::error_report_json(w.r.errors, model.string(), mode, w.r.report_images)));
    const fs::path sidecar = detect::sidecar_path(model);
    std::error_code ec;
    if (fs::exists(sidecar, ec))
      check(write_file_atomic(detect::sidecar_path(output), take(read_text_file(sidecar))));
    check(write_file_atomic(output, bytes));
    return w;
  });

  std::error_code ec;
  const auto source_bytes = fs::file_size(model, ec);
  pb::dict d;
  d["output"] = output;
  d["mode"] = mode;
  d["bytes"] = w.bytes;
  d["source_bytes"] = ec ? 0 : source_bytes;
  d["size_ratio"] = source_bytes && !ec ? static_cast<double>(w.bytes) / static_cast<double>(source_bytes) : 0.0;
  d["notes"] = w.r.notes.info;
  d["warnings"] = w.r.notes.warnings;
  d["float_ops"] = quant::describe_float_ops(w.r.float_graph, w.r.float_ops);
  d["table"] = w.table_path.empty() ? pb::object(pb::none()) : pb::cast(w.table_path);
  d["report"] = report ? pb::cast(*report) : pb::object(pb::none());
  if (!std::isnan(w.r.probe_base_db)) {
    d["probe_base_db"] = w.r.probe_base_db;
    d["probe_final_db"] = w.r.probe_final_db;
  }
  return d;
}

pb::dict convert(const fs::path& model, const fs::path& output, const std::optional<fs::path>& weights) {
  require_file(model, "model");
  if (weights) require_file(*weights, "weights");
  convert::ConvertOptions o;
  o.model = model;
  o.weights = weights.value_or(fs::path());
  convert::Converted c;
  {
    pb::gil_scoped_release nogil;
    c = take(convert::convert_to_file(o, output));
  }
  // What `qdet convert --json` prints.
  const graph::Graph& g = c.model.graph;
  std::map<std::string, int> op_counts;
  for (const auto& op : g.ops) ++op_counts[op.name()];
  auto tensor_json = [&](int32_t id) {
    const auto& t = g.tensors[id];
    return json{{"name", t.name}, {"shape", t.shape}, {"dtype", dtype_name(t.dtype)}};
  };
  std::error_code ec;
  const auto bytes = fs::file_size(output, ec);
  json j;
  j["model"] = model.string();
  j["format"] = convert::source_format_name(c.format);
  j["output"] = output.string();
  j["bytes"] = ec ? 0 : bytes;
  j["num_ops"] = g.ops.size();
  j["op_counts"] = op_counts;
  j["inputs"] = json::array();
  j["outputs"] = json::array();
  for (int32_t id : g.inputs) j["inputs"].push_back(tensor_json(id));
  for (int32_t id : g.outputs) j["outputs"].push_back(tensor_json(id));
  j["description"] = c.model.description;
  j["sidecar"] = c.sidecar_json.empty() ? json(nullptr) : json(convert::sidecar_path_for(output).string());
  return to_python(j).cast<pb::dict>();
}

pb::dict evaluate(const fs::path& model, const fs::path& images, const fs::path& annotations, int limit,
                  const std::optional<std::string>& preset, const std::optional<fs::path>& results, bool resume,
                  int num_threads, std::optional<float> score, std::optional<float> iou,
                  std::optional<int> max_dets, std::optional<bool> multi_label, std::optional<bool> clip,
                  bool keep_postprocess, const pb::object& progress_callback) {
  require_file(model, "model");
  require_dir(images, "image folder");
  require_file(annotations, "annotation file");
  if (limit < 0) throw StatusError{invalid_argument("limit must be >= 0 (got {})", limit)};
  coco::ModelEvalOptions o;
  o.model = model;
  o.images = images;
  o.annotations = annotations;
  o.results = results.value_or(fs::path());
  o.resume = resume;
  o.limit = limit;
  o.detector.preset = preset.value_or("");
  o.detector.num_threads = num_threads;
  o.score_threshold = score;
  o.iou_threshold = iou;
  o.max_detections = max_dets;
  o.multi_label = multi_label;
  o.clip_boxes = clip;
  o.keep_postprocess = keep_postprocess;
  Progress progress(progress_callback);
  coco::ModelEvalResult r = run_released(progress, [&] {
    return take(coco::evaluate_model(o, [&](const coco::ModelEvalProgress& p) {
      progress.report("evaluating", static_cast<size_t>(p.done), static_cast<size_t>(p.total));
    }));
  });

  // The 12 pycocotools numbers by name, per-class AP, the settings; `qdet eval --json`'s fields.
  const json e = json::parse(coco::eval_result_to_json(r.eval));
  json per_class_ap = json::object();
  for (const auto& c : r.eval.per_category) per_class_ap[c.name] = c.ap;
  const double run_images = r.images - r.resumed_images;
  json j = {{"stats_list", e["stats"]},
            {"per_class_ap", per_class_ap},
            {"per_category", e["per_category"]},
            {"settings",
             {{"score_threshold", r.settings.score_threshold},
              {"iou_threshold", r.settings.iou_threshold},
              {"max_detections", r.settings.max_detections},
              {"multi_label", r.settings.multi_label},
              {"clip_boxes", r.settings.clip_boxes}}},
            {"images", r.images},
            {"failed_images", r.failed_images},
            {"failures", r.failures},
            {"resumed_images", r.resumed_images},
            {"detections", r.detections},
            {"preset", r.preset},
            {"notes", r.notes},
            {"wall_s", r.wall_s},
            {"throughput_img_s", r.wall_s > 0 ? run_images / r.wall_s : 0},
            {"inference_img_s", r.inference_s > 0 ? run_images / r.inference_s : 0},
            {"results", results ? json(results->string()) : json(nullptr)}};
  // In pycocotools' order (a JSON object would sort the names).
  pb::dict stats;
  for (int s = 0; s < coco::kNumStats; ++s) stats[coco::stat_name(s)] = r.eval.stats[s];
  pb::dict d;
  d["stats"] = stats;
  for (auto item : to_python(j).cast<pb::dict>()) d[item.first] = item.second;
  return d;
}

pb::dict bench(const fs::path& model, int num_threads, int warmup, int runs, const std::string& energy,
               double idle, bool reference, bool profile, const pb::object& progress_callback) {
  require_file(model, "model");
  if (runs < 1) throw StatusError{invalid_argument("runs must be >= 1 (got {})", runs)};
  if (warmup < 0) throw StatusError{invalid_argument("warmup must be >= 0 (got {})", warmup)};
  bench::BenchOptions o;
  o.model = model;
  o.threads = num_threads;
  o.warmup = warmup;
  o.runs = runs;
  o.energy = energy;
  o.idle_seconds = idle;
  o.use_fast_kernels = !reference;
  o.profile = profile;
  Progress progress(progress_callback);
  bench::BenchResult r = run_released(progress, [&] {
    return take(bench::bench_model(o, [&](const std::string& line) { progress.report(line, 0, 0); }));
  });
  // What `qdet bench --json` prints: the study's record plus the raw profile.
  report::Record rec;
  rec.variant = model.stem().string();
  rec.runtime = "qdet";
  report::fill_from_bench(rec, r);
  json j = report::to_json(rec);
  j["memory"]["peak_rss_reset"] = r.peak_rss_reset;
  j["work"] = {{"bytes_moved", r.work.bytes_moved}};
  if (!r.profile.empty()) {
    json ops = json::array();
    for (const auto& t : r.profile)
      ops.push_back({{"op", t.op}, {"kind", t.kind}, {"kernel", t.kernel}, {"dtype", t.dtype},
                     {"output", t.output}, {"ms", t.ms}});
    j["profile"] = ops;
  }
  return to_python(j).cast<pb::dict>();
}

pb::list study(const fs::path& model, const fs::path& images, const fs::path& annotations,
               const fs::path& output, const std::optional<fs::path>& calib, const std::vector<std::string>& modes,
               int num_threads, int limit, int calib_count, int runs, int warmup, const std::string& energy,
               int pictures, const std::optional<std::string>& preset, bool resume, bool peers,
               const std::vector<fs::path>& onnx, const pb::object& progress_callback) {
  require_file(model, "model");
  require_dir(images, "image folder");
  require_file(annotations, "annotation file");
  if (calib) require_dir(*calib, "calibration folder");
  study::StudyOptions o;
  o.model = model;
  o.images = images;
  o.annotations = annotations;
  o.calib = calib.value_or(fs::path());
  o.output = output;
  o.modes = modes;
  o.threads = num_threads;
  o.limit = limit;
  o.calib_count = calib_count;
  o.runs = runs;
  o.warmup = warmup;
  o.energy = energy;
  o.pictures = pictures;
  o.preset = preset.value_or("");
  o.resume = resume;
  o.peers = peers || !onnx.empty();
  o.onnx = onnx;
  o.quantize_progress = Progress::quantize_progress;
  Progress progress(progress_callback);
  study::StudyResult r = run_released(progress, [&] {
    return take(study::run_study(o, [&](const std::string& line) { progress.report(line, 0, 0); }));
  });
  // results.json's "variants": one record per variant (and peer row).
  pb::list out;
  for (const auto& rec : r.records) out.append(to_python(report::to_json(rec)));
  return out;
}

}  // namespace

void bind_tasks(pb::module_& m) {
  using pb::arg;
  m.def("quantize", &quantize, arg("model"), arg("output"), pb::kw_only(), arg("mode") = "int8",
        arg("calib") = pb::none(), arg("calib_count") = 0, arg("method") = "mse", arg("percentile") = 99.99,
        arg("per_tensor") = false, arg("io") = "float", arg("keep_float") = std::vector<std::string>{},
        arg("table") = pb::none(), arg("save_table") = pb::none(), arg("report") = pb::none(),
        arg("preset") = pb::none(), arg("fallback_macs") = 0.1, arg("float_weights") = "fp16",
        arg("weight_rounding") = "gptq", arg("gptq_images") = 32, arg("compact") = true, arg("hybrid") = false,
        arg("head_aware") = true, arg("num_threads") = 1, arg("progress") = pb::none(),
        R"doc(Quantizes a .tflite model and writes it to output: `qdet quantize`.

mode: 'float', 'fp16', 'dynamic', 'int8' or 'int16x8'. int8 and int16x8 calibrate on the images
of calib (a folder; never the evaluation images; calib_count: the first N) or read ranges from
table. The calibration table is written to save_table (default OUTPUT.calib.json), the per-tensor
error report to report when given, a sidecar MODEL.qdet.json is copied beside the output; every
file atomically, the model last, so an error or Ctrl-C leaves no partial file. The other options
are `qdet quantize`'s (README): method, percentile, per_tensor, io, keep_float, preset,
fallback_macs, float_weights, weight_rounding, gptq_images, compact, hybrid, head_aware.

Returns a dict: output, mode, bytes, source_bytes, size_ratio, notes, warnings, float_ops (what
stayed float and why), table, report. progress: see qdet.progress_help.)doc");

  m.def("convert", &convert, arg("model"), arg("output"), pb::kw_only(), arg("weights") = pb::none(),
        R"doc(Converts an ONNX model (.onnx) or a darknet network (.cfg + weights) to TFLite: `qdet convert`.

Writes output (and a darknet model's OUTPUT.qdet.json sidecar) atomically. Returns `qdet convert
--json`'s dict: model, format, output, bytes, num_ops, op_counts, inputs, outputs, description,
sidecar.)doc");

  m.def("evaluate", &evaluate, arg("model"), pb::kw_only(), arg("images"), arg("annotations"), arg("limit") = 0,
        arg("preset") = pb::none(), arg("results") = pb::none(), arg("resume") = false, arg("num_threads") = 1,
        arg("score") = pb::none(), arg("iou") = pb::none(), arg("max_dets") = pb::none(),
        arg("multi_label") = pb::none(), arg("clip") = pb::none(), arg("keep_postprocess") = false,
        arg("progress") = pb::none(),
        R"doc(COCO mAP of a detector (pycocotools-exact): `qdet eval`.

images: the folder of the annotation file's images; annotations: a COCO instances JSON; limit:
the first N images of the annotation file (0: all). Post-processing follows the model's own
project's evaluation (returned as settings); score, iou, max_dets, multi_label, clip override it.
results: write COCO results there (atomically, at the end); meanwhile a journal
RESULTS.progress.jsonl records finished images, so after Ctrl-C resume=True continues.

Returns a dict: stats (the 12 pycocotools numbers by name: AP, AP50, AP75, APs, APm, APl, AR1,
AR10, AR100, ARs, ARm, ARl; 0..1), stats_list (the same in pycocotools' order), per_class_ap
(name -> AP, -1 without ground truth), per_category (AP, AP50, id, num_gt, num_detections),
settings, images, failed_images, failures, detections, preset, notes, wall_s,
throughput_img_s.)doc");

  m.def("bench", &bench, arg("model"), pb::kw_only(), arg("num_threads") = 1, arg("warmup") = 3, arg("runs") = 20,
        arg("energy") = "auto", arg("idle") = 0.5, arg("reference_kernels") = false, arg("profile") = false,
        arg("progress") = pb::none(),
        R"doc(Latency (every run kept), memory, size, MACs and energy per inference: `qdet bench --json`.

energy: 'auto', 'rapl', 'perf', 'nvml' or 'estimate'. Returns a dict with latency_ms (min,
median, p90, p99, max, mean, stddev, cv, runs, warmup, samples), throughput_fps, memory, size,
macs, energy (method, per_inference_j, ... and the estimate), kernels, and with profile=True
one entry per op.)doc");

  m.def("study", &study, arg("model"), pb::kw_only(), arg("images"), arg("annotations"), arg("output"),
        arg("calib") = pb::none(), arg("modes") = std::vector<std::string>{"fp32", "fp16", "dynamic", "int8", "int16x8"},
        arg("num_threads") = 1, arg("limit") = 0, arg("calib_count") = 0, arg("runs") = 20, arg("warmup") = 3,
        arg("energy") = "auto", arg("pictures") = 3, arg("preset") = pb::none(), arg("resume") = false,
        arg("peers") = false, arg("onnx") = std::vector<fs::path>{}, arg("progress") = pb::none(),
        R"doc(The whole study: every precision variant made, COCO-evaluated, benchmarked, drawn: `qdet study`.

Writes output/ (index.html, report.md, results.json, MODE.tflite, pictures/); resume=True keeps
finished variants. Returns the records of results.json's "variants" (one dict per variant and
peer row: variant, runtime, precision, size, macs, coco {stats, per_class_ap, images},
latency_ms, throughput_fps, memory, energy, kernels, notes, error).)doc");
}

}  // namespace qdet::py
