// qdet bench MODEL [--threads N] [--warmup W] [--runs R] [--energy METHOD] [--cpu-watts W] [--profile] [--json]: latency
// (every run kept), memory, size, MACs and energy per inference (src/bench/bench_model.h).
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "bench/bench_model.h"
#include "base/json_text.h"
#include "command.h"
#include "report/printers.h"

namespace qdet::cli {
namespace {

struct BenchArgs {
  bench::BenchOptions options;
  bool json = false;
};

std::string mb(int64_t bytes) { return fmt::format("{:.2f} MB", static_cast<double>(bytes) / 1e6); }

void print_text(const bench::BenchResult& b) {
  const auto& l = b.latency;
  std::printf("model: %s (%s)\n", b.model.c_str(), mb(b.file_bytes).c_str());
  std::string kernels;
  for (const auto& [name, n] : b.kernels) kernels += fmt::format("{}{} {}", kernels.empty() ? "" : ", ", n, name);
  std::printf("threads: %d, warm-up %d, timed runs %d; ops: %s\n", b.threads, b.warmup, l.count,
              kernels.c_str());
  std::printf("latency ms: min %.3f  median %.3f  p90 %.3f  p99 %.3f  mean %.3f  cv %.3f\n",
              l.min_ms, l.median_ms, l.p90_ms, l.p99_ms, l.mean_ms, l.cv);
  std::printf("input: %s\n", shape_to_string(b.input_shape).c_str());
  if (b.batch > 1)
    std::printf("throughput: %.2f inferences/s, %.2f images/s (batch %d; median, %.3f ms per image)\n",
                l.median_ms > 0 ? 1000 / l.median_ms : 0.0, l.median_ms > 0 ? 1000 * b.batch / l.median_ms : 0.0,
                b.batch, l.median_ms / b.batch);
  else
    std::printf("throughput: %.2f inferences/s (median)\n", l.median_ms > 0 ? 1000 / l.median_ms : 0.0);
  std::printf("memory: peak RSS %s%s, arena %s\n", mb(b.peak_rss_bytes).c_str(),
              b.peak_rss_reset ? "" : " (whole process)", mb(b.arena_bytes).c_str());
  std::string dtypes, macs;
  for (const auto& [d, n] : b.bytes_by_dtype) dtypes += fmt::format(" {} {}", d, mb(n));
  for (const auto& [d, n] : b.macs_by_dtype) macs += fmt::format(" {} {:.3f} G", d, n / 1e9);
  std::printf("weights by dtype:%s\nMACs per inference:%s\n", dtypes.c_str(), macs.empty() ? " none counted" : macs.c_str());
  const auto& e = b.energy;
  std::printf("energy: %.3f mJ per inference (%s)\n  %s\n", e.per_inference_j * 1e3,
              bench::energy_method_label(e.method).c_str(), e.source.c_str());
  std::printf("arithmetic energy: %.3f mJ per inference (not this CPU's: %s)\n", b.arithmetic.per_inference_j * 1e3,
              b.arithmetic.source.c_str());
  std::string by_kernel;
  for (const auto& [k, n] : b.macs_by_kernel) by_kernel += fmt::format(" {} {:.3f} G;", k, n / 1e9);
  if (!by_kernel.empty()) std::printf("MACs by kernel:%s\n", by_kernel.substr(0, by_kernel.size() - 1).c_str());
  for (const auto& why : e.unavailable) std::printf("  not used: %s\n", why.c_str());
}

// --profile: time by op kind, kernel and output dtype, then the slowest ops.
void print_profile(const bench::BenchResult& b, size_t top) {
  if (b.profile.empty()) return;
  double total = 0;
  std::map<std::string, std::pair<double, int>> groups;
  for (const auto& t : b.profile) {
    total += t.ms;
    auto& g = groups[fmt::format("{} {} {}", t.kind, t.dtype, t.kernel)];
    g.first += t.ms;
    g.second++;
  }
  std::vector<std::pair<std::string, std::pair<double, int>>> sorted(groups.begin(), groups.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second.first > b.second.first; });
  std::printf("profile: %.3f ms per inference in ops (mean of %d runs)\n", total, b.latency.count);
  std::printf("  %9s %6s %5s  %s\n", "ms", "%", "ops", "op dtype kernel");
  for (const auto& [name, g] : sorted)
    std::printf("  %9.3f %5.1f%% %5d  %s\n", g.first, total > 0 ? 100 * g.first / total : 0.0, g.second, name.c_str());
  std::vector<bench::OpTime> ops = b.profile;
  std::sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.ms > b.ms; });
  std::printf("slowest ops:\n");
  for (size_t i = 0; i < std::min(top, ops.size()); ++i)
    std::printf("  %9.3f  op %d %s %s %s '%s'\n", ops[i].ms, ops[i].op, ops[i].kind.c_str(),
                ops[i].dtype.c_str(), ops[i].kernel.c_str(), ops[i].output.c_str());
}

