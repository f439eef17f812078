#include "study/stages.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>

#include "base/file.h"
#include "base/json_text.h"
#include "coco/results.h"
#include "report/printers.h"
#include "study/variant.h"

namespace qdet::study {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path plan_path(const fs::path& dir) { return dir / "plan.json"; }
fs::path peers_done_path(const fs::path& dir) { return dir / "peers.done"; }

// The modes a stage works on: every one in the plan (fp32 first), or `variant` alone.
Result<std::vector<std::string>> stage_modes(const StudyOptions& o, const std::string& variant) {
  std::vector<std::string> modes = modes_in_order(o);
  if (variant.empty()) return modes;
  if (std::find(modes.begin(), modes.end(), variant) == modes.end())
    return invalid_argument("--variant {}: not a mode of this study ({})", variant, fmt::join(modes, ", "));
  return std::vector<std::string>{variant};
}

struct VariantError {
  std::string stage, error;
};

std::optional<VariantError> read_error(const fs::path& dir, const std::string& mode) {
  std::error_code ec;
  if (!fs::exists(error_path(dir, mode), ec)) return std::nullopt;
  auto text = read_text_file(error_path(dir, mode));
  try {
    if (text.ok()) {
      const json j = json::parse(*text);
      return VariantError{j.at("stage").get<std::string>(), j.at("error").get<std::string>()};
    }
  } catch (const json::exception&) {
  }
  return VariantError{"?", fmt::format("{} is unreadable", error_path(dir, mode).string())};
}

Status write_error(const fs::path& dir, const std::string& mode, const std::string& stage, const std::string& error) {
  return write_file_atomic(error_path(dir, mode), json_text(json{{"stage", stage}, {"error", error}}, 1) + "\n");
}

// Every part of `mode` a fresh make replaces: its records, shards, merged results and error.
void remove_parts(const fs::path& dir, const std::string& mode) {
  std::error_code ec;
  for (const fs::path& p : {make_done_path(dir, mode), bench_done_path(dir, mode), variant_done_path(dir, mode),
                            error_path(dir, mode), variant_results_path(dir, mode)})
    fs::remove(p, ec);
  const std::regex shard_file("^" + mode + R"(\.results\.shard-[0-9]+-of-[0-9]+\.(json|done|json\.progress\.jsonl)$)");
  std::vector<fs::path> stale;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (std::regex_match(entry.path().filename().string(), shard_file)) stale.push_back(entry.path());
  for (const auto& p : stale) fs::remove(p, ec);
}

// Whether a later stage can work on `mode`: made (ok), make failed (skip, *skip set), or not
// made yet (an error: the scheduler ran the stages out of order).
Status check_made(const StudyOptions& o, const std::string& mode, bool* skip) {
  *skip = false;
  std::error_code ec;
  if (auto e = read_error(o.output, mode); e && e->stage == "make") {
    *skip = true;
    return ok_status();
  }
  if (!fs::exists(make_done_path(o.output, mode), ec))
    return not_found("{}: not made yet (no {}): run --stage make first", mode,
                     make_done_path(o.output, mode).string());
  return ok_status();
}

// The row of `mode` from its parts; `error` set when one is missing or failed.
report::Record assemble_variant(const StudyOptions& o, const std::string& mode) {
  std::error_code ec;
  report::Record rec = new_record(o, mode);
  if (auto e = read_error(o.output, mode)) {
    rec.error = e->stage + ": " + e->error;
    return rec;
  }
  if (!fs::exists(make_done_path(o.output, mode), ec)) {
    // A one-process study leaves no parts, only the variant's record.
    if (auto done = load_record(variant_done_path(o.output, mode)); done.ok()) return *done;
    rec.error = fmt::format("make: not finished (no {})", make_done_path(o.output, mode).filename().string());
    return rec;
  }
  auto bench = load_record(bench_done_path(o.output, mode));
  if (!bench.ok()) {
    rec.error = fmt::format("bench: not finished ({})", bench.status().message());
    return rec;
  }
  rec = *bench;  // make's row (size, notes) with the benchmark's measurements
  auto merged = coco::merge_shards(variant_results_path(o.output, mode), o.annotations);
  if (!merged.ok()) {
    rec.error = "evaluate: " + merged.status().message();
    return rec;
  }
  Status written = coco::write_results(variant_results_path(o.output, mode), merged->detections);
  if (!written.ok()) {
    rec.error = "evaluate: " + written.message();
    return rec;
  }
  rec.coco_stats.assign(merged->eval.stats.begin(), merged->eval.stats.end());
  rec.per_class_ap.clear();
  for (const auto& c : merged->eval.per_category) rec.per_class_ap[c.name] = c.ap;
  rec.eval_images = merged->images;
  for (const auto& n : merged->records.front().notes) rec.notes.push_back(n);
  if (!merged->failures.empty())
    rec.notes.push_back(fmt::format("{} of {} images could not be read", merged->failures.size(), merged->images));
  if (merged->shards > 1) {
    std::vector<std::string> hosts;
    for (const auto& r : merged->records)
      if (std::find(hosts.begin(), hosts.end(), r.host) == hosts.end()) hosts.push_back(r.host);
    rec.notes.push_back(fmt::format("evaluated in {} shards (on {})", merged->shards, fmt::join(hosts, ", ")));
  }
  return rec;
}

}  // namespace

