#include "report/printers.h"

#include <fmt/format.h>

#include <algorithm>

namespace qdet::report {
namespace {

// One column of the table/markdown printers: a header and a cell formatter.
struct Column {
  const char* header;
  bool right_aligned;
  std::string (*cell)(const Record& r, const Record* base);
};

std::string fmt_or_dash(bool have, double v, const char* f) {
  return have ? fmt::format(fmt::runtime(f), v) : "-";
}

std::string energy_cell(const Record& r) {
  if (!r.energy) return "-";
  double mj = r.energy->per_inference_j * 1e3;
  return fmt::format("{:.2f} mJ ({})", mj, bench::energy_method_label(r.energy->method));
}

std::string arithmetic_cell(const Record& r) {
  if (!r.arithmetic_energy) return "-";
  return fmt::format("{:.2f} mJ", r.arithmetic_energy->per_inference_j * 1e3);
}

const Column kColumns[] = {
    {"variant", false, [](const Record& r, const Record*) { return r.variant; }},
    {"runtime", false, [](const Record& r, const Record*) { return r.runtime; }},
    {"precision", false, [](const Record& r, const Record*) { return r.precision; }},
    {"size MB", true,
     [](const Record& r, const Record*) { return fmt_or_dash(r.file_bytes > 0, r.file_bytes / 1e6, "{:.2f}"); }},
    {"AP", true,
     [](const Record& r, const Record*) { return fmt_or_dash(r.ap() >= 0, 100 * r.ap(), "{:.1f}"); }},
    {"AP50", true,
     [](const Record& r, const Record*) { return fmt_or_dash(r.ap50() >= 0, 100 * r.ap50(), "{:.1f}"); }},
    {"ΔAP", true,
     [](const Record& r, const Record* b) {
       bool have = b && b != &r && r.ap() >= 0 && b->ap() >= 0;
       return have ? fmt::format("{:+.1f}", 100 * (r.ap() - b->ap())) : std::string("-");
     }},
    {"p50 ms", true,
     [](const Record& r, const Record*) {
       return fmt_or_dash(r.latency.has_value(), r.latency ? r.latency->median_ms : 0, "{:.2f}");
     }},
    {"FPS", true, [](const Record& r, const Record*) { return fmt_or_dash(r.fps() > 0, r.fps(), "{:.1f}"); }},
    {"MACs ran by", false,
     [](const Record& r, const Record*) {
       const std::string k = r.main_kernel();
       return k.empty() ? std::string("-") : k;
     }},
    {"energy/inference", true, [](const Record& r, const Record*) { return energy_cell(r); }},
    {"arithmetic energy", true, [](const Record& r, const Record*) { return arithmetic_cell(r); }},
};

// Display width in code points (headers hold "Δ").
size_t display_width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string pad(const std::string& s, size_t width, bool right) {
  size_t w = display_width(s);
  std::string fill(width > w ? width - w : 0, ' ');
  return right ? fill + s : s + fill;
}

}  // namespace

std::vector<std::string> table_headers() {
  std::vector<std::string> h;
  for (const auto& c : kColumns) h.push_back(c.header);
  return h;
}

std::vector<std::string> table_cells(const Record& record, const Record* base) {
  std::vector<std::string> cells;
  for (const auto& c : kColumns) cells.push_back(c.cell(record, base));
  return cells;
}

bool column_right_aligned(size_t column) {
  return column < std::size(kColumns) && kColumns[column].right_aligned;
}

std::string to_table(const std::vector<Record>& records) {
  const Record* base = baseline_of(records);
  std::vector<std::vector<std::string>> cells;
  std::vector<size_t> widths;
  for (const auto& c : kColumns) widths.push_back(display_width(c.header));
  for (const auto& r : records) {
    auto& row = cells.emplace_back();
    for (size_t i = 0; i < std::size(kColumns); ++i) {
      row.push_back(kColumns[i].cell(r, base));
      widths[i] = std::max(widths[i], display_width(row.back()));
    }
  }
  std::string out;
  for (size_t i = 0; i < std::size(kColumns); ++i)
    out += (i ? "  " : "") + pad(kColumns[i].header, widths[i], kColumns[i].right_aligned);
  out += "\n";
  for (const auto& row : cells) {
    for (size_t i = 0; i < row.size(); ++i)
      out += (i ? "  " : "") + pad(row[i], widths[i], kColumns[i].right_aligned);
    out += "\n";
  }
  for (const auto& r : records)
    if (!r.error.empty()) out += fmt::format("{}: failed: {}\n", r.variant, r.error);
  return out;
}

std::string to_markdown(const std::vector<Record>& records, const std::string& title) {
  const Record* base = baseline_of(records);
  std::string out = fmt::format("# {}\n\n|", title);
  for (const auto& c : kColumns) out += fmt::format(" {} |", c.header);
  out += "\n|";
  for (const auto& c : kColumns) out += c.right_aligned ? " ---: |" : " --- |";
  out += "\n";
  for (const auto& r : records) {
    out += "|";
    for (const auto& c : kColumns) out += fmt::format(" {} |", c.cell(r, base));
    out += "\n";
  }
  bool any_energy = false;
  for (const auto& r : records) {
    if (!r.energy) continue;
    if (!any_energy) out += "\nEnergy per inference, how each number was obtained:\n\n";
    any_energy = true;
    out += fmt::format("- {} ({}): {}\n", r.variant, r.runtime, r.energy->source);
  }
  if (any_energy)
    out += "\nArithmetic energy: MACs and bytes moved x energy per operation by precision (Horowitz, ISSCC "
           "2014), what hardware with native int8/fp16 units would spend; not what this CPU spent.\n";
  bool any_peer = false;
  for (const auto& r : records) {
    if (!r.peer || !r.error.empty()) continue;
    if (!any_peer) out += "\nPeer rows (latency only: not evaluated on COCO, no energy), each timed in one node process:\n\n";
    any_peer = true;
    out += fmt::format("- {} ({}, {} thread{}): {} timed runs after {} warm-up, seeded random input; {}\n", r.variant,
                       r.runtime, r.threads, r.threads == 1 ? "" : "s", r.latency ? r.latency->count : 0,
                       r.warmup_runs, r.model_path);
  }
  bool any_note = false;
  for (const auto& r : records)
    for (const auto& note : r.notes) {
      if (!any_note) out += "\nNotes:\n\n";
      any_note = true;
      out += fmt::format("- {}: {}\n", r.variant, note);
    }
  bool any_error = false;
  for (const auto& r : records) {
    if (r.error.empty()) continue;
    if (!any_error) out += "\nFailed variants:\n\n";
    any_error = true;
    out += fmt::format("- {} ({}): {}\n", r.variant, r.runtime, r.error);
  }
  return out;
}

nlohmann::json to_json(const Record& r) {
  nlohmann::json j;
  j["variant"] = r.variant;
  j["runtime"] = r.runtime;
  j["precision"] = r.precision;
  j["model_path"] = r.model_path;
  j["threads"] = r.threads;
  if (r.peer) {
    j["peer"] = true;
    j["measures"] = "latency only";
  }
  j["size"] = {{"file_bytes", r.file_bytes}, {"by_dtype", r.bytes_by_dtype}};
  j["macs"] = r.macs_by_dtype;
  if (!r.coco_stats.empty()) {
    j["coco"] = {{"stats", r.coco_stats}, {"per_class_ap", r.per_class_ap}, {"images", r.eval_images}};
  }
  if (r.latency) {
    const auto& l = *r.latency;
    j["latency_ms"] = {{"min", l.min_ms},   {"median", l.median_ms}, {"p90", l.p90_ms},
                       {"p99", l.p99_ms},   {"max", l.max_ms},       {"mean", l.mean_ms},
                       {"stddev", l.stddev_ms}, {"cv", l.cv},        {"runs", l.count},
                       {"warmup", r.warmup_runs}, {"samples", r.latency_samples_ms}};
    j["throughput_fps"] = r.fps();
  }
  j["memory"] = {{"peak_rss_bytes", r.peak_rss_bytes}, {"arena_bytes", r.arena_bytes}};
  if (r.energy) {
    const auto& e = *r.energy;
    j["energy"] = {{"method", e.method},         {"measured", e.measured},
                   {"total_j", e.total_j},       {"per_inference_j", e.per_inference_j},
                   {"window_s", e.window_s},     {"idle_w", e.idle_w},
                   {"runs", e.runs},             {"source", e.source},
                   {"unavailable", e.unavailable}};
  }
  if (r.arithmetic_energy) {
    const auto& e = *r.arithmetic_energy;
    j["energy"]["arithmetic"] = {{"per_inference_j", e.per_inference_j}, {"total_j", e.total_j},
                                 {"source", e.source}};
  }
  if (!r.host.empty()) j["host"] = r.host;
  if (!r.kernels.empty()) j["kernels"] = r.kernels;
  if (!r.macs_by_kernel.empty()) j["macs_by_kernel"] = r.macs_by_kernel;
  if (!r.error.empty()) j["error"] = r.error;
  j["notes"] = r.notes;
  return j;
}

nlohmann::json to_json(const std::vector<Record>& records) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& r : records) arr.push_back(to_json(r));
  return arr;
}

