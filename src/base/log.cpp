#include "base/log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace qdet {
namespace {

LogLevel level_from_env() {
  const char* s = std::getenv("QDET_LOG");
  if (!s) return LogLevel::kWarn;
  if (!std::strcmp(s, "error")) return LogLevel::kError;
  if (!std::strcmp(s, "info")) return LogLevel::kInfo;
  if (!std::strcmp(s, "debug")) return LogLevel::kDebug;
  return LogLevel::kWarn;
}

std::atomic<int> g_level{static_cast<int>(level_from_env())};

}  // namespace

LogLevel log_level() { return static_cast<LogLevel>(g_level.load(std::memory_order_relaxed)); }
void set_log_level(LogLevel level) { g_level.store(static_cast<int>(level)); }

void log_line(LogLevel level, std::string_view text) {
  static const char* kPrefix[] = {"error", "warning", "info", "debug"};
  std::fprintf(stderr, "qdet: %s: %.*s\n", kPrefix[static_cast<int>(level)],
               static_cast<int>(text.size()), text.data());
}

}  // namespace qdet