Result<Stage> parse_stage(const std::string& name) {
  if (name == "all") return Stage::kAll;
  if (name == "make") return Stage::kMake;
  if (name == "eval") return Stage::kEval;
  if (name == "bench") return Stage::kBench;
  if (name == "assemble") return Stage::kAssemble;
  return invalid_argument("--stage '{}': expected all, make, eval, bench or assemble", name);
}

fs::path make_done_path(const fs::path& dir, const std::string& mode) { return dir / (mode + ".make.done"); }
fs::path bench_done_path(const fs::path& dir, const std::string& mode) { return dir / (mode + ".bench.done"); }
fs::path error_path(const fs::path& dir, const std::string& mode) { return dir / (mode + ".error"); }

Status write_plan(const StudyOptions& o) {
  auto abs = [](const fs::path& p) { return p.empty() ? std::string() : fs::absolute(p).lexically_normal().string(); };
  json j;
  j["model"] = abs(o.model);
  j["images"] = abs(o.images);
  j["annotations"] = abs(o.annotations);
  j["calib"] = abs(o.calib);
  j["modes"] = o.modes;
  j["threads"] = o.threads;
  j["limit"] = o.limit;
  j["calib_count"] = o.calib_count;
  j["runs"] = o.runs;
  j["warmup"] = o.warmup;
  j["energy"] = o.energy;
  j["cpu_watts"] = o.cpu_watts;
  j["pictures"] = o.pictures;
  j["preset"] = o.preset;
  j["peers"] = o.peers;
  j["onnx"] = json::array();
  for (const auto& p : o.onnx) j["onnx"].push_back(abs(p));
  j["input_shape"] = {{"shape", o.input_shape.shape}, {"width", o.input_shape.width}, {"height", o.input_shape.height}};
  return write_file_atomic(plan_path(o.output), json_text(j, 1) + "\n");
}

Result<StudyOptions> load_plan(const fs::path& dir) {
  const fs::path file = plan_path(dir);
  std::error_code ec;
  if (!fs::exists(file, ec)) return not_found("{}: no study plan here: run --stage make first", file.string());
  QDET_ASSIGN_OR_RETURN(std::string text, read_text_file(file));
  try {
    const json j = json::parse(text);
    StudyOptions o;
    o.output = dir;
    o.model = j.at("model").get<std::string>();
    o.images = j.at("images").get<std::string>();
    o.annotations = j.at("annotations").get<std::string>();
    o.calib = j.at("calib").get<std::string>();
    o.modes = j.at("modes").get<std::vector<std::string>>();
    o.threads = j.at("threads").get<int>();
    o.limit = j.at("limit").get<int>();
    o.calib_count = j.at("calib_count").get<int>();
    o.runs = j.at("runs").get<int>();
    o.warmup = j.at("warmup").get<int>();
    o.energy = j.at("energy").get<std::string>();
    o.cpu_watts = j.value("cpu_watts", 0.0);
    o.pictures = j.at("pictures").get<int>();
    o.preset = j.at("preset").get<std::string>();
    o.peers = j.at("peers").get<bool>();
    for (const auto& p : j.at("onnx")) o.onnx.emplace_back(p.get<std::string>());
    if (j.contains("input_shape")) {
      const json& s = j.at("input_shape");
      o.input_shape.shape = s.at("shape").get<std::vector<int32_t>>();
      o.input_shape.width = s.at("width").get<int>();
      o.input_shape.height = s.at("height").get<int>();
    }
    return o;
  } catch (const json::exception& e) {
    return parse_error("{}: {}", file.string(), e.what());
  }
}

Status make_stage(const StudyOptions& o, const std::string& variant, const StageProgress& progress) {
  QDET_TRY(check_study_inputs(o));
  QDET_ASSIGN_OR_RETURN(auto modes, stage_modes(o, variant));
  QDET_TRY(write_plan(o));
  std::error_code ec;
  for (const auto& mode : modes) {
    auto say = [&](const std::string& line) {
      if (progress) progress(fmt::format("[make {}] {}", mode, line));
    };
    if (o.resume && fs::exists(make_done_path(o.output, mode), ec) && !read_error(o.output, mode)) {
      say("made before (resume): kept");
      continue;
    }
    remove_parts(o.output, mode);
    report::Record rec = new_record(o, mode);
    Status s = make_variant(o, mode, rec, say);
    if (!s.ok()) {
      say("failed: " + s.message());
      QDET_TRY(write_error(o.output, mode, "make", s.message()));
      continue;
    }
    QDET_TRY(write_record(make_done_path(o.output, mode), rec));
    say(fmt::format("made: {:.2f} MB", rec.file_bytes / 1e6));
  }
  return ok_status();
}

