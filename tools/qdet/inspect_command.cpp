// qdet inspect MODEL [--json]: what a .tflite holds. One record (a JSON object) is built from
// the model, then printed either as text or as JSON, so both show the same facts.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/json_text.h"

#include "command.h"
#include "graph/stats.h"
#include "tflite/metadata.h"
#include "tflite/reader.h"

namespace qdet::cli {
namespace {

using nlohmann::json;

json quant_json(const QuantParams& q) {
  if (q.empty()) return nullptr;
  json j;
  if (!q.per_axis()) {
    j["scale"] = q.scale[0];
    j["zero_point"] = q.zero_point[0];
    return j;
  }
  // Per-axis: summarized (a conv weight has one scale per output channel).
  const auto [smin, smax] = std::minmax_element(q.scale.begin(), q.scale.end());
  const auto [zmin, zmax] = std::minmax_element(q.zero_point.begin(), q.zero_point.end());
  j["axis"] = q.quantized_dimension;
  j["channels"] = q.scale.size();
  j["scale_min"] = *smin;
  j["scale_max"] = *smax;
  j["zero_point_min"] = *zmin;
  j["zero_point_max"] = *zmax;
  return j;
}

json tensor_json(const graph::Graph& g, int32_t id) {
  const graph::Tensor& t = g.tensors[id];
  json j = {{"id", id},
            {"name", t.name},
            {"shape", t.shape},
            {"dtype", dtype_name(t.dtype)},
            {"constant", t.is_constant()},
            {"quant", quant_json(t.quant)}};
  if (!t.shape_signature.empty() && t.shape_signature != t.shape)
    j["shape_signature"] = t.shape_signature;
  return j;
}

json dtype_map(const std::map<DType, int64_t>& m) {
  json j = json::object();
  for (const auto& [dtype, n] : m) j[dtype_name(dtype)] = n;
  return j;
}

Result<json> inspect(const std::string& path) {
  QDET_ASSIGN_OR_RETURN(graph::Model m, tflite::load_tflite(path));
  const graph::Graph& g = m.graph;
  const graph::GraphStats stats = graph::compute_stats(g);
  json j;
  j["file"] = path;
  std::error_code ec;
  j["file_bytes"] = static_cast<int64_t>(std::filesystem::file_size(path, ec));
  j["version"] = m.version;
  j["description"] = m.description;
  j["graph"] = g.name;
  j["num_ops"] = g.ops.size();
  j["num_tensors"] = g.tensors.size();
  j["op_counts"] = stats.op_counts;
  for (int32_t id : g.inputs) j["inputs"].push_back(tensor_json(g, id));
  for (int32_t id : g.outputs) j["outputs"].push_back(tensor_json(g, id));
  j["parameters"] = stats.parameters;
  j["constant_bytes"] = dtype_map(stats.constant_bytes);
  j["macs"] = dtype_map(stats.macs);
  j["macs_total"] = stats.total_macs;
  j["ops_without_macs"] = stats.ops_without_macs;
  j["metadata"] = json::array();
  for (const auto& md : m.metadata)
    j["metadata"].push_back({{"name", md.name}, {"bytes", md.data.size()}});
  j["signatures"] = json::array();
  for (const auto& s : m.signatures) {
    json sig = {{"key", s.key}, {"inputs", json::array()}, {"outputs", json::array()}};
    for (const auto& t : s.inputs) sig["inputs"].push_back({{"name", t.name}, {"tensor", t.tensor}});
    for (const auto& t : s.outputs) sig["outputs"].push_back({{"name", t.name}, {"tensor", t.tensor}});
    j["signatures"].push_back(sig);
  }
  j["trailing_bytes"] = m.trailing.size();
  j["associated_files"] = json::array();
  if (!m.trailing.empty()) {
    auto names = tflite::associated_file_names(m);
    if (names.ok()) j["associated_files"] = *names;
  }
  j["tensors"] = json::array();
  for (int32_t id = 0; id < static_cast<int32_t>(g.tensors.size()); ++id)
    j["tensors"].push_back(tensor_json(g, id));
  if (!j.contains("inputs")) j["inputs"] = json::array();
  if (!j.contains("outputs")) j["outputs"] = json::array();
  return j;
}

std::string human(double n) {
  const char* units[] = {"", "K", "M", "G", "T"};
  int u = 0;
  while (std::abs(n) >= 1000 && u < 4) { n /= 1000; ++u; }
  return u == 0 ? fmt::format("{:.0f}", n) : fmt::format("{:.2f}{}", n, units[u]);
}

std::string quant_text(const json& q) {
  if (q.is_null()) return "";
  if (q.contains("axis"))
    return fmt::format("per-axis {} x{} scale {:.3g}..{:.3g} zp {}..{}", q["axis"].get<int>(),
                       q["channels"].get<size_t>(), q["scale_min"].get<double>(),
                       q["scale_max"].get<double>(), q["zero_point_min"].get<int64_t>(),
                       q["zero_point_max"].get<int64_t>());
  return fmt::format("scale {:.7g} zp {}", q["scale"].get<double>(), q["zero_point"].get<int64_t>());
}

// A shape_signature that differs from the shape (-1: a dim the model leaves open, which
// `--input-shape` / resize_input may change) follows the shape: "[1,416,416,3] (sig [-1,416,416,3])".
std::string tensor_line(const json& t) {
  std::string shape = fmt::format("[{}]", fmt::join(t["shape"].get<std::vector<int>>(), ","));
  if (t.contains("shape_signature"))
    shape += fmt::format(" (sig [{}])", fmt::join(t["shape_signature"].get<std::vector<int>>(), ","));
  return fmt::format("{:>5} {:<14} {:<9} {}{}{}", t["id"].get<int>(), shape,
                     t["dtype"].get<std::string>(), t["constant"].get<bool>() ? "const " : "",
                     t["quant"].is_null() ? "" : quant_text(t["quant"]) + " ",
                     fmt::format("'{}'", t["name"].get<std::string>()));
}

void print_text(const json& j) {
  fmt::print("{}: {} bytes, TFLite schema version {}\n", j["file"].get<std::string>(),
             j["file_bytes"].get<int64_t>(), j["version"].get<uint32_t>());
  if (!j["description"].get<std::string>().empty())
    fmt::print("description: {}\n", j["description"].get<std::string>());
  fmt::print("graph '{}': {} ops, {} tensors\n", j["graph"].get<std::string>(),
             j["num_ops"].get<size_t>(), j["num_tensors"].get<size_t>());
  fmt::print("\nops:\n");
  for (const auto& [name, n] : j["op_counts"].items())
    fmt::print("  {:<30} {}\n", name, n.get<int>());
  fmt::print("\ninputs:\n");
  for (const auto& t : j["inputs"]) fmt::print("  {}\n", tensor_line(t));
  fmt::print("outputs:\n");
  for (const auto& t : j["outputs"]) fmt::print("  {}\n", tensor_line(t));
  fmt::print("\nparameters: {} ({})\n", human(j["parameters"].get<double>()),
             j["parameters"].get<int64_t>());
  fmt::print("constant bytes by dtype:");
  for (const auto& [dtype, n] : j["constant_bytes"].items())
    fmt::print(" {} {}B", dtype, human(n.get<double>()));
  fmt::print("\nMACs: {}", human(j["macs_total"].get<double>()));
  for (const auto& [dtype, n] : j["macs"].items()) fmt::print(", {} {}", dtype, human(n.get<double>()));
  if (j["ops_without_macs"].get<int>() > 0)
    fmt::print(" ({} ops not counted: shapes missing)", j["ops_without_macs"].get<int>());
  fmt::print("\n");
  fmt::print("metadata:");
  if (j["metadata"].empty()) fmt::print(" none");
  for (const auto& md : j["metadata"])
    fmt::print(" {} ({} bytes)", md["name"].get<std::string>(), md["bytes"].get<size_t>());
  fmt::print("\nsignatures:");
  if (j["signatures"].empty()) fmt::print(" none");
  for (const auto& s : j["signatures"])
    fmt::print(" {} ({} inputs, {} outputs)", s["key"].get<std::string>(), s["inputs"].size(),
               s["outputs"].size());
  fmt::print("\ntrailing bytes: {}", j["trailing_bytes"].get<size_t>());
  if (!j["associated_files"].empty())
    fmt::print(" (associated files: {})",
               fmt::join(j["associated_files"].get<std::vector<std::string>>(), ", "));
  fmt::print("\n\ntensors:\n");
  for (const auto& t : j["tensors"]) fmt::print("  {}\n", tensor_line(t));
}

}  // namespace

void add_inspect_command(CLI::App& app) {
  struct Options {
    std::string model;
    bool json = false;
  };
  auto opts = std::make_shared<Options>();
  auto* sub = app.add_subcommand(
      "inspect", "Show a .tflite model's ops, inputs/outputs, tensors (dtype, quantization), "
                 "parameters, MACs, bytes by dtype and metadata");
  sub->add_option("MODEL", opts->model, "the .tflite file")->required();
  sub->add_flag("--json", opts->json, "print one JSON object instead of text");
  sub->callback([opts] {
    auto record = inspect(opts->model);
    exit_on_error(record.status());
    if (opts->json)
      fmt::print("{}\n", json_text(*record, 1));
    else
      print_text(*record);
  });
}

}  // namespace qdet::cli
