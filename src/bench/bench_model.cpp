#include "bench/bench_model.h"

#include <fmt/format.h>

#include <cstring>
#include <optional>
#include <random>

#include "base/timer.h"
#include "bench/cpu_power.h"
#include "bench/memory.h"
#include "graph/stats.h"
#include "runtime/interpreter.h"
#include "tflite/reader.h"

namespace qdet::bench {
namespace {

namespace fs = std::filesystem;

// Seeded random data in the input's natural range.
void fill_input(rt::TensorRef& t, std::mt19937& rng) {
  const int64_t n = t.num_elements();
  switch (t.dtype) {
    case DType::kFloat32: {
      std::uniform_real_distribution<float> u(0.0f, 1.0f);
      for (int64_t i = 0; i < n; ++i) t.as<float>()[i] = u(rng);
      return;
    }
    default: {
      // Integers (and float16 bit patterns of small values): random bytes for integer types,
      // zero for anything else so that no NaN/Inf reaches a kernel.
      const auto& traits = dtype_traits(t.dtype);
      if (traits.is_float) {
        std::memset(t.data, 0, t.byte_size());
        return;
      }
      for (size_t i = 0; i < t.byte_size(); ++i) t.data[i] = static_cast<uint8_t>(rng());
      return;
    }
  }
}

Status check_options(const BenchOptions& o) {
  if (o.runs < 1) return invalid_argument("--runs must be at least 1 (got {})", o.runs);
  if (o.warmup < 0) return invalid_argument("--warmup must not be negative (got {})", o.warmup);
  if (o.threads < 1) return invalid_argument("--threads must be at least 1 (got {})", o.threads);
  if (o.energy != "auto" && o.energy != "rapl" && o.energy != "perf" && o.energy != "nvml" &&
      o.energy != "estimate")
    return invalid_argument("unknown energy method '{}' (auto, rapl, perf, nvml, estimate)", o.energy);
  return ok_status();
}

// The ops per kernel, and the multiply-accumulates per (precision, kernel).
void count_kernels(const graph::Graph& graph, rt::Interpreter& it, BenchResult& r) {
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    r.kernels[it.kernel_name(i)]++;
    const int64_t macs = graph::op_macs(graph, graph.ops[i]);
    if (macs <= 0) continue;
    const std::string key =
        fmt::format("{} · {}", dtype_name(graph::op_mac_precision(graph, graph.ops[i])), it.kernel_name(i));
    r.macs_by_kernel[key] += static_cast<double>(macs);
  }
}

// Bytes and multiply-accumulates per dtype and the work per inference, counted at the shapes
// run: after a resize the file's shapes are stale.
void count_work_as_run(const graph::Graph& graph, rt::Interpreter& it, BenchResult& r) {
  std::optional<graph::Graph> resized;
  if (it.inputs_resized()) {
    resized = graph;
    for (size_t id = 0; id < resized->tensors.size(); ++id)
      resized->tensors[id].shape = it.tensor(static_cast<int32_t>(id)).shape;
  }
  const graph::Graph& as_run = resized ? *resized : graph;
  const graph::GraphStats stats = graph::compute_stats(as_run);
  for (const auto& [dtype, bytes] : stats.constant_bytes) r.bytes_by_dtype[dtype_name(dtype)] = bytes;
  for (const auto& [dtype, macs] : stats.macs) r.macs_by_dtype[dtype_name(dtype)] = static_cast<double>(macs);
  r.work = work_per_inference(as_run);
}

// o.runs more runs timing every op: the mean per op.
Status profile_ops(const graph::Graph& graph, rt::Interpreter& it, const BenchOptions& o, BenchResult& r) {
  std::vector<int64_t> op_ns;
  for (int i = 0; i < o.runs; ++i) QDET_TRY(it.invoke_profiled(op_ns).with_context(o.model.string()));
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    const auto& op = graph.ops[i];
    OpTime t;
    t.op = static_cast<int32_t>(i);
    t.kind = op.name();
    t.kernel = it.kernel_name(i);
    if (!op.outputs.empty() && op.outputs[0] >= 0) {
      t.dtype = dtype_name(graph.tensors[op.outputs[0]].dtype);
      t.output = graph.tensors[op.outputs[0]].name;
    }
    t.ms = static_cast<double>(op_ns[i]) * 1e-6 / o.runs;
    r.profile.push_back(std::move(t));
  }
  return ok_status();
}

}  // namespace

