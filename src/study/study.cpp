#include "study/study.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>

#include "base/json_text.h"
#include "base/file.h"
#include "base/paths.h"
#include "coco/dataset.h"
#include "quant/mode.h"
#include "report/html.h"
#include "report/printers.h"
#include "study/peers.h"
#include "study/stages.h"
#include "study/variant.h"

namespace qdet::study {
namespace {

namespace fs = std::filesystem;

// The study's variants are the quantizer's modes under their study names ("fp32" for float).
const quant::ModeInfo* study_mode(const std::string& name) {
  for (const quant::ModeInfo& m : quant::mode_table())
    if (name == m.study_name) return &m;
  return nullptr;
}

bool needs_calibration(const std::string& mode) {
  const quant::ModeInfo* m = study_mode(mode);
  return m && m->needs_calibration;
}

std::vector<report::PictureRow> load_pictures(const StudyOptions& o, const std::vector<report::Record>& records) {
  std::vector<report::PictureRow> rows;
  auto gt = coco::load_instances(o.annotations);
  if (!gt.ok()) return rows;
  const int n = std::min<int>(o.pictures, static_cast<int>(gt->images.size()));
  for (int i = 0; i < n; ++i) {
    report::PictureRow row;
    row.image_name = gt->images[i].file_name;
    for (const auto& r : records) {
      if (!r.error.empty()) continue;
      auto png = read_file(picture_path(o.output, r.variant, i));
      if (!png.ok()) continue;
      auto caption = read_text_file(fs::path(picture_path(o.output, r.variant, i)).replace_extension(".txt"));
      row.pictures.push_back({r.variant, std::move(*png), caption.ok() ? *caption : std::string()});
    }
    if (!row.pictures.empty()) rows.push_back(std::move(row));
  }
  return rows;
}

std::string today() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", std::localtime(&t));
  return buf;
}

}  // namespace

Result<report::Record> load_record(const fs::path& file) {
  QDET_ASSIGN_OR_RETURN(std::string text, read_text_file(file));
  try {
    auto r = report::record_from_json(nlohmann::json::parse(text));
    if (!r.ok()) return r.status().with_context(file.string());
    return r;
  } catch (const nlohmann::json::exception& e) {
    return parse_error("{}: {}", file.string(), e.what());
  }
}

Status write_record(const fs::path& file, const report::Record& record) {
  return write_file_atomic(file, json_text(report::to_json(record), 1) + "\n");
}

report::Record new_record(const StudyOptions& o, const std::string& mode) {
  report::Record rec;
  rec.variant = mode;
  rec.runtime = "qdet";
  rec.precision = mode_precision(mode);
  rec.threads = o.threads;
  return rec;
}

std::vector<std::string> modes_in_order(const StudyOptions& o) {
  // fp32 first: it is the baseline of ΔAP and of the pictures.
  std::vector<std::string> modes = o.modes;
  const std::string baseline = quant::mode_info(quant::Mode::kFloat).study_name;
  std::stable_partition(modes.begin(), modes.end(), [&](const std::string& m) { return m == baseline; });
  return modes;
}

std::vector<report::Record> run_peer_rows(const StudyOptions& o, const std::vector<report::Record>& records,
                                          std::string* warning, const std::function<void(const std::string&)>& progress) {
  std::vector<report::Record> rows;
  if (!o.peers && o.onnx.empty()) return rows;
  auto env = find_peers();
  if (!env.ok()) {
    *warning = fmt::format("--peers: no peer rows: {}", env.status().message());
    if (progress) progress("warning: " + *warning);
    return rows;
  }
  const auto jobs = peer_jobs(o, records);
  for (size_t k = 0; k < jobs.size(); ++k) {
    if (progress)
      progress(fmt::format("[peer {}/{} {}] {}: {} runs of {}", k + 1, jobs.size(), jobs[k].variant,
                           jobs[k].runtime, o.runs, jobs[k].model.filename().string()));
    report::Record rec = run_peer(*env, jobs[k], o);
    rec.host = host_name();
    if (progress)
      progress(rec.error.empty()
                   ? fmt::format("[peer {}/{} {}] {:.2f} ms median", k + 1, jobs.size(), jobs[k].variant,
                                 rec.latency->median_ms)
                   : fmt::format("[peer {}/{} {}] failed: {}", k + 1, jobs.size(), jobs[k].variant, rec.error));
    rows.push_back(std::move(rec));
  }
  return rows;
}