void run_bench(const BenchArgs& a) {
  auto progress = [&](const std::string& line) {
    if (!a.json) std::fprintf(stderr, "bench: %s\n", line.c_str());
  };
  auto r = bench::bench_model(a.options, progress);
  exit_on_error(r.status());
  if (!a.json) {
    print_text(*r);
    print_profile(*r, 10);
    return;
  }
  report::Record rec;
  rec.variant = a.options.model.stem().string();
  rec.runtime = "qdet";
  report::fill_from_bench(rec, *r);
  nlohmann::json j = report::to_json(rec);
  j["memory"]["peak_rss_reset"] = r->peak_rss_reset;
  j["work"] = {{"bytes_moved", r->work.bytes_moved}};
  j["input_shape"] = r->input_shape;
  j["batch"] = r->batch;
  j["images_per_s"] = r->latency.median_ms > 0 ? 1000.0 * r->batch / r->latency.median_ms : 0.0;
  if (!r->profile.empty()) {
    nlohmann::json ops = nlohmann::json::array();
    for (const auto& t : r->profile)
      ops.push_back({{"op", t.op}, {"kind", t.kind}, {"kernel", t.kernel}, {"dtype", t.dtype},
                     {"output", t.output}, {"ms", t.ms}});
    j["profile"] = ops;
  }
  std::printf("%s\n", json_text(j, 1).c_str());
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  auto& o = args->options;
  auto* sub = app.add_subcommand("bench", "Latency, memory, size, MACs and energy per inference of a model");
  sub->add_option("model", o.model, "Model (.tflite)")->required();
  sub->add_option("--threads", o.threads, "Interpreter threads")->check(CLI::Range(1, 256))->capture_default_str();
  sub->add_option("--warmup", o.warmup, "Untimed runs first")->check(CLI::Range(0, 100000))->capture_default_str();
  sub->add_option("--runs", o.runs, "Timed runs (every one kept)")->check(CLI::Range(1, 1000000))->capture_default_str();
  sub->add_option("--energy", o.energy, "auto | rapl | perf | nvml | estimate")->capture_default_str();
  sub->add_option("--cpu-watts", o.cpu_watts,
                  "Power (W) of the cores the run uses, for the time x power estimate (default: TDP share per "
                  "core of the CPU model, from qdet's table)")
      ->check(CLI::Range(0.0, 100000.0));
  sub->add_option("--idle", o.idle_seconds, "Seconds of idle power sampled before the runs (measured meters)")
      ->capture_default_str();
  sub->add_flag("--reference", [args](int64_t) { args->options.use_fast_kernels = false; },
                "Reference kernels only");
  sub->add_flag("--profile", o.profile,
                "Then time every op (as many runs again): time by op kind, dtype and kernel, and the slowest ops");
  add_input_shape_options(sub, o.input_shape, /*with_batch=*/true);
  sub->add_flag("--json", args->json, "Print one JSON object");
  sub->callback([args] { run_bench(*args); });
}

}  // namespace qdet::cli
