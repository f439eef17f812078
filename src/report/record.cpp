#include "report/record.h"

namespace qdet::report {

void fill_from_bench(Record& r, const bench::BenchResult& b) {
  r.model_path = b.model.string();
  r.threads = b.threads;
  r.file_bytes = b.file_bytes;
  r.bytes_by_dtype = b.bytes_by_dtype;
  r.macs_by_dtype = b.macs_by_dtype;
  r.latency = b.latency;
  r.latency_samples_ms = b.samples_ms;
  r.warmup_runs = b.warmup;
  r.peak_rss_bytes = b.peak_rss_bytes;
  r.arena_bytes = b.arena_bytes;
  r.energy = b.energy;
  if (b.energy.method != "estimate") r.energy_estimate = b.estimate;
  r.kernels = b.kernels;
}

const Record* baseline_of(const std::vector<Record>& records) {
  for (const auto& r : records)
    if (r.variant == "fp32" && r.runtime == "qdet" && r.error.empty()) return &r;
  return records.empty() ? nullptr : &records.front();
}

}  // namespace qdet::report