Result<Record> record_from_json(const nlohmann::json& j) {
  try {
    Record r;
    r.variant = j.at("variant").get<std::string>();
    r.runtime = j.value("runtime", "qdet");
    r.precision = j.value("precision", "");
    r.model_path = j.value("model_path", "");
    r.threads = j.value("threads", 1);
    r.peer = j.value("peer", false);
    if (j.contains("size")) {
      r.file_bytes = j["size"].value("file_bytes", int64_t{0});
      if (j["size"].contains("by_dtype")) r.bytes_by_dtype = j["size"]["by_dtype"].get<std::map<std::string, int64_t>>();
    }
    if (j.contains("macs")) r.macs_by_dtype = j["macs"].get<std::map<std::string, double>>();
    if (j.contains("coco")) {
      r.coco_stats = j["coco"].at("stats").get<std::vector<double>>();
      r.per_class_ap = j["coco"].value("per_class_ap", std::map<std::string, double>{});
      r.eval_images = j["coco"].value("images", 0);
    }
    if (j.contains("latency_ms")) {
      const auto& l = j["latency_ms"];
      bench::LatencyStats s;
      s.min_ms = l.at("min");
      s.median_ms = l.at("median");
      s.p90_ms = l.at("p90");
      s.p99_ms = l.at("p99");
      s.max_ms = l.value("max", s.p99_ms);
      s.mean_ms = l.at("mean");
      s.stddev_ms = l.value("stddev", 0.0);
      s.cv = l.value("cv", 0.0);
      s.count = l.value("runs", 0);
      r.latency = s;
      r.warmup_runs = l.value("warmup", 0);
      r.latency_samples_ms = l.value("samples", std::vector<double>{});
    }
    if (j.contains("memory")) {
      r.peak_rss_bytes = j["memory"].value("peak_rss_bytes", int64_t{0});
      r.arena_bytes = j["memory"].value("arena_bytes", int64_t{0});
    }
    if (j.contains("energy")) {
      const auto& e = j["energy"];
      bench::EnergyResult er;
      er.method = e.at("method");
      er.measured = e.value("measured", false);
      er.total_j = e.value("total_j", 0.0);
      er.per_inference_j = e.at("per_inference_j");
      er.window_s = e.value("window_s", 0.0);
      er.idle_w = e.value("idle_w", 0.0);
      er.runs = e.value("runs", 0);
      er.source = e.value("source", "");
      er.unavailable = e.value("unavailable", std::vector<std::string>{});
      r.energy = er;
      if (e.contains("arithmetic")) {
        bench::EnergyResult a;
        a.method = "arithmetic";
        a.per_inference_j = e["arithmetic"].at("per_inference_j");
        a.total_j = e["arithmetic"].value("total_j", 0.0);
        a.runs = er.runs;
        a.source = e["arithmetic"].value("source", "");
        r.arithmetic_energy = a;
      }
    }
    r.host = j.value("host", "");
    r.kernels = j.value("kernels", std::map<std::string, int>{});
    r.macs_by_kernel = j.value("macs_by_kernel", std::map<std::string, double>{});
    r.error = j.value("error", "");
    r.notes = j.value("notes", std::vector<std::string>{});
    return r;
  } catch (const nlohmann::json::exception& e) {
    return parse_error("record: {}", e.what());
  }
}

}  // namespace qdet::report
