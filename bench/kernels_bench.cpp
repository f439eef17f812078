// kernels_bench: where the time of a float TFLite model goes in qdet's interpreter.
//
//   kernels_bench MODEL.tflite [--threads N] [--runs N] [--warmup N] [--reference]
//                 [--no-profile]
//
// Prints (1) the Interpreter's end-to-end latency (every sample kept: min, median, p90), and
// (2) a per-op profile: each op's kernel prepared on its own buffers and its eval timed alone
// (median over the runs), summed by op type and kernel ("xnnpack", "copy", "reference").
// Inputs are seeded random floats. Compare the median with a peer measured in the same
// session (ONNX Runtime: ../shared/peers/ort_run.js MODEL.onnx --threads 1).
#include <pthreadpool.h>

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "base/timer.h"
#include "runtime/interpreter.h"
#include "runtime/kernel_registry.h"
#include "tflite/reader.h"

namespace {

using namespace qdet;

struct Stats {
  double min_ms, median_ms, p90_ms;
};

Stats stats_of(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  const auto at = [&](double q) { return ms[static_cast<size_t>(q * double(ms.size() - 1))]; };
  return {ms.front(), at(0.5), at(0.9)};
}

int64_t thread_cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void fill_random(rt::TensorRef& t, std::mt19937& rng) {
  if (t.dtype != DType::kFloat32) {  // quantized inputs: random bytes
    for (size_t i = 0; i < t.byte_size(); ++i) t.data[i] = static_cast<uint8_t>(rng() & 0xFF);
    return;
  }
  std::uniform_real_distribution<float> dist(0.0f, 1.0f);
  for (int64_t i = 0; i < t.num_elements(); ++i) t.as<float>()[i] = dist(rng);
}

struct AlignedFree {
  void operator()(uint8_t* p) const { ::operator delete[](p, std::align_val_t(64)); }
};
using Buffer = std::unique_ptr<uint8_t[], AlignedFree>;

// Every op prepared on its own tensors (no arena reuse) and timed alone.
int profile_ops(const graph::Graph& g, int threads, int warmup, int runs, bool fast) {
  pthreadpool_t pool = threads > 1 ? pthreadpool_create(static_cast<size_t>(threads)) : nullptr;
  static const QuantParams kNoQuant;
  std::vector<rt::TensorRef> tensors(g.tensors.size());
  std::vector<Buffer> buffers(g.tensors.size());
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    const graph::Tensor& t = g.tensors[i];
    rt::TensorRef& r = tensors[i];
    r.id = static_cast<int32_t>(i);
    r.dtype = t.dtype;
    r.shape = t.shape;
    r.quant = &t.quant;
    r.is_constant = t.is_constant();
    if (r.is_constant) r.data = const_cast<uint8_t*>(t.data.data());
  }
  struct Planned {
    const rt::Kernel* kernel = nullptr;
    std::unique_ptr<rt::OpData> data;
    std::vector<rt::TensorRef*> in, out;
    Buffer scratch;
  };
  std::vector<Planned> plan(g.ops.size());
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const graph::Op& op = g.ops[i];
    Planned& p = plan[i];
    for (int32_t id : op.inputs) p.in.push_back(id < 0 ? nullptr : &tensors[id]);
    for (int32_t id : op.outputs) p.out.push_back(&tensors[id]);
    for (const rt::Kernel* k : rt::default_kernel_registry().candidates(op.kind, fast)) {
      rt::PrepareContext ctx{.op = op,
                             .op_index = static_cast<int32_t>(i),
                             .inputs = p.in,
                             .outputs = p.out,
                             .num_threads = threads,
                             .threadpool = pool};
      const Status s = k->prepare(ctx);
      if (s.code() == StatusCode::kUnsupported) continue;
      if (!s.ok()) {
        std::fprintf(stderr, "op %zu (%s): %s\n", i, op.name(), s.message().c_str());
        return 1;
      }
      p.kernel = k;
      p.data = std::move(ctx.op_data);
      p.scratch.reset(new (std::align_val_t(64)) uint8_t[ctx.scratch_bytes + 64]);
      break;
    }
    if (p.kernel == nullptr) {
      std::fprintf(stderr, "op %zu (%s): no kernel\n", i, op.name());
      return 1;
    }
    for (rt::TensorRef* t : p.out) {
      buffers[t->id].reset(new (std::align_val_t(64)) uint8_t[t->byte_size() + 64]());
      t->data = buffers[t->id].get();
    }
  }
  std::mt19937 rng(1);
  for (int32_t id : g.inputs) {
    rt::TensorRef& t = tensors[id];
    buffers[id].reset(new (std::align_val_t(64)) uint8_t[t.byte_size() + 64]());
    t.data = buffers[id].get();
    fill_random(t, rng);
  }
  std::vector<std::vector<double>> samples(g.ops.size());
  for (int r = 0; r < warmup + runs; ++r)
    for (size_t i = 0; i < g.ops.size(); ++i) {
      Planned& p = plan[i];
      rt::EvalContext ctx{.op = g.ops[i],
                          .inputs = p.in,
                          .outputs = p.out,
                          .op_data = p.data.get(),
                          .scratch = p.scratch.get(),
                          .threadpool = pool};
      const int64_t t0 = now_ns();
      const Status s = p.kernel->eval(ctx);
      const int64_t t1 = now_ns();
      if (!s.ok()) {
        std::fprintf(stderr, "op %zu: %s\n", i, s.message().c_str());
        return 1;
      }
      if (r >= warmup) samples[i].push_back(double(t1 - t0) * 1e-6);
    }
  std::map<std::string, std::pair<double, int>> by_kind;
  double total = 0;
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const double ms = stats_of(samples[i]).median_ms;
    auto& e = by_kind[std::string(g.ops[i].name()) + " [" + plan[i].kernel->name + "]"];
    e.first += ms;
    e.second += 1;
    total += ms;
  }
  std::vector<std::pair<std::string, std::pair<double, int>>> rows(by_kind.begin(),
                                                                    by_kind.end());
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.second.first > b.second.first; });
  std::printf("per-op medians (each op timed alone, as the graph has it: no SiLU fusion), sum %.3f ms\n", total);
  std::printf("  %-40s %5s %10s %6s\n", "op [kernel]", "count", "ms", "share");
  for (const auto& [name, e] : rows)
    std::printf("  %-40s %5d %10.3f %5.1f%%\n", name.c_str(), e.second, e.first,
                100.0 * e.first / total);
  // The slowest single ops, with their shapes, to see what a fast kernel would save.
  std::vector<size_t> order(g.ops.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return stats_of(samples[a]).median_ms > stats_of(samples[b]).median_ms;
  });
  std::printf("slowest ops:\n");
  for (size_t k = 0; k < std::min<size_t>(order.size(), 12); ++k) {
    const size_t i = order[k];
    std::string shapes;
    for (const rt::TensorRef* t : plan[i].in)
      if (t != nullptr) shapes += shape_to_string(t->shape) + " ";
    shapes += "-> ";
    for (const rt::TensorRef* t : plan[i].out) shapes += shape_to_string(t->shape) + " ";
    std::printf("  op %3zu %-24s %-10s %8.3f ms  %s\n", i, g.ops[i].name(), plan[i].kernel->name,
                stats_of(samples[i]).median_ms, shapes.c_str());
  }
  if (pool != nullptr) pthreadpool_destroy(pool);
  return 0;
}

