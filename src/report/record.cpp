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
  r.arithmetic_energy = b.arithmetic;
  r.kernels = b.kernels;
  r.macs_by_kernel = b.macs_by_kernel;
}

std::string Record::main_kernel() const {
  const std::pair<const std::string, double>* best = nullptr;
  for (const auto& kv : macs_by_kernel)
    if (!best || kv.second > best->second) best = &kv;
  return best ? best->first : std::string();
}

const Record* baseline_of(const std::vector<Record>& records) {
  for (const auto& r : records)
    if (r.variant == "fp32" && r.runtime == "qdet" && r.error.empty()) return &r;
  return records.empty() ? nullptr : &records.front();
}

}  // namespace qdet::report
