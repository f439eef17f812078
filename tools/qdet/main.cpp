#include <cmath>
#include <cstdio>
#include <exception>
#include <new>

#include "base/log.h"
#include "base/memory.h"
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
    {"ops", add_ops_command},
};

}  // namespace

const CLI::Validator& unit_interval() {
  static const CLI::Validator v(
      [](std::string& text) -> std::string {
        double x = 0;
        try {
          size_t used = 0;
          x = std::stod(text, &used);
          if (used != text.size()) return "'" + text + "' is not a number";
        } catch (const std::exception&) {
          return "'" + text + "' is not a number";
        }
        if (!(x >= 0 && x <= 1)) return "'" + text + "' is not in [0, 1]";
        return {};
      },
      "in [0, 1]");
  return v;
}

void add_version_command(CLI::App& app) {
  auto* sub = app.add_subcommand("version", "Print qdet's version");
  sub->callback([] { std::printf("qdet %s\n", version_string()); });
}

}  // namespace qdet::cli

int main(int argc, char** argv) {
  CLI::App app{"qdet: convert, quantize, run and compare object detectors in TensorFlow Lite"};
  app.require_subcommand(0, 1);
  // Options of the app itself may also follow the subcommand (qdet run --max-memory 2G M).
  app.fallthrough();
  bool show_version = false;
  bool verbose = false;
  std::string max_memory;
  app.add_flag("--version", show_version, "Print the version and exit");
  app.add_flag("-v,--verbose", verbose, "Log what qdet is doing to stderr");
  app.add_option("--max-memory", max_memory,
                 "Memory budget for the interpreter's arena and for sizes read from files "
                 "(e.g. 512M, 4G; default: half the machine's memory)")
      ->check([](const std::string& text) -> std::string {
        return qdet::parse_byte_size(text) ? "" : "'" + text + "' is not a size such as 512M or 4G";
      });
  app.parse_complete_callback([&] {
    if (verbose) qdet::set_log_level(qdet::LogLevel::kInfo);
    if (!max_memory.empty()) qdet::set_memory_budget(*qdet::parse_byte_size(max_memory));
  });
  // Usage errors: one "qdet: error:" line like every other error, exit status 2.
  auto usage_error = [](const CLI::App*, const CLI::Error& e) {
    return std::string(e.what()) + " (see qdet --help)\n";
  };
  app.failure_message(usage_error);
  for (const auto& command : qdet::cli::kCommands) command.add(app);
  // The last line of defence: errors are Status values, but an allocation qdet did not bound
  // (or a library's exception) ends in one error line too, never in an abort.
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0 || e.get_name() == "RuntimeError") return app.exit(e);
    std::fprintf(stderr, "qdet: error: %s", usage_error(&app, e).c_str());
    return 2;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "qdet: error: out of memory (an allocation failed; --max-memory sets the budget)\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "qdet: error: %s\n", e.what());
    return 1;
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
