// qdet quantize MODEL.tflite --mode float|fp16|dynamic|int8|int16x8 -o OUT.tflite [...]
// The quantizer (src/quant/quantize.h) does the work; this file parses flags, prints what was
// done and writes the files (each atomically: no partial output on error).
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sstream>

#include <unistd.h>

#include "base/file.h"
#include "coco/model_eval.h"
#include "command.h"
#include "detect/preset.h"
#include "quant/quantize.h"
#include "tflite/writer.h"

namespace qdet::cli {
namespace {

namespace fs = std::filesystem;

struct QuantizeArgs {
  std::string model, output, mode = "int8", calib, method = "mse", io = "float", table, report,
      preset, save_table, eval_images, eval_annotations, float_weights = "fp16",
      weight_scales = "max", weight_rounding = "gptq";
  int calib_count = 0, threads = 1, report_count = 16, fallback_images = 16, max_trials = 30,
      eval_limit = 0, gptq_images = 32;
  double fallback_macs = 0.1, max_map_drop = -1;
  double percentile = 99.99, concat_ratio = 2.0, channel_spread = 64;
  bool bias_correction = false;
  bool per_tensor = false, no_head_aware = false, hybrid = false, int_head_convs = false,
       float_head_inputs = true, no_compact = false;
  std::vector<std::string> keep_float;
};

// On a terminal: one line per stage, rewritten in place. Otherwise (logs): the stage's last line.
void progress(const char* stage, size_t done, size_t total) {
  static const bool tty = ::isatty(::fileno(stderr)) != 0;
  if (tty) std::fprintf(stderr, "\r%s %zu/%zu", stage, done, total);
  if (done == total) std::fprintf(stderr, tty ? "\n" : "%s %zu/%zu\n", stage, done, total);
}

// COCO AP (points) of a model on the --eval-images, through a temporary file (qdet eval's
// engine, with the source model's preset and sidecar).
Result<double> coco_ap(const graph::Model& model, const QuantizeArgs& a, const fs::path& dir) {
  QDET_ASSIGN_OR_RETURN(auto bytes, tflite::write_tflite(model));
  const fs::path path = dir / "candidate.tflite";
  QDET_TRY(write_file_atomic(path, bytes));
  coco::ModelEvalOptions e;
  e.model = path;
  e.images = a.eval_images;
  e.annotations = a.eval_annotations;
  e.limit = a.eval_limit;
  e.detector.preset = a.preset;
  e.detector.num_threads = a.threads;
  std::error_code ec;
  if (fs::exists(detect::sidecar_path(a.model), ec)) e.detector.sidecar = detect::sidecar_path(a.model);
  QDET_ASSIGN_OR_RETURN(auto r, coco::evaluate_model(e));
  fs::remove(path, ec);
  return 100.0 * r.eval.stats[0];
}

Status run(const QuantizeArgs& a) {
  quant::QuantizeOptions o;
  QDET_ASSIGN_OR_RETURN(o.mode, quant::parse_mode(a.mode));
  o.calib_dir = a.calib;
  o.calib_count = a.calib_count;
  QDET_ASSIGN_OR_RETURN(o.observer.method, quant::parse_method(a.method));
  o.observer.percentile = a.percentile;
  o.per_tensor = a.per_tensor;
  o.hybrid = a.hybrid;
  o.bias_correction = a.bias_correction;
  o.io = a.io;
  if (o.mode == quant::Mode::kFloat && a.io == "float") o.io = "keep";  // float mode default
  o.head.enabled = !a.no_head_aware;
  o.head.concat_ratio = a.concat_ratio;
  o.head.float_head_convs = !a.int_head_convs;
  o.head.max_channel_spread = a.channel_spread;
  for (const auto& names : a.keep_float) {
    std::stringstream ss(names);
    for (std::string n; std::getline(ss, n, ',');)
      if (!n.empty()) o.head.keep_float.push_back(n);
  }
  o.table = a.table;
  o.report = !a.report.empty();
  o.report_count = a.report_count;
  o.preset = a.preset;
  o.num_threads = a.threads;
  o.progress = progress;
  if (fs::path(a.output) == fs::path(a.model)) return invalid_argument("-o must differ from the input model");
  // Calibration takes seconds to minutes: a folder that cannot take the output fails first.
  QDET_TRY(prepare_output_file(a.output));
  o.fallback_macs = a.fallback_macs;
  o.fp16_float_weights = a.float_weights == "fp16";
  o.compact = !a.no_compact;
  o.gptq = a.weight_rounding == "gptq";
  o.gptq_images = a.gptq_images;
  o.mse_weight_scales = a.weight_scales == "mse";
  o.fallback_images = a.fallback_images;
  o.float_head_inputs = a.float_head_inputs;
  std::unique_ptr<fs::path, void (*)(fs::path*)> temp_dir(nullptr, [](fs::path* p) {
    std::error_code ec;
    fs::remove_all(*p, ec);
    delete p;
  });
  if (a.max_map_drop >= 0) {
    if (a.eval_images.empty() || a.eval_annotations.empty())
      return invalid_argument("--max-map-drop needs --eval-images DIR and --eval-annotations JSON");
    if (o.mode != quant::Mode::kInt8 && o.mode != quant::Mode::kInt16x8)
      return invalid_argument("--max-map-drop applies to int8 and int16x8");
    std::string tmpl = (fs::temp_directory_path() / "qdet-quantize-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) return io_error("cannot make a temporary folder in {}", fs::temp_directory_path().string());
    temp_dir.reset(new fs::path(tmpl));
    const fs::path dir = *temp_dir;
    o.max_map_drop = a.max_map_drop;
    o.max_trials = a.max_trials;
    o.evaluate = [&a, dir](const graph::Model& m) { return coco_ap(m, a, dir); };
  } else if (!a.eval_images.empty() || !a.eval_annotations.empty()) {
    return invalid_argument("--eval-images and --eval-annotations go with --max-map-drop");
  }

  QDET_ASSIGN_OR_RETURN(quant::QuantizeOutcome r, quant::quantize_file(a.model, o));
  QDET_ASSIGN_OR_RETURN(auto bytes, tflite::write_tflite(r.model));

  for (const auto& s : r.notes.info) std::printf("%s\n", s.c_str());
  if (!std::isnan(r.probe_base_db))
    std::printf("output agreement with the float model (calibration images): %.2f dB before the "
                "measured fallback, %.2f dB after\n", r.probe_base_db, r.probe_final_db);
  if (!r.trials.empty()) {
    std::printf("accuracy search (AP on %s): float model %.2f\n", a.eval_images.c_str(), r.float_score);
    for (const auto& [units, ap] : r.trials)
      std::printf("  %3d layers back to float: AP %.2f (drop %.2f)\n", units, ap, r.float_score - ap);
    std::printf("budget (drop <= %.2f): %s\n", a.max_map_drop, r.budget_met ? "met" : "NOT met");
  }
  for (const auto& s : r.notes.warnings) std::fprintf(stderr, "qdet: warning: %s\n", s.c_str());
  if (!r.float_ops.empty()) {
    std::printf("kept in float (%zu ops):\n", r.float_ops.size());
    for (const auto& line : quant::describe_float_ops(r.float_graph, r.float_ops))
      std::printf("  %s\n", line.c_str());
  }
  // Files: the model last, so that a failure before leaves nothing half done.
  if (r.table) {
    const fs::path table_path = a.save_table.empty()
                                    ? fs::path(a.output).replace_extension(".calib.json")
                                    : fs::path(a.save_table);
    QDET_TRY(quant::save_table(table_path, *r.table));
    std::printf("calibration table (%s, %d images): %s\n", r.table->method.c_str(), r.table->images,
                table_path.string().c_str());
  }
  if (!a.report.empty()) {
    QDET_TRY(write_file_atomic(a.report, quant::error_report_json(r.errors, a.model, a.mode,
                                                                    r.report_images)));
    std::printf("per-tensor error on %d calibration images (worst first): %s\n", r.report_images,
                a.report.c_str());
    for (size_t i = 0; i < r.errors.size() && i < 5; ++i)
      std::printf("  %-60.60s SQNR %6.1f dB  cosine %.4f\n", r.errors[i].name.c_str(),
                  r.errors[i].sqnr_db, r.errors[i].cosine);
    for (const auto& e : r.errors)
      if (e.is_output)
        std::printf("  output %s: SQNR %.1f dB, cosine %.5f, max error %.4g\n", e.name.c_str(),
                    e.sqnr_db, e.cosine, e.max_abs_error);
  }
  const fs::path sidecar = detect::sidecar_path(a.model);
  std::error_code ec;
  if (fs::exists(sidecar, ec)) {
    QDET_ASSIGN_OR_RETURN(std::string text, read_text_file(sidecar));
    QDET_TRY(write_file_atomic(detect::sidecar_path(a.output), text));
  }
  QDET_TRY(write_file_atomic(a.output, bytes));
  const auto in_size = fs::file_size(a.model, ec);
  std::printf("%s: %s, %zu bytes (%.2fx of %s)\n", a.output.c_str(), a.mode.c_str(), bytes.size(),
              in_size ? static_cast<double>(bytes.size()) / static_cast<double>(in_size) : 0.0,
              a.model.c_str());
  return ok_status();
}

}  // namespace

void add_quantize_command(CLI::App& app) {
  auto a = std::make_shared<QuantizeArgs>();
  auto* sub = app.add_subcommand("quantize", "Quantize a TFLite model: float, fp16, dynamic, int8, int16x8");
  sub->add_option("model", a->model, "Input .tflite")->required();
  sub->add_option("-o,--output", a->output, "Output .tflite (written atomically)")->required();
  std::string modes;
  for (const quant::ModeInfo& m : quant::mode_table())
    modes += fmt::format("{}{} ({})", modes.empty() ? "" : " | ", m.name, m.precision);
  sub->add_option("--mode", a->mode, modes)->capture_default_str();
  sub->add_option("--calib", a->calib, "Folder of calibration images (never the evaluation images)");
  sub->add_option("--calib-count", a->calib_count, "Use the first N calibration images (0: all)");
  sub->add_option("--method", a->method, "Range observer: minmax | percentile | mse | kl")->capture_default_str();
  sub->add_option("--percentile", a->percentile, "Percentile for --method percentile")->capture_default_str();
  sub->add_flag("--per-tensor", a->per_tensor, "Per-tensor weights instead of per-channel");
  sub->add_flag("--bias-correction,!--no-bias-correction", a->bias_correction,
                "int8: subtract the mean output error of weight rounding ((W_q - W) . E[x], input "
                "means from the calibration images) from conv/FC biases (default: off)");
  sub->add_flag("--hybrid", a->hybrid,
                "dynamic: TFLite hybrid ops (int8 arithmetic on the fly; slower here than float "
                "on XNNPACK) instead of int8 weights + DEQUANTIZE");
  sub->add_option("--io", a->io, "Integer modes: float | int8 | uint8 | int16 inputs/outputs; float mode: keep | float")
      ->capture_default_str();
  sub->add_option("--keep-float", a->keep_float,
                  "Ops to keep in float: output tensor names, op kinds (EXP) or #index, comma-separated");
  sub->add_flag("--no-head-aware", a->no_head_aware, "Quantize detection heads too (not recommended)");
  sub->add_flag("--int-head-convs", a->int_head_convs,
                "Quantize the head's last convolutions even when every reader is float");
  sub->add_option("--channel-spread", a->channel_spread,
                  "int8: keep float a depthwise conv (and what makes its input) whose input channels span more than this many times (0: off)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  sub->add_option("--concat-ratio", a->concat_ratio,
                  "Head-aware: keep a decode-tail concatenation float when its inputs' ranges differ by more")
      ->capture_default_str();
  sub->add_option("--fallback-macs", a->fallback_macs,
                  "int8: share of the model's MACs (0..1) the network's first layers may keep in "
                  "float (as many as bring the outputs closest to float on calibration images; 0: off)")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  sub->add_option("--float-weights", a->float_weights,
                  "int8/int16x8: how the weights of layers kept float are stored: fp16 (+ DEQUANTIZE) or fp32")
      ->capture_default_str()->check(CLI::IsMember({"fp16", "fp32"}));
  sub->add_flag("--no-compact", a->no_compact,
                "Keep constant-index SCATTER_ND and exactly-float16 float32 tables as they are "
                "(by default they become PAD and float16: smaller, same outputs)");
  sub->add_flag("--float-head-inputs,!--int-head-inputs", a->float_head_inputs,
                "int8: keep float the layers whose output a float head convolution reads (default: on)");
  sub->add_option("--weight-scales", a->weight_scales,
                  "int8/int16x8 per-channel weight scales: max (max|w|/127) or mse (least rounding error)")
      ->capture_default_str()->check(CLI::IsMember({"max", "mse"}));
  sub->add_option("--weight-rounding", a->weight_rounding,
                  "int8/int16x8: nearest, or gptq (rounding that minimises each layer's output error on "
                  "calibration images)")
      ->capture_default_str()->check(CLI::IsMember({"nearest", "gptq"}));
  sub->add_option("--gptq-images", a->gptq_images, "Calibration images GPTQ measures the layers' inputs on")
      ->capture_default_str()->check(CLI::Range(1, 100000));
  sub->add_option("--fallback-images", a->fallback_images,
                  "Calibration images the float fallback is measured on")
      ->capture_default_str()->check(CLI::Range(1, 100000));
  sub->add_option("--max-map-drop", a->max_map_drop,
                  "Accuracy-driven fallback: give layers back to float, most sensitive first, until "
                  "COCO AP (points) on --eval-images is at most this far below the float model's")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--eval-images", a->eval_images, "Labelled images for --max-map-drop");
  sub->add_option("--eval-annotations", a->eval_annotations, "COCO instances JSON for --eval-images");
  sub->add_option("--eval-limit", a->eval_limit, "Use only the first N annotated images (0: all)");
  sub->add_option("--max-trials", a->max_trials, "Models scored by --max-map-drop at most")
      ->capture_default_str()->check(CLI::Range(1, 10000));
  sub->add_option("--table", a->table, "Use the ranges of this calibration table (JSON) instead of calibrating");
  sub->add_option("--save-table", a->save_table, "Where to write the calibration table (default OUT.calib.json)");
  sub->add_option("--report", a->report, "Write per-tensor SQNR, cosine and max error vs float (JSON)");
  sub->add_option("--report-count", a->report_count, "Images for --report")->capture_default_str();
  sub->add_option("--preset", a->preset, "Preprocessing preset (default: recognised from the model)");
  sub->add_option("--threads", a->threads, "Threads for calibration")->capture_default_str();
  sub->callback([a] { exit_on_error(run(*a)); });
}

}  // namespace qdet::cli
