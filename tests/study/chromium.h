// Headless Chromium for the report tests: renders a page, returns the DOM after scripts ran and
// the console log.
#pragma once

#include <filesystem>
#include <string>

#include "test_support.h"

namespace qdet::study::testing {

// Empty when chromium is not on PATH.
inline std::string chromium_binary() {
  for (const char* name : {"chromium", "chromium-browser"}) {
    std::string out;
    if (qdet::testing::run_command(std::string("command -v ") + name, &out) == 0 && !out.empty())
      return out.substr(0, out.find('\n'));
  }
  return {};
}

struct Rendered {
  int status = -1;
  std::string dom;  // stdout of --dump-dom
  std::string log;  // stderr (console messages with --enable-logging=stderr)
};

inline Rendered render(const std::string& chromium, const std::filesystem::path& page,
                       const std::filesystem::path& work, const std::filesystem::path& screenshot = {}) {
  std::filesystem::create_directories(work / "profile");
  const std::string flags =
      "--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update "
      "--disable-sync --no-first-run --disable-dev-shm-usage --user-data-dir='" + (work / "profile").string() +
      "' --enable-logging=stderr --v=0 --window-size=1280,2400";
  Rendered r;
  const std::string url = "file://" + std::filesystem::absolute(page).string();
  r.status = qdet::testing::run_command("timeout 60 '" + chromium + "' " + flags + " --dump-dom '" + url + "' 2>'" +
                                            (work / "log.txt").string() + "'",
                                        &r.dom);
  std::string ignored;
  qdet::testing::run_command("cat '" + (work / "log.txt").string() + "'", &r.log);
  if (!screenshot.empty()) {
    qdet::testing::run_command("timeout 60 '" + chromium + "' " + flags + " --screenshot='" + screenshot.string() +
                                   "' '" + url + "' >/dev/null 2>&1",
                               &ignored);
  }
  return r;
}

// Console output in the log: Chromium logs every console message (console.error included) and
// uncaught exceptions as "INFO:CONSOLE:<line>] "<message>"". The report logs nothing, so any
// console line is an error.
inline bool has_console_errors(const std::string& log) {
  return log.find("Uncaught") != std::string::npos || log.find(":CONSOLE") != std::string::npos;
}

}  // namespace qdet::study::testing

// Skips (or fails under QDET_REQUIRE_DATA=1) when chromium is not installed.
#define QDET_REQUIRE_CHROMIUM(var)                                                            \
  const std::string var = ::qdet::study::testing::chromium_binary();                          \
  do {                                                                                        \
    if (var.empty()) {                                                                        \
      if (::qdet::testing::data_required()) FAIL() << "chromium not installed (scripts/setup.sh)"; \
      GTEST_SKIP() << "chromium not on PATH (scripts/setup.sh installs it)";                  \
    }                                                                                         \
  } while (0)
