// qdet run MODEL [--input FILE.bin]... [--dump-dir DIR] [--threads N] [--json] [--reference]
//   Runs a .tflite model once with qdet's interpreter on raw inputs and reports (and dumps)
//   its outputs. Inputs are raw little-endian bytes of exactly the input tensor's size; inputs
//   not given are filled with deterministic random data from --seed, generated exactly as
//   ../shared/peers/tflite_run.js does (same generator, same ranges), so both runtimes see the
//   same tensors. Outputs go to DIR/out_<tensor id>_<name>.bin with every character of the
//   name outside [A-Za-z0-9_.-] replaced by '_' (tflite_run.js's convention).
#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/json_text.h"
#include "base/timer.h"
#include "command.h"
#include "runtime/interpreter.h"
#include "tensor/fp16.h"
#include "tflite/reader.h"

namespace qdet::cli {
namespace {

using nlohmann::json;

struct RunOptions {
  std::string model;
  std::vector<std::string> inputs;
  std::string dump_dir;
  int threads = 1;
  bool json = false;
  bool reference = false;
  uint32_t seed = 1;
  int first = 8;
  rt::InputShapeRequest input_shape;
};

// tflite_run.js's generator (mulberry32), bit for bit: a uniform double in [0, 1).
class PeerRng {
 public:
  explicit PeerRng(uint32_t seed) : t_(seed) {}
  double next() {
    t_ += 0x6D2B79F5u;
    uint32_t r = (t_ ^ (t_ >> 15)) * (1u | t_);
    r ^= r + (r ^ (r >> 7)) * (61u | r);
    return static_cast<double>(r ^ (r >> 14)) / 4294967296.0;
  }