Status write_reports(const StudyOptions& o, StudyResult& result) {
  const std::string title = fmt::format("qdet study: {}", o.model.filename().string());
  const int images = result.records.empty() ? 0 : result.records.front().eval_images;
  std::vector<std::string> facts = {
      fmt::format("model {}", o.model.string()),
      fmt::format("COCO {} ({} images{})", o.annotations.filename().string(), images,
                  o.limit > 0 ? fmt::format(", --limit {}", o.limit) : ""),
      fmt::format("{} thread{}, {} timed runs", o.threads, o.threads == 1 ? "" : "s", o.runs),
      today()};
  if (!o.input_shape.empty()) {
    const rt::InputShapeRequest& r = o.input_shape;
    facts.push_back(r.shape.empty() ? fmt::format("run at input size {}x{}", r.width, r.height)
                                    : fmt::format("run at input shape {}", shape_to_string(r.shape)));
  }
  std::vector<std::string> hosts;
  for (const auto& r : result.records)
    if (!r.host.empty() && std::find(hosts.begin(), hosts.end(), r.host) == hosts.end()) hosts.push_back(r.host);
  if (hosts.size() == 1) facts.push_back(fmt::format("benchmarked on {}", hosts.front()));
  if (hosts.size() > 1)
    facts.push_back(fmt::format("benchmarked on {} hosts ({}): latencies are not comparable", hosts.size(),
                                fmt::join(hosts, ", ")));
  if (!result.peers_warning.empty()) facts.push_back(result.peers_warning);

  nlohmann::json j;
  j["model"] = o.model.string();
  j["images"] = o.images.string();
  j["annotations"] = o.annotations.string();
  j["calib"] = o.calib.string();
  j["limit"] = o.limit;
  j["threads"] = o.threads;
  if (!o.input_shape.shape.empty()) j["input_shape"] = o.input_shape.shape;
  if (o.input_shape.width > 0) j["input_size"] = {o.input_shape.width, o.input_shape.height};
  j["modes"] = o.modes;
  if (o.peers || !o.onnx.empty()) {
    j["peers"] = {{"onnx", nlohmann::json::array()}, {"warning", result.peers_warning}};
    for (const auto& p : o.onnx) j["peers"]["onnx"].push_back(p.string());
  }
  j["variants"] = report::to_json(result.records);

  std::string md = report::to_markdown(result.records, title);
  md.insert(md.find('\n') + 1, "\n" + [&] {
    std::string s;
    for (const auto& f : facts) s += "- " + f + "\n";
    return s;
  }());

  report::HtmlReport html{title, facts, result.records, load_pictures(o, result.records)};
  result.results_json = o.output / "results.json";
  result.report_md = o.output / "report.md";
  result.index_html = o.output / "index.html";
  QDET_TRY(write_file_atomic(result.results_json, json_text(j, 1) + "\n"));
  QDET_TRY(write_file_atomic(result.report_md, md));
  QDET_TRY(write_file_atomic(result.index_html, report::to_html(html)));
  return ok_status();
}

fs::path variant_model_path(const fs::path& dir, const std::string& mode) { return dir / (mode + ".tflite"); }
fs::path variant_done_path(const fs::path& dir, const std::string& mode) { return dir / (mode + ".done"); }
fs::path variant_results_path(const fs::path& dir, const std::string& mode) {
  return dir / (mode + ".results.json");
}