WorkPerInference work_per_inference(const graph::Graph& g) {
  WorkPerInference w;
  const graph::GraphStats stats = graph::compute_stats(g);
  for (const auto& [dtype, macs] : stats.macs) {
    const double m = static_cast<double>(macs);
    switch (dtype) {
      case DType::kFloat16: w.macs_fp16 += m; break;
      case DType::kInt8:
      case DType::kUInt8: w.macs_int8 += m; break;
      case DType::kInt16: w.macs_int16 += m; break;
      default: w.macs_fp32 += m; break;
    }
  }
  for (const auto& [dtype, bytes] : stats.constant_bytes) w.bytes_moved += static_cast<double>(bytes);
  for (const auto& t : g.tensors) {
    if (t.is_constant()) continue;
    int64_t n = num_elements(t.shape);
    if (n > 0) w.bytes_moved += 2.0 * static_cast<double>(n) * static_cast<double>(dtype_size(t.dtype));
  }
  return w;
}

Result<BenchResult> bench_model(const BenchOptions& o,
                                const std::function<void(const std::string&)>& progress) {
  QDET_TRY(check_options(o));
  QDET_ASSIGN_OR_RETURN(const CpuPower power, cpu_power(o.cpuinfo, o.threads, o.cpu_watts));

  BenchResult r;
  r.model = o.model;
  r.threads = o.threads;
  r.warmup = o.warmup;
  r.peak_rss_reset = reset_peak_rss();

  QDET_ASSIGN_OR_RETURN(graph::Model model, tflite::load_tflite(o.model));
  std::error_code ec;
  r.file_bytes = static_cast<int64_t>(fs::file_size(o.model, ec));
  auto graph = std::make_shared<const graph::Graph>(std::move(model.graph));

  rt::InterpreterOptions io;
  io.num_threads = o.threads;
  io.use_fast_kernels = o.use_fast_kernels;
  auto interp = rt::Interpreter::create(graph, io);
  if (!interp.ok()) return interp.status().with_context(o.model.string());
  rt::Interpreter& it = **interp;
  QDET_TRY(rt::apply_input_shape(it, o.input_shape).with_context(o.model.string()));
  if (it.num_inputs() > 0) {
    r.input_shape = it.input(0).shape;
    if (!r.input_shape.empty()) r.batch = r.input_shape[0];
  }
  r.arena_bytes = static_cast<int64_t>(it.arena_bytes());
  count_kernels(*graph, it, r);
  std::mt19937 rng(o.seed);
  for (size_t i = 0; i < it.num_inputs(); ++i) fill_input(it.input(i), rng);

  if (progress) progress(fmt::format("warm-up: {} runs", o.warmup));
  for (int i = 0; i < o.warmup; ++i) {
    Status s = it.invoke();
    if (!s.ok()) return s.with_context(o.model.string());
  }

  Status run_status = ok_status();
  auto timed_runs = [&]() -> int {
    r.samples_ms.reserve(static_cast<size_t>(o.runs));
    for (int i = 0; i < o.runs; ++i) {
      const int64_t t0 = now_ns();
      Status s = it.invoke();
      const int64_t t1 = now_ns();
      if (!s.ok()) {
        run_status = s.with_context(o.model.string());
        break;
      }
      r.samples_ms.push_back(static_cast<double>(t1 - t0) * 1e-6);
    }
    return static_cast<int>(r.samples_ms.size());
  };

  std::vector<std::string> unavailable;
  std::unique_ptr<EnergyMeter> meter;
  if (o.energy != "estimate") {
    QDET_ASSIGN_OR_RETURN(meter, choose_energy_meter(o.energy, &unavailable));
  }
  if (progress) {
    progress(fmt::format("timed: {} runs, {} thread{}, energy: {}", o.runs, o.threads,
                         o.threads == 1 ? "" : "s", meter ? meter->describe() : "estimate (time x power)"));
  }
  if (meter) {
    QDET_ASSIGN_OR_RETURN(r.energy, measure_energy(*meter, o.idle_seconds, timed_runs));
  } else {
    timed_runs();
  }
  QDET_TRY(run_status);
  r.peak_rss_bytes = peak_rss_bytes();
  count_work_as_run(*graph, it, r);
  r.latency = compute_latency_stats(r.samples_ms);
  const int runs = static_cast<int>(r.samples_ms.size());
  r.arithmetic = arithmetic_energy(r.work, runs);
  if (!meter) {
    r.energy = time_power_energy(r.latency.median_ms, runs, power.watts, power.basis);
    if (o.energy == "auto") r.energy.source = "auto chose estimate (no meter readable); " + r.energy.source;
  } else if (o.energy == "auto") {
    r.energy.source = fmt::format("auto chose {}; {}", r.energy.method, r.energy.source);
  }
  r.energy.unavailable = unavailable;
  if (o.profile) {
    if (progress) progress(fmt::format("profile: {} runs timing every op", o.runs));
    QDET_TRY(profile_ops(*graph, it, o, r));
  }
  return r;
}

}  // namespace qdet::bench
