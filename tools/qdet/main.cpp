#include <cstdio>

#include "base/log.h"
#include "base/paths.h"
#include "command.h"

namespace qdet::cli {

void exit_on_error(const Status& status) {
  if (status.ok()) return;
  std::fprintf(stderr, "qdet: error: %s\n", status.message().c_str());
  throw CLI::RuntimeError(1);
}

namespace {

constexpr Command kCommands[] = {
    {"version", add_version_command},
    {"inspect", add_inspect_command},
    {"quantize", add_quantize_command},
    {"run", add_run_command},
    {"coco-eval", add_coco_eval_command},
    {"eval", add_eval_command},
    {"detect", add_detect_command},
    {"convert", add_convert_command},
    {"fetch", add_fetch_command},
    {"bench", add_bench_command},
    {"study", add_study_command},
};

}  // namespace

void add_version_command(CLI::App& app) {
  auto* sub = app.add_subcommand("version", "Print qdet's version");
  sub->callback([] { std::printf("qdet %s\n", version_string()); });
}

}  // namespace qdet::cli

int main(int argc, char** argv) {
  CLI::App app{"qdet: convert, quantize, run and compare object detectors in TensorFlow Lite"};
  app.require_subcommand(0, 1);
  bool show_version = false;
  bool verbose = false;
  app.add_flag("--version", show_version, "Print the version and exit");
  app.add_flag("-v,--verbose", verbose, "Log what qdet is doing to stderr");
  app.parse_complete_callback([&] {
    if (verbose) qdet::set_log_level(qdet::LogLevel::kInfo);
  });
  for (const auto& command : qdet::cli::kCommands) command.add(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (show_version) {
    std::printf("qdet %s\n", qdet::version_string());
    return 0;
  }
  if (app.get_subcommands().empty()) {
    std::printf("%s", app.help().c_str());
    return 0;
  }
  return 0;
}
