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

// "Nice" axis ticks (1, 2, 5 x 10^k steps) covering [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int target_count = 5);

// AP (y, points) against median latency (x, ms), one labelled dot per variant, the Pareto front
// dashed. Records without both numbers are left out.
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
