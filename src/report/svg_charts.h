// Inline SVG charts for the study report (html.cpp): drawn here, in C++, so that the page needs
// no script library and no network. Every chart is one <svg class="chart"> element with a
// <title> per mark (the browser's tooltip).
#pragma once

#include <string>
#include <vector>

#include "report/record.h"

namespace qdet::report {

struct ChartPoint {
  double x = 0, y = 0;
};

// Indices of the points not dominated by another point with lower-or-equal x and higher-or-equal
// y (one strictly better): the Pareto front for "faster and more accurate", sorted by x.
std::vector<size_t> pareto_front(const std::vector<ChartPoint>& points);

// Point labels that do not overlap: each label (width from its text, `font_px` high) starts to the
// upper right of its anchor; when its box overlaps a label placed before or covers another
// anchor's dot (radius `dot_r`), it is moved up or down in steps, nearest free place first, and
// to the left of its anchor when the right side leaves [left, right]. Labels are placed top to
// bottom. Returns each label's box (top-left x, y, width, height), in the anchors' order.
struct LabelBox {
  double x = 0, y = 0, w = 0, h = 0;
  bool overlaps(const LabelBox& o) const { return x < o.x + o.w && o.x < x + w && y < o.y + o.h && o.y < y + h; }
};
std::vector<LabelBox> place_labels(const std::vector<ChartPoint>& anchors, const std::vector<std::string>& texts,
                                   double left, double top, double right, double bottom, double font_px = 12,
                                   double dot_r = 7, const std::vector<LabelBox>& obstacles = {});
// Estimated width of `text` in px at `font_px` (DejaVu Sans / system-ui: lower case and digits average ~0.62 em; 0.64 to be safe).
double text_width(const std::string& text, double font_px);

// "Nice" axis ticks (1, 2, 5 x 10^k steps) covering [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int target_count = 5);

// AP (y, points) against median latency (x, ms), one labelled dot per variant, the Pareto front
// dashed, labels kept apart (place_labels); the latency axis is logarithmic when the latencies
// span more than a decade. Peer records (latency only) are dotted vertical lines
// at their latency, labelled at the top; one far beyond the variants (over 2.5x the slowest)
// is an arrow at the right edge with its number instead of stretching the axis. Other records
// without both numbers are left out.
std::string ap_latency_chart(const std::vector<Record>& records);

// Horizontal bars, one per record: `value` of each (negative: left out), with a label per bar.
struct Bar {
  std::string label;
  double value = -1;
  std::string text;     // shown at the end of the bar, e.g. "3.92 MB"
  std::string tooltip;
  bool hatched = false; // drawn lighter (estimates)
};
std::string bar_chart(const std::string& id, const std::string& x_label, const std::vector<Bar>& bars);

// Per-class ΔAP against the baseline (points): one row per other variant, one cell per class
// that has ground truth, red below 0, blue above, white at 0 (±10 points saturate).
std::string delta_ap_heatmap(const std::vector<Record>& records);

// Colour of variant i (a fixed qualitative palette).
const char* variant_color(size_t i);

std::string html_escape(const std::string& s);

}  // namespace qdet::report
