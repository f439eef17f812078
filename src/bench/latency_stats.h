// Latency statistics over every kept sample (no sample is dropped; warm-up runs are simply not
// recorded). Percentiles interpolate linearly between order statistics (numpy's default).
#pragma once

#include <span>

namespace qdet::bench {

struct LatencyStats {
  int count = 0;
  double min_ms = 0, median_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0, mean_ms = 0;
  double stddev_ms = 0;
  double cv = 0;  // coefficient of variation: stddev / mean
};

LatencyStats compute_latency_stats(std::span<const double> samples_ms);
// q in [0,1]; `sorted` ascending and non-empty.
double percentile_sorted(std::span<const double> sorted, double q);

}  // namespace qdet::bench