Status eval_stage(const StudyOptions& o, const std::string& variant, coco::Shard shard, const StageProgress& progress) {
  QDET_ASSIGN_OR_RETURN(auto modes, stage_modes(o, variant));
  for (const auto& mode : modes) {
    auto say = [&](const std::string& line) {
      if (progress) progress(fmt::format("[eval {} {}/{}] {}", mode, shard.index, shard.count, line));
    };
    bool skip = false;
    QDET_TRY(check_made(o, mode, &skip));
    if (skip) {
      say("skipped: its make failed");
      continue;
    }
    coco::ModelEvalOptions e = variant_eval_options(o, mode);
    e.shard = shard;
    auto r = coco::evaluate_model(e, eval_progress_lines(say));
    if (!r.ok()) {
      say("failed: " + r.status().message());
      QDET_TRY(write_error(o.output, mode, "evaluate", r.status().message()));
      continue;
    }
    say(fmt::format("done: {} images{}, {} detections{}", r->images,
                    r->resumed_images == r->images ? " (finished before)" : "", r->detections,
                    r->failed_images ? fmt::format(", {} unreadable", r->failed_images) : ""));
  }
  return ok_status();
}

Status bench_stage(const StudyOptions& o, const std::string& variant, const StageProgress& progress) {
  QDET_ASSIGN_OR_RETURN(auto modes, stage_modes(o, variant));
  std::error_code ec;
  std::vector<report::Record> records;
  for (const auto& mode : modes) {
    auto say = [&](const std::string& line) {
      if (progress) progress(fmt::format("[bench {}] {}", mode, line));
    };
    bool skip = false;
    QDET_TRY(check_made(o, mode, &skip));
    if (skip) {
      say("skipped: its make failed");
      continue;
    }
    if (o.resume && fs::exists(bench_done_path(o.output, mode), ec)) {
      if (auto rec = load_record(bench_done_path(o.output, mode)); rec.ok()) {
        say("benchmarked before (resume): kept");
        records.push_back(std::move(*rec));
        continue;
      }
    }
    fs::remove(bench_done_path(o.output, mode), ec);
    QDET_ASSIGN_OR_RETURN(report::Record rec, load_record(make_done_path(o.output, mode)));
    Status s = bench_variant(o, mode, rec, say).with_context("bench");
    if (s.ok()) s = draw_variant(o, mode, say).with_context("pictures");
    if (!s.ok()) {
      say("failed: " + s.message());
      QDET_TRY(write_error(o.output, mode, "bench", s.message()));
      continue;
    }
    QDET_TRY(write_record(bench_done_path(o.output, mode), rec));
    say(fmt::format("done on {}: {:.2f} ms median", rec.host, rec.latency ? rec.latency->median_ms : 0.0));
    records.push_back(std::move(rec));
  }
  if (variant.empty() && (o.peers || !o.onnx.empty())) {
    std::string warning;
    auto rows = run_peer_rows(o, records, &warning, progress);
    QDET_TRY(write_file_atomic(peers_done_path(o.output),
                               json_text(json{{"warning", warning}, {"rows", report::to_json(rows)}}, 1) + "\n"));
  }
  return ok_status();
}

Result<StudyResult> assemble_stage(const StudyOptions& o, const StageProgress& progress) {
  StudyResult result;
  for (const auto& mode : modes_in_order(o)) {
    report::Record rec = assemble_variant(o, mode);
    if (rec.error.empty()) {
      QDET_TRY(write_record(variant_done_path(o.output, mode), rec));
      if (progress)
        progress(fmt::format("[assemble {}] AP {:.1f}, {:.2f} ms median on {}", mode, 100 * rec.ap(),
                             rec.latency ? rec.latency->median_ms : 0.0, rec.host));
    } else if (progress) {
      progress(fmt::format("[assemble {}] failed: {}", mode, rec.error));
    }
    result.records.push_back(std::move(rec));
  }
  std::error_code ec;
  if (fs::exists(peers_done_path(o.output), ec)) {
    QDET_ASSIGN_OR_RETURN(std::string text, read_text_file(peers_done_path(o.output)));
    try {
      const json j = json::parse(text);
      result.peers_warning = j.at("warning").get<std::string>();
      for (const auto& row : j.at("rows")) {
        auto rec = report::record_from_json(row);
        if (!rec.ok()) return rec.status().with_context(peers_done_path(o.output).string());
        result.records.push_back(std::move(*rec));
      }
    } catch (const json::exception& e) {
      return parse_error("{}: {}", peers_done_path(o.output).string(), e.what());
    }
  }
  if (progress) progress("writing the report");
  QDET_TRY(write_reports(o, result));
  return result;
}

}  // namespace qdet::study
