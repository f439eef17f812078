#include "report/html.h"

#include <fmt/format.h>

#include "report/printers.h"
#include "report/svg_charts.h"

namespace qdet::report {
namespace {

constexpr const char* kStyle = R"(
:root { --fg:#1d2330; --muted:#667085; --line:#e4e7ec; --bg:#f7f8fa; --card:#fff; --accent:#1f77b4; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
       color:var(--fg); background:var(--bg); }
main { max-width:1180px; margin:0 auto; padding:28px 24px 60px; }
h1 { font-size:26px; margin:0 0 6px; }
h2 { font-size:18px; margin:0 0 12px; }
.facts { color:var(--muted); margin:0 0 22px; padding:0; list-style:none; }
.facts li { display:inline; margin-right:18px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:18px 20px;
        margin:0 0 20px; overflow-x:auto; }
.grid2 { display:grid; grid-template-columns:repeat(auto-fit,minmax(520px,1fr)); gap:20px; }
.grid2 .card { margin:0; }
table { border-collapse:collapse; width:100%; font-variant-numeric:tabular-nums; }
th, td { padding:7px 10px; border-bottom:1px solid var(--line); white-space:nowrap; }
th { text-align:left; color:var(--muted); font-weight:600; font-size:13px; }
td.num, th.num { text-align:right; }
tr.failed td { color:#b42318; }
tr.failed td.err { white-space:normal; }
.swatch { display:inline-block; width:10px; height:10px; border-radius:50%; margin-right:7px; }
.note { color:var(--muted); font-size:13px; margin:10px 0 0; }
svg.chart { max-width:100%; height:auto; display:block; }
svg .grid { stroke:#eef0f3; }
svg .axis { stroke:#98a2b3; }
svg text { font-family:inherit; fill:var(--fg); }
svg .tick { font-size:11px; fill:var(--muted); }
svg .label { font-size:12px; fill:var(--muted); }
svg .pointlabel, svg .barlabel { font-size:12px; }
svg .bartext { font-size:11.5px; fill:var(--muted); }
svg .classlabel { font-size:10.5px; fill:var(--muted); }
svg .pareto { fill:none; stroke:#344054; stroke-width:1.5; stroke-dasharray:5 4; }
svg circle { stroke:#fff; stroke-width:1.5; }
svg .front circle { stroke:#344054; }
svg rect.estimate { opacity:.55; }
.pics { display:grid; grid-template-columns:repeat(auto-fill,minmax(260px,1fr)); gap:12px; margin:0 0 18px; }
figure { margin:0; }
figure img { width:100%; height:auto; border-radius:6px; border:1px solid var(--line); display:block; }
figcaption { font-size:13px; color:var(--muted); margin-top:4px; }
figcaption b { color:var(--fg); }
.empty { color:var(--muted); }
.tag { font-size:11px; color:var(--muted); border:1px solid var(--line); border-radius:4px; padding:0 4px; }
tr.peer td { background:#fbfbfc; }
svg .leader { stroke:#98a2b3; stroke-width:1; }
svg .peerline { stroke:#98a2b3; stroke-width:1.2; stroke-dasharray:2 3; }
svg .peerlabel { font-size:11px; fill:var(--muted); }
)";

// Marks each chart and the page once laid out; an error in here shows up in the console.
constexpr const char* kScript = R"(
(function () {
  var charts = document.querySelectorAll('svg.chart');
  var rendered = 0;
  charts.forEach(function (svg) {
    var box = svg.getBBox();
    if (box.width > 0 && box.height > 0) { svg.setAttribute('data-rendered', '1'); rendered++; }
  });
  // Labels on the AP/latency chart that overlap as laid out by the browser (expected: none).
  var overlaps = [];
  document.querySelectorAll('#chart-ap-latency').forEach(function (svg) {
    var boxes = [];
    svg.querySelectorAll('text.pointlabel, text.peerlabel').forEach(function (t) {
      var b = t.getBoundingClientRect();
      boxes.forEach(function (o) {
        if (b.left < o.b.right - 0.5 && o.b.left < b.right - 0.5 && b.top < o.b.bottom - 0.5 && o.b.top < b.bottom - 0.5)
          overlaps.push(o.t.textContent + ' / ' + t.textContent);
      });
      boxes.push({ b: b, t: t });
    });
  });
  document.body.setAttribute('data-label-overlaps', String(overlaps.length));
  if (overlaps.length) document.body.setAttribute('data-overlapping', overlaps.join('; '));
  document.body.setAttribute('data-rendered', String(rendered));
  document.body.setAttribute('data-charts', String(charts.length));
})();
)";

std::string table_html(const std::vector<Record>& records) {
  const Record* base = baseline_of(records);
  const auto headers = table_headers();
  std::string s = "<table id=\"results\">\n<thead><tr>";
  for (size_t i = 0; i < headers.size(); ++i)
    s += fmt::format("<th{}>{}</th>", column_right_aligned(i) ? " class=\"num\"" : "", html_escape(headers[i]));
  s += "</tr></thead>\n<tbody>\n";
  for (size_t k = 0; k < records.size(); ++k) {
    const Record& r = records[k];
    if (!r.error.empty()) {
      s += fmt::format(
          "<tr class=\"failed\"><td><span class=\"swatch\" style=\"background:{}\"></span>{}</td><td>{}</td>"
          "<td>{}</td><td class=\"err\" colspan=\"{}\">failed: {}</td></tr>\n",
          variant_color(k), html_escape(r.variant), html_escape(r.runtime), html_escape(r.precision),
          headers.size() - 3, html_escape(r.error));
      continue;
    }
    const auto cells = table_cells(r, base);
    s += r.peer ? "<tr class=\"peer\">" : "<tr>";
    for (size_t i = 0; i < cells.size(); ++i) {
      std::string cell = html_escape(cells[i]);
      if (i == 0) cell = fmt::format("<span class=\"swatch\" style=\"background:{}\"></span>{}", variant_color(k), cell);
      if (i == 0 && r.peer) cell += " <span class=\"tag\" title=\"a third-party runtime: latency only\">peer · latency only</span>";
      s += fmt::format("<td{}>{}</td>", column_right_aligned(i) ? " class=\"num\"" : "", cell);
    }
    s += "</tr>\n";
  }
  s += "</tbody></table>\n";
  return s;
}

std::string energy_notes(const std::vector<Record>& records) {
  std::string s;
  for (const auto& r : records) {
    if (!r.energy) continue;
    s += fmt::format("<li><b>{}</b>: {}</li>", html_escape(r.variant), html_escape(r.energy->source));
  }
  return s.empty() ? s : "<ul class=\"note\">" + s + "</ul>";
}

}  // namespace

std::string base64_encode(std::span<const uint8_t> in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < in.size()) {
    uint32_t v = uint32_t{in[i]} << 16;
    if (i + 1 < in.size()) v |= uint32_t{in[i + 1]} << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string to_html(const HtmlReport& rep) {
  const auto& records = rep.records;
  std::string s = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  s += fmt::format("<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n<main>\n", html_escape(rep.title), kStyle);
  s += fmt::format("<h1>{}</h1>\n<ul class=\"facts\">", html_escape(rep.title));
  for (const auto& f : rep.facts) s += fmt::format("<li>{}</li>", html_escape(f));
  s += "</ul>\n";

  s += "<section class=\"card\"><h2>Variants</h2>\n" + table_html(records) + energy_notes(records) + "</section>\n";

  std::vector<Bar> size_bars, energy_bars;
  for (const auto& r : records) {
    if (r.peer) continue;  // latency only: no size or energy of their own to compare
    Bar b;
    b.label = r.variant;
    if (r.file_bytes > 0 && r.error.empty()) {
      b.value = static_cast<double>(r.file_bytes) / 1e6;
      b.text = fmt::format("{:.2f} MB", b.value);
    } else {
      b.text = r.error.empty() ? "n/a" : "failed";
    }
    size_bars.push_back(b);
    Bar e;
    e.label = r.variant;
    if (r.energy && r.error.empty()) {
      e.value = r.energy->per_inference_j * 1e3;
      e.text = fmt::format("{:.2f} mJ ({})", e.value, bench::energy_method_label(r.energy->method));
      e.tooltip = r.energy->source;
      e.hatched = !r.energy->measured;
    } else {
      e.text = r.error.empty() ? "n/a" : "failed";
    }
    energy_bars.push_back(e);
  }
  s += "<div class=\"grid2\">\n";
  s += "<section class=\"card\"><h2>Accuracy against speed</h2>\n" + ap_latency_chart(records) +
       "<p class=\"note\">Dashed: the Pareto front (no other variant is both faster and more "
       "accurate). Dotted vertical lines: peer runtimes (latency only).</p></section>\n";
  s += "<section class=\"card\"><h2>Model size</h2>\n" + bar_chart("chart-size", "file size (MB)", size_bars) +
       "</section>\n";
  s += "<section class=\"card\"><h2>Energy per inference</h2>\n" +
       bar_chart("chart-energy", "energy per inference (mJ)", energy_bars) +
       "<p class=\"note\">Lighter bars are estimates (measured time x the power of the cores used), not "
       "meter readings. The table's arithmetic energy (Horowitz, ISSCC 2014) is what hardware with native "
       "int8/fp16 units would spend, not this CPU.</p></section>\n";
  s += "</div>\n<div style=\"height:20px\"></div>\n";
  s += "<section class=\"card\"><h2>Per-class AP change against fp32</h2>\n" + delta_ap_heatmap(records) +
       "</section>\n";

  if (!rep.pictures.empty()) {
    s += "<section class=\"card\"><h2>Detections side by side</h2>\n";
    for (const auto& row : rep.pictures) {
      s += fmt::format("<h3 style=\"font-size:14px;margin:6px 0 8px\">{}</h3>\n<div class=\"pics\">\n",
                       html_escape(row.image_name));
      for (const auto& p : row.pictures) {
        s += fmt::format(
            "<figure><img alt=\"{0} detections on {1}\" src=\"data:image/png;base64,{2}\">"
            "<figcaption><b>{0}</b> {3}</figcaption></figure>\n",
            html_escape(p.variant), html_escape(row.image_name), base64_encode(p.png), html_escape(p.caption));
      }
      s += "</div>\n";
    }
    s += "</section>\n";
  }
  s += fmt::format("<script>{}</script>\n</main>\n</body>\n</html>\n", kScript);
  return s;
}

}  // namespace qdet::report
