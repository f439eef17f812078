#include "bench/latency_stats.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace qdet::bench {

double percentile_sorted(std::span<const double> sorted, double q) {
  if (sorted.empty()) return 0;
  double pos = q * static_cast<double>(sorted.size() - 1);
  auto lo = static_cast<size_t>(std::floor(pos));
  size_t hi = std::min(lo + 1, sorted.size() - 1);
  double frac = pos - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

LatencyStats compute_latency_stats(std::span<const double> samples_ms) {
  LatencyStats s;
  if (samples_ms.empty()) return s;
  std::vector<double> v(samples_ms.begin(), samples_ms.end());
  std::sort(v.begin(), v.end());
  s.count = static_cast<int>(v.size());
  s.min_ms = v.front();
  s.max_ms = v.back();
  s.median_ms = percentile_sorted(v, 0.5);
  s.p90_ms = percentile_sorted(v, 0.9);
  s.p99_ms = percentile_sorted(v, 0.99);
  double sum = 0;
  for (double x : v) sum += x;
  s.mean_ms = sum / static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - s.mean_ms) * (x - s.mean_ms);
  s.stddev_ms = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0.0;
  s.cv = s.mean_ms > 0 ? s.stddev_ms / s.mean_ms : 0.0;
  return s;
}

}  // namespace qdet::bench
