// qdet ops [--json]: the op x dtype coverage table, read from the kernels themselves. Each cell
// prepares the op cases of runtime/op_cases.h (the rows the conformance suite runs against the
// official TFLite) with each kernel family alone: the families whose kernels accept a row serve
// that cell. The version is the TFLite op version qdet writes for that dtype.
#include <algorithm>
#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/json_text.h"
#include "command.h"
#include "graph/op.h"
#include "quant/spec.h"
#include "runtime/op_cases.h"

namespace qdet::cli {
namespace {

struct Cell {
  std::set<rt::KernelImpl> families;
  int32_t version = 0;
  int rows = 0;
};

constexpr DType kDTypes[] = {DType::kFloat32, DType::kInt8, DType::kUInt8, DType::kInt16};

std::map<graph::OpKind, std::map<DType, Cell>> coverage() {
  std::map<graph::OpKind, std::map<DType, Cell>> table;
  uint32_t seed = 1;
  for (const rt::OpCase& c : rt::op_cases()) {
    const rt::CaseGraph g = rt::build_case(c, seed++);
    Cell& cell = table[c.op][c.dtype];
    ++cell.rows;
    if (!g.graph) continue;
    for (rt::KernelImpl f : rt::accepting_families(g.graph)) cell.families.insert(f);
    cell.version = std::max(cell.version, quant::tflite_op_version(*g.graph, g.graph->ops[0]));
  }
  return table;
}

std::string cell_text(const Cell* cell) {
  if (cell == nullptr || cell->families.empty()) return "-";
  std::string s;
  for (rt::KernelImpl f : cell->families) s += std::string(s.empty() ? "" : "+") + rt::kernel_impl_name(f);
  return fmt::format("{} v{}", s, cell->version);
}

void print_ops(bool json) {
  const auto table = coverage();
  if (json) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& [op, cells] : table) {
      nlohmann::json row = {{"op", graph::op_name(op)}, {"dtypes", nlohmann::json::object()}};
      for (const auto& [dtype, cell] : cells) {
        nlohmann::json families = nlohmann::json::array();
        for (rt::KernelImpl f : cell.families) families.push_back(rt::kernel_impl_name(f));
        row["dtypes"][dtype_name(dtype)] = {
            {"families", families}, {"tflite_version", cell.version}, {"conformance_rows", cell.rows}};
      }
      j.push_back(row);
    }
    fmt::print("{}\n", json_text(j, 1));
    return;
  }
  size_t width = 26;  // the widest cell (e.g. "onednn+xnnpack+reference v3") sets the columns
  for (const auto& [op, cells] : table)
    for (const auto& [dtype, cell] : cells) width = std::max(width, cell_text(&cell).size());
  fmt::print("{:<{}} {:<{}} {:<{}} {:<{}} {:<{}}\n", "op", width, "float32", width, "int8", width, "uint8", width,
             "int16", width);
  for (const auto& [op, cells] : table) {
    std::string line = fmt::format("{:<{}}", graph::op_name(op), width);
    for (DType d : kDTypes) {
      const auto it = cells.find(d);
      line += fmt::format(" {:<{}}", cell_text(it == cells.end() ? nullptr : &it->second), width);
    }
    fmt::print("{}\n", line);
  }
  fmt::print("\nEach cell: the kernel families that run the op in that input dtype (tried in this "
             "order; the first that accepts an op runs it) and the TFLite op version qdet writes. "
             "Every cell is a row of the conformance suite, checked against the official TFLite.\n");
}

}  // namespace

void add_ops_command(CLI::App& app) {
  auto* sub = app.add_subcommand("ops", "Print the op x dtype coverage table (kernel families, TFLite versions)");
  static bool json = false;
  sub->add_flag("--json", json, "JSON output");
  sub->callback([] { print_ops(json); });
}

}  // namespace qdet::cli
