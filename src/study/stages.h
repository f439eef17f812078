// `qdet study --stage ...`: the study in parts that a scheduler runs as separate jobs (a Slurm
// array, a Kubernetes Indexed Job, GNU parallel over ssh: deploy/). Every part writes its files
// atomically into the report folder, which all jobs share, and a `.done` record last:
//
//   make      the variants (all, or one with --variant): MODE.tflite, MODE.make.done (the row so
//             far: size, notes), plan.json (the study's settings, paths made absolute; the other
//             stages read it, so they take only -o)
//   eval      shard K/N of the variants' evaluation (coco/shard.h):
//             MODE.results.shard-K-of-N.json and MODE.results.shard-K-of-N.done
//   bench     the variants' benchmarks and pictures, on the node that runs it (its host name is
//             recorded): MODE.bench.done, pictures/MODE_N.png; peer rows (peers.done) when the
//             plan asks for them and every variant is benchmarked
//   assemble  each variant's row from its parts (the shards merged into MODE.results.json, equal
//             to an unsharded evaluation's), MODE.done, then results.json, report.md, index.html
//
// A variant that fails in a stage (a mode the runtime cannot run, an empty calibration folder)
// gets MODE.error ({"stage", "error"}) and the job goes on with the next variant and exits 0, as
// the one-process study makes such a variant a row with its error; assemble shows that row.
// Later stages skip a variant whose make failed. A missing part (a shard or a benchmark that
// never finished) is also a row with an error naming it. Stage jobs are safe to rerun:
// with `resume`, finished parts (their .done files) are kept and a shard continues its journal.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "coco/shard.h"
#include "report/record.h"
#include "study/study.h"

namespace qdet::study {

using StageProgress = std::function<void(const std::string&)>;

enum class Stage { kAll, kMake, kEval, kBench, kAssemble };
// "all", "make", "eval", "bench", "assemble".
Result<Stage> parse_stage(const std::string& name);

// plan.json in options.output: every StudyOptions field but `output` and `resume`, paths absolute.
Status write_plan(const StudyOptions& options);
// Reads REPORT_DIR/plan.json; `output` is set to `dir`.
Result<StudyOptions> load_plan(const std::filesystem::path& dir);

// Each stage works on options.modes, or only `variant` when it is not empty (it must be one of them).
Status make_stage(const StudyOptions& options, const std::string& variant, const StageProgress& progress);
Status eval_stage(const StudyOptions& options, const std::string& variant, coco::Shard shard,
                  const StageProgress& progress);
Status bench_stage(const StudyOptions& options, const std::string& variant, const StageProgress& progress);
Result<StudyResult> assemble_stage(const StudyOptions& options, const StageProgress& progress);

// Part file names in the report folder.
std::filesystem::path make_done_path(const std::filesystem::path& dir, const std::string& mode);
std::filesystem::path bench_done_path(const std::filesystem::path& dir, const std::string& mode);
std::filesystem::path error_path(const std::filesystem::path& dir, const std::string& mode);

// Shared by run_study() and the stages (study.cpp).
report::Record new_record(const StudyOptions& options, const std::string& mode);
std::vector<std::string> modes_in_order(const StudyOptions& options);  // fp32 first
Result<report::Record> load_record(const std::filesystem::path& file);
Status write_record(const std::filesystem::path& file, const report::Record& record);
std::vector<report::Record> run_peer_rows(const StudyOptions& options, const std::vector<report::Record>& records,
                                          std::string* warning, const StageProgress& progress);
Status write_reports(const StudyOptions& options, StudyResult& result);

}  // namespace qdet::study
