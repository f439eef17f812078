// qdet convert MODEL(.onnx|.cfg) [--weights W] -o OUT.tflite [--json]: ONNX or darknet to
// TFLite (convert/convert.h). The output (and a darknet model's OUT.qdet.json sidecar) is
// written atomically: on any error no file is left behind.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "command.h"
#include "base/json_text.h"
#include "convert/convert.h"

namespace qdet::cli {
namespace {

struct ConvertArgs {
  std::string model, weights, out;
  std::vector<int64_t> input_shape;
  bool json = false;
};

nlohmann::json tensor_json(const graph::Graph& g, int32_t id) {
  const auto& t = g.tensors[id];
  return {{"name", t.name}, {"shape", t.shape}, {"dtype", dtype_name(t.dtype)}};
}

Status run_convert(const ConvertArgs& args) {
  convert::ConvertOptions options;
  options.model = args.model;
  options.weights = args.weights;
  options.input_shape = args.input_shape;
  QDET_ASSIGN_OR_RETURN(convert::Converted c, convert::convert_to_file(options, args.out));
  const graph::Graph& g = c.model.graph;
  std::map<std::string, int> op_counts;
  for (const auto& op : g.ops) ++op_counts[op.name()];
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(args.out, ec);
  nlohmann::json j;
  j["model"] = args.model;
  j["format"] = convert::source_format_name(c.format);
  j["output"] = args.out;
  j["bytes"] = ec ? 0 : bytes;
  j["num_ops"] = g.ops.size();
  j["op_counts"] = op_counts;
  for (int32_t id : g.inputs) j["inputs"].push_back(tensor_json(g, id));
  for (int32_t id : g.outputs) j["outputs"].push_back(tensor_json(g, id));
  j["description"] = c.model.description;
  if (!c.sidecar_json.empty()) j["sidecar"] = convert::sidecar_path_for(args.out).string();
  if (args.json) {
    fmt::print("{}\n", json_text(j, 2));
    return ok_status();
  }
  fmt::print("{} -> {} ({} bytes, {} ops)\n", args.model, args.out, j["bytes"].get<uint64_t>(), g.ops.size());
  std::vector<std::string> ops;
  for (const auto& [name, n] : op_counts) ops.push_back(fmt::format("{} {}", name, n));
  fmt::print("ops: {}\n", fmt::join(ops, ", "));
  for (int32_t id : g.inputs)
    fmt::print("input  '{}' {}\n", g.tensors[id].name, shape_to_string(g.tensors[id].shape));
  for (int32_t id : g.outputs)
    fmt::print("output '{}' {}\n", g.tensors[id].name, shape_to_string(g.tensors[id].shape));
  fmt::print("{}\n", c.model.description);
  if (!c.sidecar_json.empty()) fmt::print("sidecar: {}\n", convert::sidecar_path_for(args.out).string());
  return ok_status();
}

}  // namespace

void add_convert_command(CLI::App& app) {
  auto args = std::make_shared<ConvertArgs>();
  auto* sub = app.add_subcommand("convert", "Convert an ONNX or darknet (.cfg + .weights) model to TFLite");
  sub->add_option("model", args->model, "Model: .onnx, or a darknet .cfg")->required();
  sub->add_option("--weights", args->weights, "Darknet weights (default: the .cfg's name with .weights)");
  sub->add_option("--input-shape", args->input_shape,
                  "ONNX: convert at this input shape, in the ONNX layout (e.g. 1,3,320,320)")
      ->delimiter(',');
  sub->add_option("-o,--output", args->out, "Output .tflite")->required();
  sub->add_flag("--json", args->json, "Print the summary as JSON");
  sub->callback([args] { exit_on_error(run_convert(*args)); });
}

}  // namespace qdet::cli
