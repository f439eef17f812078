#include "report/svg_charts.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace qdet::report {
namespace {

constexpr const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

std::string num(double v) {
  // Tick labels: no trailing zeros ("0.5", "10", "2.25").
  std::string s = fmt::format("{:.3f}", v);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

}  // namespace

const char* variant_color(size_t i) { return kPalette[i % std::size(kPalette)]; }

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<size_t> pareto_front(const std::vector<ChartPoint>& p) {
  std::vector<size_t> order(p.size());
  std::iota(order.begin(), order.end(), size_t{0});
  // By x ascending, then y descending: a point is on the front when its y beats every y before.
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return p[a].x != p[b].x ? p[a].x < p[b].x : p[a].y > p[b].y;
  });
  std::vector<size_t> front;
  double best_y = -INFINITY;
  for (size_t i : order) {
    if (p[i].y > best_y) {
      front.push_back(i);
      best_y = p[i].y;
    }
  }
  return front;
}

std::vector<double> nice_ticks(double lo, double hi, int target_count) {
  if (!(hi > lo)) hi = lo + 1;
  const double raw = (hi - lo) / std::max(1, target_count);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  std::vector<double> ticks;
  const double first = std::floor(lo / step);
  for (int k = 0; k < 100; ++k) {
    ticks.push_back((first + k) * step);
    if (ticks.back() >= hi - step * 1e-9) break;
  }
  return ticks;
}

std::string ap_latency_chart(const std::vector<Record>& records) {
  std::vector<ChartPoint> pts;
  std::vector<size_t> which;
  for (size_t i = 0; i < records.size(); ++i) {
    const Record& r = records[i];
    if (r.ap() < 0 || !r.latency || r.latency->median_ms <= 0) continue;
    pts.push_back({r.latency->median_ms, 100 * r.ap()});
    which.push_back(i);
  }
  if (pts.empty()) return "<p class=\"empty\">No variant has both AP and latency.</p>";
  const double W = 620, H = 360, L = 60, R = 20, T = 20, B = 52;
  double xmax = 0, ymin = 1e9, ymax = -1e9;
  for (const auto& p : pts) {
    xmax = std::max(xmax, p.x);
    ymin = std::min(ymin, p.y);
    ymax = std::max(ymax, p.y);
  }
  const auto xt = nice_ticks(0, xmax * 1.08);
  const auto yt = nice_ticks(std::max(0.0, ymin - 2), ymax + 2);
  auto X = [&](double x) { return L + (x - xt.front()) / (xt.back() - xt.front()) * (W - L - R); };
  auto Y = [&](double y) { return H - B - (y - yt.front()) / (yt.back() - yt.front()) * (H - T - B); };
  std::string s = fmt::format(
      "<svg class=\"chart\" id=\"chart-ap-latency\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" "
      "role=\"img\" aria-label=\"AP against latency\">\n",
      W, H, W, H);
  for (double t : xt) {
    s += fmt::format("<line class=\"grid\" x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\"/>"
                     "<text class=\"tick\" x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
                     X(t), T, H - B, H - B + 16, num(t));
  }
  for (double t : yt) {
    s += fmt::format("<line class=\"grid\" x1=\"{1}\" y1=\"{0:.1f}\" x2=\"{2}\" y2=\"{0:.1f}\"/>"
                     "<text class=\"tick\" x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>\n",
                     Y(t), L, W - R, L - 6, Y(t) + 4, num(t));
  }
  s += fmt::format("<line class=\"axis\" x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\"/>"
                   "<line class=\"axis\" x1=\"{0}\" y1=\"{3}\" x2=\"{0}\" y2=\"{1}\"/>\n",
                   L, H - B, W - R, T);
  s += fmt::format("<text class=\"label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">median latency per "
                   "inference (ms) — left is faster</text>\n", (L + W - R) / 2, H - 12);
  s += fmt::format("<text class=\"label\" transform=\"translate(16 {}) rotate(-90)\" "
                   "text-anchor=\"middle\">COCO AP (points) — up is better</text>\n", (T + H - B) / 2);
  const auto front = pareto_front(pts);
  if (front.size() > 1) {
    std::string path;
    for (size_t k = 0; k < front.size(); ++k)
      path += fmt::format("{}{:.1f},{:.1f}", k ? " " : "", X(pts[front[k]].x), Y(pts[front[k]].y));
    s += fmt::format("<polyline class=\"pareto\" points=\"{}\"><title>Pareto front: no other variant "
                     "is both faster and more accurate</title></polyline>\n", path);
  }
  for (size_t k = 0; k < pts.size(); ++k) {
    const Record& r = records[which[k]];
    const bool on_front = std::find(front.begin(), front.end(), k) != front.end();
    s += fmt::format(
        "<g class=\"point{}\"><circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\" fill=\"{}\"><title>{} ({}): AP "
        "{:.1f}, {:.2f} ms{}</title></circle><text class=\"pointlabel\" x=\"{:.1f}\" y=\"{:.1f}\">{}</text></g>\n",
        on_front ? " front" : "", X(pts[k].x), Y(pts[k].y), on_front ? 7 : 5, variant_color(which[k]),
        html_escape(r.variant), html_escape(r.runtime), pts[k].y, pts[k].x,
        on_front ? ", on the Pareto front" : "", X(pts[k].x) + 9, Y(pts[k].y) - 7, html_escape(r.variant));
  }
  s += "</svg>\n";
  return s;
}