Status check_study_inputs(const StudyOptions& o) {
  if (o.modes.empty()) return invalid_argument("--modes: no mode given");
  std::set<std::string> seen;
  for (const auto& m : o.modes) {
    if (!study_mode(m)) {
      std::string names;
      for (const quant::ModeInfo& row : quant::mode_table())
        names += fmt::format("{}{}", names.empty() ? "" : ", ", row.study_name);
      return invalid_argument("--modes: unknown mode '{}' ({})", m, names);
    }
    if (!seen.insert(m).second) return invalid_argument("--modes: '{}' given twice", m);
  }
  std::error_code ec;
  if (!fs::is_regular_file(o.model, ec)) return not_found("{}: model file not found", o.model.string());
  if (!fs::is_directory(o.images, ec)) return not_found("{}: images folder not found", o.images.string());
  if (!fs::is_regular_file(o.annotations, ec))
    return not_found("{}: annotation file not found", o.annotations.string());
  const bool calib_needed = std::any_of(o.modes.begin(), o.modes.end(), needs_calibration);
  if (calib_needed && o.calib.empty())
    return invalid_argument("--calib DIR is needed for int8 and int16x8 (calibration images)");
  if (calib_needed && !fs::is_directory(o.calib, ec))
    return not_found("{}: calibration folder not found", o.calib.string());
  for (const auto& onnx : o.onnx) {
    if (!fs::is_regular_file(onnx, ec)) return not_found("{}: ONNX model not found", onnx.string());
    if (onnx.extension() != ".onnx") return invalid_argument("--onnx {}: expected a .onnx file", onnx.string());
  }
  if (o.output.empty()) return invalid_argument("-o REPORT_DIR is required");
  if (o.threads < 1) return invalid_argument("--threads must be at least 1");
  QDET_TRY(ensure_directory(o.output));
  // The folder exists; can we write in it? (root ignores permission bits, so try.)
  const fs::path probe = o.output / ".qdet-write-probe";
  Status s = write_file_atomic(probe, std::string_view("ok"));
  if (!s.ok()) return io_error("{}: report folder is not writable ({})", o.output.string(), s.message());
  fs::remove(probe, ec);
  return ok_status();
}

Result<StudyResult> run_study(const StudyOptions& o, const std::function<void(const std::string&)>& progress) {
  QDET_TRY(check_study_inputs(o));
  QDET_TRY(write_plan(o));
  StudyResult result;
  const std::vector<std::string> modes = modes_in_order(o);
  const int total = static_cast<int>(modes.size());
  for (int k = 0; k < total; ++k) {
    const std::string& mode = modes[k];
    auto say = [&](const std::string& line) {
      if (progress) progress(fmt::format("[{}/{} {}] {}", k + 1, total, mode, line));
    };
    const fs::path done = variant_done_path(o.output, mode);
    std::error_code ec;
    if (o.resume && fs::exists(done, ec)) {
      auto rec = load_record(done);
      if (rec.ok()) {
        say("finished before (resume): reused");
        result.records.push_back(std::move(*rec));
        result.reused.push_back(mode);
        continue;
      }
      say(fmt::format("done file unreadable, redoing: {}", rec.status().message()));
    }
    fs::remove(done, ec);  // a fresh run: the variant is not done until its new done file exists
    report::Record rec = new_record(o, mode);
    Status s = make_variant(o, mode, rec, say).with_context("make");
    if (s.ok()) s = evaluate_variant(o, mode, rec, say).with_context("evaluate");
    if (s.ok()) s = bench_variant(o, mode, rec, say).with_context("bench");
    if (s.ok()) s = draw_variant(o, mode, say).with_context("pictures");
    if (!s.ok()) {
      rec.error = s.message();
      say("failed: " + rec.error);
      result.records.push_back(std::move(rec));
      continue;
    }
    QDET_TRY(write_record(done, rec));
    say(fmt::format("done: AP {:.1f}, {:.2f} ms median, {:.2f} MB", 100 * rec.ap(),
                    rec.latency ? rec.latency->median_ms : 0.0, rec.file_bytes / 1e6));
    result.records.push_back(std::move(rec));
  }
  for (auto& row : run_peer_rows(o, result.records, &result.peers_warning, progress))
    result.records.push_back(std::move(row));
  if (progress) progress("writing the report");
  QDET_TRY(write_reports(o, result));
  return result;
}

}  // namespace qdet::study
