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

double text_width(const std::string& text, double font_px) {
  size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return 0.64 * font_px * static_cast<double>(n) + 2;
}

std::vector<LabelBox> place_labels(const std::vector<ChartPoint>& anchors, const std::vector<std::string>& texts,
                                   double left, double top, double right, double bottom, double font_px,
                                   double dot_r, const std::vector<LabelBox>& obstacles) {
  const size_t n = anchors.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return anchors[a].y < anchors[b].y; });
  std::vector<LabelBox> dots(n);
  for (size_t i = 0; i < n; ++i) dots[i] = {anchors[i].x - dot_r, anchors[i].y - dot_r, 2 * dot_r, 2 * dot_r};
  const double h = std::ceil(font_px * 1.2);
  // Candidate offsets from the preferred place (upper right), cheapest first: small vertical
  // moves on the right, then the left side.
  struct Candidate {
    double cost, dy;
    bool left_side;
  };
  std::vector<Candidate> candidates;
  for (int k = -40; k <= 40; ++k) {
    const double dy = 3.0 * k;
    candidates.push_back({std::abs(dy), dy, false});
    candidates.push_back({std::abs(dy) + 1.5 * h, dy, true});
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.cost < b.cost; });
  std::vector<LabelBox> placed = obstacles;
  std::vector<LabelBox> out(n);
  for (size_t i : order) {
    const double w = text_width(i < texts.size() ? texts[i] : std::string(), font_px);
    const double y0 = anchors[i].y - h - 2;  // bottom edge just above the dot's centre
    LabelBox chosen{anchors[i].x + dot_r + 2, y0, w, h};
    bool found = false;
    for (const auto& c : candidates) {
      LabelBox b{c.left_side ? anchors[i].x - dot_r - 2 - w : anchors[i].x + dot_r + 2, y0 + c.dy, w, h};
      if (b.x < left || b.x + b.w > right || b.y < top || b.y + b.h > bottom) continue;
      bool clear = std::none_of(placed.begin(), placed.end(), [&](const LabelBox& p) { return p.overlaps(b); });
      for (size_t j = 0; clear && j < n; ++j)
        if (j != i && dots[j].overlaps(b)) clear = false;
      if (clear) {
        chosen = b;
        found = true;
        break;
      }
    }
    if (!found) chosen.x = std::min(chosen.x, right - w);  // nowhere free: keep it at least inside
    placed.push_back(chosen);
    out[i] = chosen;
  }
  return out;
}

