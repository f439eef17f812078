// qdet's interpreter against the peers on the same model, in one run (docs/ARCHITECTURE.md, "Formats and exactness"):
// ONNX Runtime (native, same weights in ONNX) and the official TFLite interpreter (WebAssembly).
//
//   peer_bench [--model M.tflite] [--onnx M.onnx] [--threads 1,2] [--warmup W] [--runs R]
//              [--int8 Q.tflite [--onnx-int8 Q.onnx]] [--int8-max X --int8-max-ort Y]
//              [--compare A.tflite,B.tflite,MAX ...]
//
// --int8-max / --int8-max-ort: targets for qdet int8 / qdet fp32 and qdet int8 / ORT fp32 at 1
// thread (printed met or not). --compare (repeatable): two qdet models timed alternately, five
// rounds of runs/5 each so that machine noise hits both alike, their median ratio A / B against
// MAX. Every table ends with the thread check: 2 threads no more than 5% slower than 1.
//
// Prints each runtime's median / p90 / min latency and qdet's ratio to each peer. With --int8,
// also qdet's int8 model and ONNX Runtime's int8 model (default: its own quantize_static of
// YOLOX-Nano, ../shared/data/models/anchors, percentile) at the same thread counts, and each
// runtime's int8 / fp32 latency ratio. Defaults:
// YOLOX-Nano fp32 416 (../shared/data/models). A benchmark program, not a test: timings on a
// shared 2-core machine are noisy, which is why both sides are measured in the same run.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "base/paths.h"
#include "base/timer.h"
#include "bench/latency_stats.h"
#include "peer_process.h"
#include "runtime/interpreter.h"
#include "tflite/reader.h"

namespace {

using qdet::bench::LatencyStats;

struct Row {
  std::string runtime;
  int threads;
  LatencyStats stats;
};

using qdet::bench_programs::peers_node_path;
using qdet::bench_programs::run_capture;

// Runs a peer script; returns its latency summary (median/p90/min/mean) from its JSON line.
bool run_peer(const std::string& script, const std::string& args, LatencyStats* stats) {
  std::string cmd = fmt::format("NODE_PATH='{}' node '{}' {}", peers_node_path(),
                                (qdet::shared_dir() / "peers" / script).string(), args);
  int status = 0;
  std::string out = run_capture(cmd + " 2>/dev/null", &status);
  auto start = out.find('{');
  if (status != 0 || start == std::string::npos) {
    std::fprintf(stderr, "peer_bench: %s failed (is node and ../shared/peers/setup.sh there?)\n",
                 script.c_str());
    return false;
  }
  auto j = nlohmann::json::parse(out.substr(start), nullptr, false);
  if (j.is_discarded()) return false;
  auto num = [&](const char* a, const char* b) {
    if (j.contains(a)) return j[a].get<double>();
    if (j.contains(b)) return j[b].get<double>();
    return 0.0;
  };
  stats->median_ms = num("median_ms", "median");
  stats->p90_ms = num("p90_ms", "p90");
  stats->min_ms = num("min_ms", "min");
  stats->mean_ms = num("mean_ms", "mean");
  return stats->median_ms > 0;
}

bool run_qdet(const std::string& model_path, int threads, int warmup, int runs, LatencyStats* stats) {
  auto model = qdet::tflite::load_tflite(model_path);
  if (!model.ok()) {
    std::fprintf(stderr, "peer_bench: %s\n", model.status().message().c_str());
    return false;
  }
  auto graph = std::make_shared<const qdet::graph::Graph>(std::move(model->graph));
  qdet::rt::InterpreterOptions options;
  options.num_threads = threads;
  auto interp = qdet::rt::Interpreter::create(graph, options);
  if (!interp.ok()) {
    std::fprintf(stderr, "peer_bench: %s\n", interp.status().message().c_str());
    return false;
  }
  auto& it = **interp;
  std::mt19937 rng(1);
  for (size_t i = 0; i < it.num_inputs(); ++i) {
    auto& in = it.input(i);
    for (size_t b = 0; b < in.byte_size(); ++b) in.data[b] = static_cast<uint8_t>(rng());
    if (in.dtype == qdet::DType::kFloat32) {
      std::uniform_real_distribution<float> d(0.f, 255.f);
      for (int64_t e = 0; e < in.num_elements(); ++e) in.as<float>()[e] = d(rng);
    }
  }
  for (int i = 0; i < warmup; ++i)
    if (auto s = it.invoke(); !s.ok()) {
      std::fprintf(stderr, "peer_bench: %s\n", s.message().c_str());
      return false;
    }
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    int64_t t0 = qdet::now_ns();
    (void)it.invoke();
    ms.push_back(static_cast<double>(qdet::now_ns() - t0) * 1e-6);
  }
  *stats = qdet::bench::compute_latency_stats(ms);
  return true;
}