std::string bar_chart(const std::string& id, const std::string& x_label, const std::vector<Bar>& bars) {
  double vmax = 0;
  size_t shown = 0;
  for (const auto& b : bars)
    if (b.value >= 0) {
      vmax = std::max(vmax, b.value);
      ++shown;
    }
  if (shown == 0) return "<p class=\"empty\">Nothing measured.</p>";
  const double W = 620, L = 120, R = 130, T = 10, row = 30, B = 44;
  const double H = T + row * static_cast<double>(bars.size()) + B;
  const auto xt = nice_ticks(0, vmax > 0 ? vmax : 1);
  auto X = [&](double v) { return L + v / xt.back() * (W - L - R); };
  std::string s = fmt::format(
      "<svg class=\"chart\" id=\"{}\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" role=\"img\" "
      "aria-label=\"{}\">\n",
      html_escape(id), W, H, W, H, html_escape(x_label));
  for (double t : xt) {
    s += fmt::format("<line class=\"grid\" x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\"/>"
                     "<text class=\"tick\" x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
                     X(t), T, H - B, H - B + 16, num(t));
  }
  for (size_t i = 0; i < bars.size(); ++i) {
    const Bar& b = bars[i];
    const double y = T + row * static_cast<double>(i);
    s += fmt::format("<text class=\"barlabel\" x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n",
                     L - 8, y + row / 2 + 4, html_escape(b.label));
    if (b.value < 0) {
      s += fmt::format("<text class=\"bartext\" x=\"{}\" y=\"{:.1f}\">{}</text>\n", L + 4,
                       y + row / 2 + 4, html_escape(b.text.empty() ? "n/a" : b.text));
      continue;
    }
    s += fmt::format(
        "<rect class=\"bar{}\" x=\"{}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\">"
        "<title>{}</title></rect><text class=\"bartext\" x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n",
        b.hatched ? " estimate" : "", L, y + 5, std::max(1.0, X(b.value) - L), row - 10, variant_color(i),
        html_escape(b.tooltip.empty() ? b.text : b.tooltip), X(b.value) + 6, y + row / 2 + 4,
        html_escape(b.text));
  }
  s += fmt::format("<line class=\"axis\" x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>\n", L, T, H - B);
  s += fmt::format("<text class=\"label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                   (L + W - R) / 2, H - 10, html_escape(x_label));
  s += "</svg>\n";
  return s;
}

std::string delta_ap_heatmap(const std::vector<Record>& records) {
  const Record* base = baseline_of(records);
  if (!base || base->per_class_ap.empty())
    return "<p class=\"empty\">No per-class AP for the fp32 baseline.</p>";
  std::vector<std::string> classes;
  for (const auto& [name, ap] : base->per_class_ap)
    if (ap >= 0) classes.push_back(name);
  std::vector<size_t> rows;
  for (size_t i = 0; i < records.size(); ++i)
    if (&records[i] != base && !records[i].per_class_ap.empty()) rows.push_back(i);
  if (classes.empty() || rows.empty())
    return "<p class=\"empty\">No other evaluated variant to compare with fp32.</p>";
  const double L = 110, T = 120, R = 20, B = 44;
  const double cell = std::clamp(820.0 / static_cast<double>(classes.size()), 9.0, 30.0);
  const double rowh = 26;
  // Wide enough for the legend (21 swatches and its caption) even with few classes.
  const double W = std::max(L + cell * static_cast<double>(classes.size()) + R, L + 21 * 9.0 + 360);
  const double H = T + rowh * static_cast<double>(rows.size()) + B;
  std::string s = fmt::format(
      "<svg class=\"chart\" id=\"chart-delta-ap\" viewBox=\"0 0 {:.0f} {:.0f}\" width=\"{:.0f}\" "
      "height=\"{:.0f}\" role=\"img\" aria-label=\"per-class AP change against fp32\">\n",
      W, H, W, H);
  for (size_t c = 0; c < classes.size(); ++c) {
    const double x = L + cell * (static_cast<double>(c) + 0.5);
    s += fmt::format("<text class=\"classlabel\" transform=\"translate({:.1f} {}) rotate(-60)\">{}</text>\n",
                     x + 3, T - 6, html_escape(classes[c]));
  }
  for (size_t k = 0; k < rows.size(); ++k) {
    const Record& r = records[rows[k]];
    const double y = T + rowh * static_cast<double>(k);
    s += fmt::format("<text class=\"barlabel\" x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n",
                     L - 8, y + rowh / 2 + 4, html_escape(r.variant));
    for (size_t c = 0; c < classes.size(); ++c) {
      auto it = r.per_class_ap.find(classes[c]);
      const double b = base->per_class_ap.at(classes[c]);
      const bool have = it != r.per_class_ap.end() && it->second >= 0;
      const double d = have ? 100 * (it->second - b) : 0;
      // Diverging scale: white at 0, saturating at ±10 AP points.
      const double t = std::clamp(std::abs(d) / 10.0, 0.0, 1.0);
      const int fade = static_cast<int>(std::lround(255 * (1 - t)));
      const std::string fill = !have ? "#dddddd"
                               : d < 0 ? fmt::format("rgb(255,{0},{0})", fade)
                                       : fmt::format("rgb({0},{0},255)", fade);
      s += fmt::format(
          "<rect class=\"cell\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\">"
          "<title>{} / {}: {} (fp32 {:.1f})</title></rect>\n",
          L + cell * static_cast<double>(c), y + 1, cell - 1, rowh - 2, fill, html_escape(r.variant),
          html_escape(classes[c]), have ? fmt::format("ΔAP {:+.1f}", d) : std::string("no AP"), 100 * b);
    }
  }
  // Legend.
  const double ly = H - B + 14;
  const double lx = L;
  for (int i = -10; i <= 10; i += 2) {
    const double t = std::abs(i) / 10.0;
    const int fade = static_cast<int>(std::lround(255 * (1 - t)));
    const std::string fill = i < 0 ? fmt::format("rgb(255,{0},{0})", fade) : fmt::format("rgb({0},{0},255)", fade);
    s += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"18\" height=\"12\" fill=\"{}\" class=\"legend\"/>",
                     lx + (i + 10) * 9.0, ly, fill);
  }
  s += fmt::format("<text class=\"tick\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"start\">−10 … 0 … +10 AP "
                   "points against fp32 (grey: no AP)</text>\n", lx + 21 * 9.0 + 8, ly + 10);
  s += "</svg>\n";
  return s;
}

}  // namespace qdet::report