namespace {

// The AP-latency chart's frame: the plot area, its axes (linear, or log over a decade of
// latencies) and the data-to-screen mapping.
struct ApLatencyFrame {
  static constexpr double W = 620, H = 360, L = 60, R = 20, T = 20, B = 52;
  bool log_x = false;
  double xlo = 0, xhi = 1;
  double reach = 0;  // peers slower than this get an arrow instead of a line
  std::vector<double> xt, yt;
  double X(double x) const {
    const double f = log_x ? (std::log(x) - std::log(xlo)) / (std::log(xhi) - std::log(xlo)) : (x - xlo) / (xhi - xlo);
    return L + f * (W - L - R);
  }
  double Y(double y) const { return H - B - (y - yt.front()) / (yt.back() - yt.front()) * (H - T - B); }
};

ApLatencyFrame ap_latency_frame(const std::vector<ChartPoint>& pts, const std::vector<Record>& records,
                                const std::vector<size_t>& peers) {
  ApLatencyFrame f;
  double xmax = 0, ymin = 1e9, ymax = -1e9;
  for (const auto& p : pts) {
    xmax = std::max(xmax, p.x);
    ymin = std::min(ymin, p.y);
    ymax = std::max(ymax, p.y);
  }
  // Peers within reach widen the axis; one far beyond would squeeze every variant to the left.
  f.reach = 2.5 * xmax;
  for (size_t i : peers)
    if (records[i].latency->median_ms <= f.reach) xmax = std::max(xmax, records[i].latency->median_ms);
  double xmin = xmax;
  for (const auto& p : pts) xmin = std::min(xmin, p.x);
  for (size_t i : peers)
    if (records[i].latency->median_ms <= f.reach) xmin = std::min(xmin, records[i].latency->median_ms);
  // Latencies over more than a decade (a variant on slow kernels) get a log axis, so the fast
  // ones are not squeezed against the left edge.
  f.log_x = xmax > 10 * xmin;
  if (f.log_x) {
    f.xlo = xmin / 1.3;
    f.xhi = xmax * 1.3;
    for (int e = static_cast<int>(std::floor(std::log10(f.xlo))); e <= static_cast<int>(std::ceil(std::log10(f.xhi))); ++e)
      for (double m : {1.0, 2.0, 5.0}) {
        const double t = m * std::pow(10.0, e);
        if (t >= f.xlo && t <= f.xhi) f.xt.push_back(t);
      }
  } else {
    f.xt = nice_ticks(0, xmax * 1.08);
    f.xlo = f.xt.front();
    f.xhi = f.xt.back();
  }
  f.yt = nice_ticks(std::max(0.0, ymin - 2), ymax + 2);
  return f;
}

// The svg element, grid, ticks, axes and their labels.
std::string ap_latency_axes(const ApLatencyFrame& f) {
  const double W = f.W, H = f.H, L = f.L, R = f.R, T = f.T, B = f.B;
  std::string s = fmt::format(
      "<svg class=\"chart\" id=\"chart-ap-latency\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" "
      "role=\"img\" aria-label=\"AP against latency\">\n",
      W, H, W, H);
  for (double t : f.xt) {
    s += fmt::format("<line class=\"grid\" x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\"/>"
                     "<text class=\"tick\" x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
                     f.X(t), T, H - B, H - B + 16, num(t));
  }
  for (double t : f.yt) {
    s += fmt::format("<line class=\"grid\" x1=\"{1}\" y1=\"{0:.1f}\" x2=\"{2}\" y2=\"{0:.1f}\"/>"
                     "<text class=\"tick\" x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>\n",
                     f.Y(t), L, W - R, L - 6, f.Y(t) + 4, num(t));
  }
  s += fmt::format("<line class=\"axis\" x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\"/>"
                   "<line class=\"axis\" x1=\"{0}\" y1=\"{3}\" x2=\"{0}\" y2=\"{1}\"/>\n",
                   L, H - B, W - R, T);
  s += fmt::format("<text class=\"label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">median latency per "
                   "inference (ms{}) — left is faster</text>\n", (L + W - R) / 2, H - 12, f.log_x ? ", log scale" : "");
  s += fmt::format("<text class=\"label\" transform=\"translate(16 {}) rotate(-90)\" "
                   "text-anchor=\"middle\">COCO AP (points) — up is better</text>\n", (T + H - B) / 2);
  return s;
}

// Peers (latency only) under the points: arrows at the top right for those beyond reach, then
// dotted lines with their labels. Appends to `s`; returns the boxes the point labels must avoid.
std::vector<LabelBox> ap_latency_peers(const ApLatencyFrame& f, const std::vector<Record>& records,
                                       const std::vector<size_t>& peers, const std::vector<ChartPoint>& pts,
                                       std::string& s) {
  const double W = f.W, H = f.H, L = f.L, R = f.R, T = f.T, B = f.B;
  constexpr double kPeerFont = 11;
  std::vector<LabelBox> peer_boxes;
  auto peer_tip = [&](const Record& r) {
    return fmt::format("{} ({}): {:.2f} ms median, latency only (no AP measured)", html_escape(r.variant),
                       html_escape(r.runtime), r.latency->median_ms);
  };
  double far_y = T + 2;
  for (size_t i : peers) {
    const Record& r = records[i];
    if (r.latency->median_ms <= f.reach) continue;
    const std::string text = fmt::format("→ {} {:.1f} ms", r.variant, r.latency->median_ms);
    const double w = text_width(text, kPeerFont);
    LabelBox b{W - R - w, far_y, w, std::ceil(kPeerFont * 1.2)};
    far_y += b.h + 2;
    s += fmt::format("<g class=\"peer\"><text class=\"peerlabel\" x=\"{:.1f}\" y=\"{:.1f}\" "
                     "text-anchor=\"end\"><title>{}</title>{}</text></g>\n",
                     W - R, b.y + b.h - 3, peer_tip(r), html_escape(text));
    peer_boxes.push_back(b);
  }
  // Line labels run horizontally in the free band at the top (the AP axis leaves 2 points above
  // the best variant), placed like point labels, clear of the arrows and of every dot.
  std::vector<size_t> lined;
  std::vector<ChartPoint> tops;
  std::vector<std::string> line_texts;
  const double peer_h = std::ceil(kPeerFont * 1.2);
  for (size_t i : peers) {
    if (records[i].latency->median_ms > f.reach) continue;
    lined.push_back(i);
    tops.push_back({f.X(records[i].latency->median_ms), T + peer_h + 1});
    line_texts.push_back(fmt::format("{} {:.1f} ms", records[i].variant, records[i].latency->median_ms));
  }
  std::vector<LabelBox> avoid = peer_boxes;
  for (const auto& p : pts) avoid.push_back({f.X(p.x) - 8, f.Y(p.y) - 8, 16, 16});
  const auto line_boxes = place_labels(tops, line_texts, L + 2, T, W - R, H - B - 2, kPeerFont, 1, avoid);
  for (size_t k = 0; k < lined.size(); ++k) {
    const Record& r = records[lined[k]];
    const LabelBox& b = line_boxes[k];
    s += fmt::format("<g class=\"peer\"><line class=\"peerline\" x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" "
                     "y2=\"{2}\"><title>{3}</title></line><text class=\"peerlabel\" x=\"{4:.1f}\" "
                     "y=\"{5:.1f}\"><title>{3}</title>{6}</text></g>\n",
                     tops[k].x, T, H - B, peer_tip(r), b.x + 1, b.y + b.h - 0.3 * kPeerFont,
                     html_escape(line_texts[k]));
    peer_boxes.push_back(b);
  }
  return peer_boxes;
}

// The Pareto front and the variants' points with their labels (leader lines when moved away).
std::string ap_latency_points(const ApLatencyFrame& f, const std::vector<Record>& records,
                              const std::vector<ChartPoint>& pts, const std::vector<size_t>& which,
                              const std::vector<LabelBox>& peer_boxes) {
  std::string s;
  const auto front = pareto_front(pts);
  if (front.size() > 1) {
    std::string path;
    for (size_t k = 0; k < front.size(); ++k)
      path += fmt::format("{}{:.1f},{:.1f}", k ? " " : "", f.X(pts[front[k]].x), f.Y(pts[front[k]].y));
    s += fmt::format("<polyline class=\"pareto\" points=\"{}\"><title>Pareto front: no other variant "
                     "is both faster and more accurate</title></polyline>\n", path);
  }
  std::vector<ChartPoint> screen;
  std::vector<std::string> texts;
  for (size_t k = 0; k < pts.size(); ++k) {
    screen.push_back({f.X(pts[k].x), f.Y(pts[k].y)});
    texts.push_back(records[which[k]].variant);
  }
  constexpr double kFont = 12;
  const auto boxes = place_labels(screen, texts, f.L + 2, f.T, f.W - f.R, f.H - f.B - 2, kFont, 7, peer_boxes);
  for (size_t k = 0; k < pts.size(); ++k) {
    const Record& r = records[which[k]];
    const bool on_front = std::find(front.begin(), front.end(), k) != front.end();
    const LabelBox& b = boxes[k];
    std::string leader;
    const double cy = b.y + b.h / 2;
    const bool left_side = b.x + b.w <= screen[k].x;
    if (std::abs(cy - screen[k].y) > b.h * 1.2) {
      const double lx = left_side ? b.x + b.w : b.x;
      leader = fmt::format("<line class=\"leader\" x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\"/>",
                           screen[k].x, screen[k].y, lx, cy);
    }
    s += fmt::format(
        "<g class=\"point{}\">{}<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\" fill=\"{}\"><title>{} ({}): AP "
        "{:.1f}, {:.2f} ms{}</title></circle><text class=\"pointlabel\" x=\"{:.1f}\" y=\"{:.1f}\">{}</text></g>\n",
        on_front ? " front" : "", leader, screen[k].x, screen[k].y, on_front ? 7 : 5, variant_color(which[k]),
        html_escape(r.variant), html_escape(r.runtime), pts[k].y, pts[k].x, on_front ? ", on the Pareto front" : "",
        b.x + 1, b.y + b.h - 0.3 * kFont, html_escape(r.variant));
  }
  return s;
}

}  // namespace

std::string ap_latency_chart(const std::vector<Record>& records) {
  std::vector<ChartPoint> pts;
  std::vector<size_t> which, peers;
  for (size_t i = 0; i < records.size(); ++i) {
    const Record& r = records[i];
    if (!r.error.empty() || !r.latency || r.latency->median_ms <= 0) continue;
    if (r.peer) {
      peers.push_back(i);
      continue;
    }
    if (r.ap() < 0) continue;
    pts.push_back({r.latency->median_ms, 100 * r.ap()});
    which.push_back(i);
  }
  if (pts.empty()) return "<p class=\"empty\">No variant has both AP and latency.</p>";
  const ApLatencyFrame frame = ap_latency_frame(pts, records, peers);
  std::string s = ap_latency_axes(frame);
  const std::vector<LabelBox> peer_boxes = ap_latency_peers(frame, records, peers, pts, s);
  s += ap_latency_points(frame, records, pts, which, peer_boxes);
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