std::vector<int> parse_list(const std::string& s) {
  std::vector<int> v;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) v.push_back(std::atoi(item.c_str()));
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model = (qdet::data_dir() / "models" / "yolox_nano_fp32_416.tflite").string();
  std::string onnx = (qdet::data_dir() / "models" / "yolox_nano_416.onnx").string();
  std::vector<int> threads = {1, 2};
  int warmup = 5, runs = 30;
  bool wasm = true;
  std::string int8_model;
  std::string onnx_int8 = (qdet::data_dir() / "models" / "anchors" / "yolox_nano_ort_int8_percentile.onnx").string();
  double int8_max = 0, int8_max_ort = 0;
  std::vector<std::string> compares;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--model") model = next();
    else if (a == "--onnx") onnx = next();
    else if (a == "--threads") threads = parse_list(next());
    else if (a == "--warmup") warmup = std::atoi(next().c_str());
    else if (a == "--runs") runs = std::atoi(next().c_str());
    else if (a == "--no-wasm") wasm = false;
    else if (a == "--int8") int8_model = next();
    else if (a == "--onnx-int8") onnx_int8 = next();
    else if (a == "--int8-max") int8_max = std::atof(next().c_str());
    else if (a == "--int8-max-ort") int8_max_ort = std::atof(next().c_str());
    else if (a == "--compare") compares.push_back(next());
    else {
      std::fprintf(stderr, "usage: peer_bench [--model M.tflite] [--onnx M.onnx] [--threads 1,2] "
                           "[--warmup W] [--runs R] [--no-wasm] [--int8 Q.tflite [--onnx-int8 Q.onnx]] "
                           "[--int8-max X] [--int8-max-ort Y] [--compare A.tflite,B.tflite,MAX ...]\n");
      return 2;
    }
  }
  std::vector<Row> rows;
  for (int t : threads) {
    // Interleave qdet and ORT at each thread count so machine noise hits both alike.
    Row q{"qdet", t, {}};
    if (!run_qdet(model, t, warmup, runs, &q.stats)) return 1;
    rows.push_back(q);
    Row o{"onnxruntime", t, {}};
    if (!onnx.empty() &&
        run_peer("ort_run.js", fmt::format("'{}' --threads {} --warmup {} --runs {}", onnx, t, warmup, runs), &o.stats))
      rows.push_back(o);
  }
  if (wasm) {
    Row w{"tflite-wasm", 1, {}};
    if (run_peer("tflite_run.js", fmt::format("'{}' --warmup {} --runs {}", model, warmup, runs), &w.stats))
      rows.push_back(w);
  }
  std::printf("model: %s\n%-12s %7s %10s %10s %10s %12s\n", model.c_str(), "runtime", "threads",
              "median ms", "p90 ms", "min ms", "qdet ratio");
  for (const auto& r : rows) {
    double qdet_median = 0;
    for (const auto& q : rows)
      if (q.runtime == "qdet" && q.threads == r.threads) qdet_median = q.stats.median_ms;
    if (r.runtime == "tflite-wasm")
      for (const auto& q : rows)
        if (q.runtime == "qdet" && q.threads == 1) qdet_median = q.stats.median_ms;
    std::string ratio = r.runtime == "qdet" ? "-" : fmt::format("{:.2f}x", qdet_median / r.stats.median_ms);
    std::printf("%-12s %7d %10.2f %10.2f %10.2f %12s\n", r.runtime.c_str(), r.threads,
                r.stats.median_ms, r.stats.p90_ms, r.stats.min_ms, ratio.c_str());
  }
  std::printf("(qdet ratio = qdet median / peer median at the same thread count; < 1 means qdet is faster)\n");
  auto median_of = [&](const char* runtime, int t) {
    for (const auto& r : rows)
      if (r.runtime == runtime && r.threads == t) return r.stats.median_ms;
    return 0.0;
  };
  auto verdict = [](double ratio, double max) { return ratio <= max ? "met" : "NOT met"; };
  std::vector<std::string> targets;
  if (median_of("qdet", 1) > 0 && median_of("onnxruntime", 1) > 0) {
    const double r = median_of("qdet", 1) / median_of("onnxruntime", 1);
    targets.push_back(fmt::format("fp32 qdet / ORT fp32, 1 thread: {:.2f}x (target <= 1.00x: {})", r, verdict(r, 1.0)));
  }
  if (median_of("qdet", 1) > 0 && median_of("qdet", 2) > 0) {
    const double r = median_of("qdet", 2) / median_of("qdet", 1);
    targets.push_back(fmt::format("fp32 qdet 2 threads / 1 thread: {:.2f}x (target <= 1.05x: {})", r, verdict(r, 1.05)));
  }
  auto print_targets = [&] {
    if (targets.empty()) return;
    std::printf("\ntargets:\n");
    for (const auto& t : targets) std::printf("  %s\n", t.c_str());
  };
  for (const auto& c : compares) {
    std::vector<std::string> parts;
    std::stringstream ss(c);
    std::string item;
    while (std::getline(ss, item, ',')) parts.push_back(item);
    if (parts.size() != 3) {
      std::fprintf(stderr, "peer_bench: --compare takes A.tflite,B.tflite,MAX (got '%s')\n", c.c_str());
      return 2;
    }
    const double max = std::atof(parts[2].c_str());
    std::printf("\ncompare: %s / %s\n%7s %12s %12s %10s\n", parts[0].c_str(), parts[1].c_str(), "threads",
                "A median", "B median", "A / B");
    for (int t : threads) {
      // Alternate the two models in five rounds so that noise from other work hits both alike.
      std::vector<double> a_ms, b_ms;
      const int per_round = std::max(1, runs / 5);
      for (int round = 0; round < 5; ++round) {
        LatencyStats sa, sb;
        if (!run_qdet(parts[0], t, round == 0 ? warmup : 1, per_round, &sa)) return 1;
        if (!run_qdet(parts[1], t, round == 0 ? warmup : 1, per_round, &sb)) return 1;
        a_ms.push_back(sa.median_ms);
        b_ms.push_back(sb.median_ms);
      }
      const double a = qdet::bench::compute_latency_stats(a_ms).median_ms;
      const double b = qdet::bench::compute_latency_stats(b_ms).median_ms;
      std::printf("%7d %12.2f %12.2f %9.2fx\n", t, a, b, a / b);
      if (t == 1)
        targets.push_back(fmt::format("{} / {}, 1 thread: {:.2f}x (target <= {:.2f}x: {})", parts[0], parts[1], a / b,
                                      max, verdict(a / b, max)));
    }
  }
  if (int8_model.empty()) {
    print_targets();
    return 0;
  }

  // int8 against fp32, each runtime with its own int8 model, interleaved per thread count.
  std::map<int, double> int8_by_threads;
  std::printf("\nint8: %s (qdet), %s (onnxruntime)\n%-12s %7s %14s %14s %12s\n", int8_model.c_str(),
              onnx_int8.c_str(), "runtime", "threads", "int8 median", "fp32 median", "int8 / fp32");
  for (int t : threads) {
    auto fp32_of = [&](const char* runtime) {
      for (const auto& r : rows)
        if (r.runtime == runtime && r.threads == t) return r.stats.median_ms;
      return 0.0;
    };
    LatencyStats q8;
    if (!run_qdet(int8_model, t, warmup, runs, &q8)) return 1;
    std::printf("%-12s %7d %14.2f %14.2f %11.2fx\n", "qdet", t, q8.median_ms, fp32_of("qdet"),
                q8.median_ms / fp32_of("qdet"));
    if (t == 1 && int8_max > 0)
      targets.push_back(fmt::format("int8 qdet / qdet fp32, 1 thread: {:.2f}x (target <= {:.2f}x: {})",
                                    q8.median_ms / fp32_of("qdet"), int8_max, verdict(q8.median_ms / fp32_of("qdet"), int8_max)));
    if (t == 1 && int8_max_ort > 0 && fp32_of("onnxruntime") > 0)
      targets.push_back(fmt::format("int8 qdet / ORT fp32, 1 thread: {:.2f}x (target <= {:.2f}x: {})",
                                    q8.median_ms / fp32_of("onnxruntime"), int8_max_ort,
                                    verdict(q8.median_ms / fp32_of("onnxruntime"), int8_max_ort)));
    int8_by_threads[t] = q8.median_ms;
    if (t == 2 && int8_by_threads.count(1))
      targets.push_back(fmt::format("int8 qdet 2 threads / 1 thread: {:.2f}x (target <= 1.05x: {})",
                                    q8.median_ms / int8_by_threads[1], verdict(q8.median_ms / int8_by_threads[1], 1.05)));
    LatencyStats o8;
    if (run_peer("ort_run.js", fmt::format("'{}' --threads {} --warmup {} --runs {}", onnx_int8, t, warmup, runs), &o8) &&
        fp32_of("onnxruntime") > 0)
      std::printf("%-12s %7d %14.2f %14.2f %11.2fx   (qdet int8 / ORT int8: %.2fx)\n", "onnxruntime", t,
                  o8.median_ms, fp32_of("onnxruntime"), o8.median_ms / fp32_of("onnxruntime"),
                  q8.median_ms / o8.median_ms);
  }
  print_targets();
  return 0;
}
