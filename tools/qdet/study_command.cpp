// qdet study MODEL --images DIR --annotations JSON --calib DIR -o REPORT_DIR [--modes ...]:
// every precision variant made, evaluated, benchmarked and reported (src/study/study.h), in one
// process or in stages a scheduler runs as separate jobs (--stage, src/study/stages.h).
#include <cstdio>
#include <sstream>

#include "command.h"
#include "report/printers.h"
#include "study/stages.h"
#include "study/study.h"

namespace qdet::cli {
namespace {

struct StudyArgs {
  study::StudyOptions options;
  std::string modes = "fp32,fp16,dynamic,int8,int16x8";
  std::string stage = "all";
  std::string variant;
  std::string shard;
  // Options that only the whole study and --stage make take (later stages read plan.json).
  std::vector<CLI::Option*> plan_options;
  CLI::Option* threads = nullptr;
};

void say(const std::string& line) { std::fprintf(stderr, "study: %s\n", line.c_str()); }

void print_report(const study::StudyResult& r) {
  std::printf("%s", report::to_table(r.records).c_str());
  std::printf("report: %s\n", r.index_html.c_str());
  std::printf("also: %s, %s\n", r.report_md.c_str(), r.results_json.c_str());
}

// eval, bench, assemble: the settings come from the plan the make stage wrote.
study::StudyOptions planned_options(const StudyArgs& a, study::Stage stage) {
  for (const CLI::Option* opt : a.plan_options)
    if (opt->count() > 0)
      exit_on_error(invalid_argument("--stage {}: {} belongs to --stage make (later stages read {}/plan.json)",
                                     a.stage, opt->get_name(), a.options.output.string()));
  if (a.threads->count() > 0 && stage != study::Stage::kEval)
    exit_on_error(invalid_argument("--stage {}: --threads belongs to --stage make (benchmarks use the plan's)", a.stage));
  auto plan = study::load_plan(a.options.output);
  exit_on_error(plan.status());
  study::StudyOptions o = *plan;
  o.resume = a.options.resume;
  if (a.threads->count() > 0) o.threads = a.options.threads;  // evaluation only: same numbers
  return o;
}

void run_study(StudyArgs& a) {
  a.options.modes.clear();
  std::stringstream ss(a.modes);
  for (std::string m; std::getline(ss, m, ',');)
    if (!m.empty()) a.options.modes.push_back(m);
  auto stage = study::parse_stage(a.stage);
  exit_on_error(stage.status());
  if (!a.shard.empty() && *stage != study::Stage::kEval)
    exit_on_error(invalid_argument("--shard goes with --stage eval"));
  if (!a.variant.empty() && (*stage == study::Stage::kAll || *stage == study::Stage::kAssemble))
    exit_on_error(invalid_argument("--variant goes with --stage make, eval or bench"));
  if (*stage == study::Stage::kAll || *stage == study::Stage::kMake) {
    if (a.options.model.empty()) exit_on_error(invalid_argument("study: MODEL is required"));
    if (a.options.images.empty()) exit_on_error(invalid_argument("study: --images is required"));
    if (a.options.annotations.empty()) exit_on_error(invalid_argument("study: --annotations is required"));
  }
  switch (*stage) {
    case study::Stage::kAll: {
      auto r = study::run_study(a.options, say);
      exit_on_error(r.status());
      print_report(*r);
      return;
    }
    case study::Stage::kMake:
      exit_on_error(study::make_stage(a.options, a.variant, say));
      return;
    case study::Stage::kEval: {
      coco::Shard shard;
      if (!a.shard.empty()) {
        auto parsed = coco::parse_shard(a.shard);
        exit_on_error(parsed.status());
        shard = *parsed;
      }
      exit_on_error(study::eval_stage(planned_options(a, *stage), a.variant, shard, say));
      return;
    }
    case study::Stage::kBench:
      exit_on_error(study::bench_stage(planned_options(a, *stage), a.variant, say));
      return;
    case study::Stage::kAssemble: {
      auto r = study::assemble_stage(planned_options(a, *stage), say);
      exit_on_error(r.status());
      print_report(*r);
      return;
    }
  }
}

}  // namespace

void add_study_command(CLI::App& app) {
  auto a = std::make_shared<StudyArgs>();
  auto& o = a->options;
  auto* sub = app.add_subcommand(
      "study", "Every precision variant made, COCO-evaluated, benchmarked, and reported (HTML, markdown, JSON)");
  auto& plan = a->plan_options;
  plan.push_back(sub->add_option("model", o.model, "Source model (.tflite)"));
  plan.push_back(sub->add_option("--images", o.images, "Evaluation images folder"));
  plan.push_back(sub->add_option("--annotations", o.annotations, "COCO instances JSON"));
  plan.push_back(sub->add_option("--calib", o.calib,
                                 "Calibration images folder (int8, int16x8; never the evaluation images)"));
  sub->add_option("-o,--output", o.output, "Report folder")->required();
  plan.push_back(sub->add_option("--modes", a->modes, "Comma-separated: fp32,fp16,dynamic,int8,int16x8")
                     ->capture_default_str());
  a->threads = sub->add_option("--threads", o.threads, "Interpreter threads")->check(CLI::Range(1, 256))
                   ->capture_default_str();
  plan.push_back(sub->add_option("--limit", o.limit, "Evaluate only the first N images (0: all)")->capture_default_str());
  plan.push_back(sub->add_option("--calib-count", o.calib_count, "Use the first N calibration images (0: all)"));
  plan.push_back(sub->add_option("--runs", o.runs, "Timed benchmark runs per variant")->check(CLI::Range(1, 100000))
                     ->capture_default_str());
  plan.push_back(sub->add_option("--warmup", o.warmup, "Untimed benchmark runs first")->check(CLI::Range(0, 100000))
                     ->capture_default_str());
  plan.push_back(sub->add_option("--energy", o.energy, "auto | rapl | perf | nvml | estimate")->capture_default_str());
  plan.push_back(sub->add_option("--cpu-watts", o.cpu_watts,
                                 "Power (W) of the cores used, for the time x power energy estimate (default: from "
                                 "the CPU model)")
                     ->check(CLI::Range(0.0, 100000.0)));
  plan.push_back(sub->add_option("--pictures", o.pictures, "Images drawn side by side in the report")
                     ->capture_default_str());
  plan.push_back(sub->add_option("--preset", o.preset, "Preprocessing + head preset (default: recognised)"));
  plan.push_back(sub->add_flag("--peers", o.peers,
                               "Add latency-only rows for ONNX Runtime (--onnx) and TFLite-WASM (fp32, int8) when "
                               "node and the peers ($QDET_PEERS_DIR) are there"));
  plan.push_back(sub->add_option("--onnx", o.onnx, "ONNX model for an ONNX Runtime peer row (repeatable; implies --peers)")
                     ->allow_extra_args(false));
  for (CLI::Option* opt : add_input_shape_options(sub, o.input_shape, /*with_batch=*/false)) plan.push_back(opt);
  sub->add_flag("--resume", o.resume, "Keep finished variants (their .done files) and continue");
  sub->add_option("--stage", a->stage,
                  "all (default: everything in this process), or one part for a scheduler: make (writes "
                  "plan.json), eval, bench, assemble (these read plan.json from -o)")
      ->capture_default_str();
  sub->add_option("--variant", a->variant, "make, eval, bench: only this mode");
  sub->add_option("--shard", a->shard, "eval: part K of N (K from 0) of the images");
  sub->callback([a] { run_study(*a); });
}

}  // namespace qdet::cli
