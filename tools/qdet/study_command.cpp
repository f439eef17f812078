// qdet study MODEL --images DIR --annotations JSON --calib DIR -o REPORT_DIR [--modes ...]:
// every precision variant made, evaluated, benchmarked and reported (src/study/study.h).
#include <cstdio>
#include <sstream>

#include "command.h"
#include "report/printers.h"
#include "study/study.h"

namespace qdet::cli {
namespace {

struct StudyArgs {
  study::StudyOptions options;
  std::string modes = "fp32,fp16,dynamic,int8,int16x8";
};

void run_study(StudyArgs& a) {
  a.options.modes.clear();
  std::stringstream ss(a.modes);
  for (std::string m; std::getline(ss, m, ',');)
    if (!m.empty()) a.options.modes.push_back(m);
  auto r = study::run_study(a.options, [](const std::string& line) {
    std::fprintf(stderr, "study: %s\n", line.c_str());
  });
  exit_on_error(r.status());
  std::printf("%s", report::to_table(r->records).c_str());
  std::printf("report: %s\n", r->index_html.c_str());
  std::printf("also: %s, %s\n", r->report_md.c_str(), r->results_json.c_str());
}

}  // namespace

void add_study_command(CLI::App& app) {
  auto a = std::make_shared<StudyArgs>();
  auto& o = a->options;
  auto* sub = app.add_subcommand(
      "study", "Every precision variant made, COCO-evaluated, benchmarked, and reported (HTML, markdown, JSON)");
  sub->add_option("model", o.model, "Source model (.tflite)")->required();
  sub->add_option("--images", o.images, "Evaluation images folder")->required();
  sub->add_option("--annotations", o.annotations, "COCO instances JSON")->required();
  sub->add_option("--calib", o.calib, "Calibration images folder (int8, int16x8; never the evaluation images)");
  sub->add_option("-o,--output", o.output, "Report folder")->required();
  sub->add_option("--modes", a->modes, "Comma-separated: fp32,fp16,dynamic,int8,int16x8")->capture_default_str();
  sub->add_option("--threads", o.threads, "Interpreter threads")->check(CLI::Range(1, 256))->capture_default_str();
  sub->add_option("--limit", o.limit, "Evaluate only the first N images (0: all)")->capture_default_str();
  sub->add_option("--calib-count", o.calib_count, "Use the first N calibration images (0: all)");
  sub->add_option("--runs", o.runs, "Timed benchmark runs per variant")->check(CLI::Range(1, 100000))
      ->capture_default_str();
  sub->add_option("--warmup", o.warmup, "Untimed benchmark runs first")->check(CLI::Range(0, 100000))
      ->capture_default_str();
  sub->add_option("--energy", o.energy, "auto | rapl | perf | nvml | estimate")->capture_default_str();
  sub->add_option("--pictures", o.pictures, "Images drawn side by side in the report")->capture_default_str();
  sub->add_option("--preset", o.preset, "Preprocessing + head preset (default: recognised)");
  sub->add_flag("--peers", o.peers,
                "Add latency-only rows for ONNX Runtime (--onnx) and TFLite-WASM (fp32, int8) when node "
                "and the peers ($QDET_PEERS_DIR) are there");
  sub->add_option("--onnx", o.onnx, "ONNX model for an ONNX Runtime peer row (repeatable; implies --peers)")
      ->allow_extra_args(false);
  add_input_shape_options(sub, o.input_shape, /*with_batch=*/false);
  sub->add_flag("--resume", o.resume, "Keep finished variants (their .done files) and continue");
  sub->callback([a] { run_study(*a); });
}

}  // namespace qdet::cli
