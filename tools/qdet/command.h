// Subcommands are one table (ninja's kTools[] habit): each file adds one subcommand to the app.
#pragma once

#include <CLI/CLI.hpp>

#include "base/status.h"
#include "runtime/input_shape.h"

namespace qdet::cli {

struct Command {
  const char* name;
  void (*add)(CLI::App& app);  // creates the subcommand, its options and its callback
};

// Ends the command: prints "qdet: error: <message>" and exits non-zero when not ok.
void exit_on_error(const Status& status);

// A CLI11 check for a number in [0, 1] (NaN is not: CLI::Range lets NaN through).
const CLI::Validator& unit_interval();
// --input-shape and --input-size (and --batch when `with_batch`) into `request`, which must
// outlive the app (a field of the subcommand's shared options). Returns the options added.
std::vector<CLI::Option*> add_input_shape_options(CLI::App* sub, rt::InputShapeRequest& request, bool with_batch);

// Every subcommand's add function; listed in main.cpp's table.
void add_version_command(CLI::App& app);
void add_inspect_command(CLI::App& app);
void add_quantize_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_coco_eval_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_detect_command(CLI::App& app);
void add_convert_command(CLI::App& app);
void add_fetch_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_study_command(CLI::App& app);
void add_ops_command(CLI::App& app);

}  // namespace qdet::cli