int run(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: kernels_bench MODEL.tflite [--threads N] [--runs N] [--warmup N] "
                 "[--reference] [--no-profile]\n");
    return 2;
  }
  const std::string path = argv[1];
  int threads = 1, runs = 30, warmup = 5;
  bool fast = true, profile = true;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--threads" && has_value) threads = std::atoi(argv[++i]);
    else if (a == "--runs" && has_value) runs = std::atoi(argv[++i]);
    else if (a == "--warmup" && has_value) warmup = std::atoi(argv[++i]);
    else if (a == "--reference") fast = false;
    else if (a == "--no-profile") profile = false;
    else {
      std::fprintf(stderr, "kernels_bench: unknown argument '%s'\n", a.c_str());
      return 2;
    }
  }
  if (threads < 1 || runs < 1 || warmup < 0) {
    std::fprintf(stderr, "kernels_bench: --threads and --runs must be >= 1\n");
    return 2;
  }
  auto model = tflite::load_tflite(path);
  if (!model.ok()) {
    std::fprintf(stderr, "kernels_bench: %s\n", model.status().message().c_str());
    return 1;
  }
  auto graph = std::make_shared<const graph::Graph>(std::move(model->graph));
  rt::InterpreterOptions options;
  options.num_threads = threads;
  options.use_fast_kernels = fast;
  auto interp = rt::Interpreter::create(graph, options);
  if (!interp.ok()) {
    std::fprintf(stderr, "kernels_bench: %s\n", interp.status().message().c_str());
    return 1;
  }
  rt::Interpreter& in = **interp;
  std::mt19937 rng(1);
  for (size_t i = 0; i < in.num_inputs(); ++i) fill_random(in.input(i), rng);
  std::map<std::string, int> kernels;
  for (size_t i = 0; i < graph->ops.size(); ++i) kernels[in.kernel_name(i)]++;
  std::vector<double> ms, cpu_ms;
  for (int r = 0; r < warmup + runs; ++r) {
    const int64_t t0 = now_ns(), c0 = thread_cpu_ns();
    const Status s = in.invoke();
    const int64_t t1 = now_ns(), c1 = thread_cpu_ns();
    if (!s.ok()) {
      std::fprintf(stderr, "kernels_bench: invoke: %s\n", s.message().c_str());
      return 1;
    }
    if (r >= warmup) {
      ms.push_back(double(t1 - t0) * 1e-6);
      cpu_ms.push_back(double(c1 - c0) * 1e-6);
    }
  }
  const Stats st = stats_of(ms);
  const Stats cpu = stats_of(cpu_ms);
  std::printf("%s: %zu ops, threads %d, %s kernels, arena %.1f MiB\n", path.c_str(),
              graph->ops.size(), threads, fast ? "fast" : "reference",
              double(in.arena_bytes()) / (1 << 20));
  std::printf("kernels:");
  for (const auto& [name, n] : kernels) std::printf(" %s %d", name.c_str(), n);
  std::printf("\ninterpreter invoke over %d runs: min %.3f ms, median %.3f ms, p90 %.3f ms\n",
              runs, st.min_ms, st.median_ms, st.p90_ms);
  // On a shared machine wall time includes waiting for a core; with one thread, the calling
  // thread's CPU time is the work itself.
  if (threads == 1)
    std::printf("invoke CPU time of the calling thread: min %.3f ms, median %.3f ms\n",
                cpu.min_ms, cpu.median_ms);
  return profile ? profile_ops(*graph, threads, warmup, runs, fast) : 0;
}

}  // namespace

int main(int argc, char** argv) { return run(argc, argv); }