 private:
  uint32_t t_;
};

// Fills a tensor as tflite_run.js does: float in [-1, 1), uint8/int8 full range, bool 0/1,
// other integers in [0, 10).
void fill_random(rt::TensorRef& t, PeerRng& rng) {
  const int64_t n = t.num_elements();
  for (int64_t i = 0; i < n; ++i) {
    const double r = rng.next();
    switch (t.dtype) {
      case DType::kFloat32: t.as<float>()[i] = static_cast<float>(r * 2 - 1); break;
      case DType::kFloat16: t.as<uint16_t>()[i] = fp32_to_fp16(static_cast<float>(r * 2 - 1)); break;
      case DType::kUInt8: t.as<uint8_t>()[i] = static_cast<uint8_t>(std::floor(r * 256)); break;
      case DType::kInt8: t.as<int8_t>()[i] = static_cast<int8_t>(std::floor(r * 256) - 128); break;
      case DType::kBool: t.as<uint8_t>()[i] = r < 0.5 ? 0 : 1; break;
      case DType::kInt16: t.as<int16_t>()[i] = static_cast<int16_t>(std::floor(r * 10)); break;
      case DType::kInt32: t.as<int32_t>()[i] = static_cast<int32_t>(std::floor(r * 10)); break;
      case DType::kInt64: t.as<int64_t>()[i] = static_cast<int64_t>(std::floor(r * 10)); break;
      default: break;
    }
  }
}

std::string sanitize(const std::string& name) {
  std::string s = name;
  for (char& c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) c = '_';
  }
  return s;
}

json first_values(const rt::TensorRef& t, int count) {
  json values = json::array();
  const int64_t n = std::min<int64_t>(t.num_elements(), count);
  for (int64_t i = 0; i < n; ++i) {
    switch (t.dtype) {
      case DType::kFloat32: values.push_back(t.as<const float>()[i]); break;
      case DType::kFloat16: values.push_back(fp16_to_fp32(t.as<const uint16_t>()[i])); break;
      case DType::kUInt8: values.push_back(t.as<const uint8_t>()[i]); break;
      case DType::kInt8: values.push_back(t.as<const int8_t>()[i]); break;
      case DType::kBool: values.push_back(t.as<const uint8_t>()[i] != 0); break;
      case DType::kInt16: values.push_back(t.as<const int16_t>()[i]); break;
      case DType::kInt32: values.push_back(t.as<const int32_t>()[i]); break;
      case DType::kInt64: values.push_back(t.as<const int64_t>()[i]); break;
      default: break;
    }
  }
  return values;
}

Result<json> run(const RunOptions& o) {
  QDET_ASSIGN_OR_RETURN(graph::Model model, tflite::load_tflite(o.model));
  auto graph = std::make_shared<const graph::Graph>(std::move(model.graph));
  rt::InterpreterOptions options;
  options.num_threads = o.threads;
  options.use_fast_kernels = !o.reference;
  const int64_t t0 = now_ns();
  auto created = rt::Interpreter::create(graph, options);
  if (!created.ok()) return created.status().with_context(o.model);
  auto& interp = *created;
  QDET_TRY(rt::apply_input_shape(*interp, o.input_shape).with_context(o.model));
  const int64_t t1 = now_ns();
  if (o.inputs.size() > interp->num_inputs())
    return invalid_argument("{} --input files for a model with {} inputs", o.inputs.size(),
                            interp->num_inputs());
  json result = {{"ok", true}, {"model", std::filesystem::absolute(o.model).string()},
                 {"threads", o.threads}, {"kernels", o.reference ? "reference" : "fast+reference"},
                 {"arena_bytes", interp->arena_bytes()}};
  PeerRng rng(o.seed);
  json inputs = json::array();
  for (size_t i = 0; i < interp->num_inputs(); ++i) {
    rt::TensorRef& t = interp->input(i);
    const graph::Tensor& gt = graph->tensors[t.id];
    std::string source;
    if (i < o.inputs.size()) {
      QDET_ASSIGN_OR_RETURN(auto bytes, read_file(o.inputs[i]));
      if (bytes.size() != t.byte_size())
        return invalid_argument("{}: {} bytes, input {} '{}' needs {} ({}{})", o.inputs[i],
                                bytes.size(), i, gt.name, t.byte_size(), dtype_name(t.dtype),
                                shape_to_string(t.shape));
      if (!bytes.empty()) std::memcpy(t.data, bytes.data(), bytes.size());
      source = o.inputs[i];
    } else {
      fill_random(t, rng);
      source = fmt::format("random (seed {})", o.seed);
    }
    inputs.push_back({{"name", gt.name}, {"id", t.id}, {"dtype", dtype_name(t.dtype)},
                      {"shape", t.shape}, {"source", source}});
  }
  result["inputs"] = inputs;
  const int64_t t2 = now_ns();
  QDET_TRY(interp->invoke().with_context(o.model));
  const int64_t t3 = now_ns();
  result["prepare_ms"] = (t1 - t0) / 1e6;
  result["invoke_ms"] = (t3 - t2) / 1e6;
  if (!o.dump_dir.empty()) QDET_TRY(ensure_directory(o.dump_dir));
  json outputs = json::array();
  for (size_t i = 0; i < interp->num_outputs(); ++i) {
    const rt::TensorRef& t = interp->output(i);
    const graph::Tensor& gt = graph->tensors[t.id];
    json out = {{"name", gt.name}, {"id", t.id}, {"dtype", dtype_name(t.dtype)},
                {"shape", t.shape}, {"first", first_values(t, o.first)}};
    if (!o.dump_dir.empty()) {
      const auto path = std::filesystem::path(o.dump_dir) /
                        fmt::format("out_{}_{}.bin", t.id, sanitize(gt.name));
      QDET_TRY(write_file_atomic(path, std::span<const uint8_t>(t.data, t.byte_size())));
      out["file"] = path.string();
    }
    outputs.push_back(out);
  }
  result["outputs"] = outputs;
  return result;
}

void print_text(const json& r) {
  std::printf("model: %s\n", r["model"].get<std::string>().c_str());
  std::printf("threads %d, kernels %s, arena %.1f KiB, prepare %.1f ms, invoke %.1f ms\n",
              r["threads"].get<int>(), r["kernels"].get<std::string>().c_str(),
              r["arena_bytes"].get<double>() / 1024.0, r["prepare_ms"].get<double>(),
              r["invoke_ms"].get<double>());
  for (const auto& in : r["inputs"])
    std::printf("input  %-4d %-32s %-8s %-16s <- %s\n", in["id"].get<int>(),
                in["name"].get<std::string>().c_str(), in["dtype"].get<std::string>().c_str(),
                shape_to_string(in["shape"].get<Shape>()).c_str(),
                in["source"].get<std::string>().c_str());
  for (const auto& out : r["outputs"]) {
    std::string first;
    for (const auto& v : out["first"]) {
      if (!first.empty()) first += ", ";
      first += v.is_number_float() ? fmt::format("{:.6g}", v.get<double>()) : json_text(v);
    }
    std::printf("output %-4d %-32s %-8s %-16s [%s%s]\n", out["id"].get<int>(),
                out["name"].get<std::string>().c_str(), out["dtype"].get<std::string>().c_str(),
                shape_to_string(out["shape"].get<Shape>()).c_str(), first.c_str(),
                out["first"].size() < static_cast<size_t>(num_elements(out["shape"].get<Shape>())) ? ", ..." : "");
    if (out.contains("file")) std::printf("       -> %s\n", out["file"].get<std::string>().c_str());
  }
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  auto* sub = app.add_subcommand("run", "Run a .tflite model once on raw input tensors");
  sub->add_option("model", o->model, "The .tflite model")->required()->check(CLI::ExistingFile);
  sub->add_option("--input", o->inputs,
                  "Raw little-endian bytes of input i, exactly the tensor's size (repeat per "
                  "input; missing inputs get seeded random data)");
  sub->add_option("--dump-dir", o->dump_dir, "Write each output to DIR/out_<id>_<name>.bin");
  sub->add_option("--threads", o->threads, "Threads (results do not depend on it)")
      ->check(CLI::Range(1, 256));
  sub->add_option("--seed", o->seed, "Seed of the random inputs (tflite_run.js's generator)");
  sub->add_option("--first", o->first, "How many leading values of each output to print")
      ->check(CLI::Range(0, 1 << 20));
  sub->add_flag("--json", o->json, "Print one JSON object instead of text");
  sub->add_flag("--reference", o->reference, "Use only the reference kernels");
  add_input_shape_options(sub, o->input_shape, /*with_batch=*/true);
  sub->callback([o] {
    auto r = run(*o);
    exit_on_error(r.status());
    if (o->json)
      std::printf("%s\n", json_text(*r).c_str());
    else
      print_text(*r);
  });
}

}  // namespace qdet::cli
