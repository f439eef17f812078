#include "bench/memory.h"

#include <sys/resource.h>

#include <cstdio>
#include <cstring>

namespace qdet::bench {
namespace {

int64_t status_field_kb(const char* field) {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  int64_t kb = -1;
  size_t n = std::strlen(field);
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, field, n) == 0 && line[n] == ':') {
      long long v = 0;
      if (std::sscanf(line + n + 1, "%lld", &v) == 1) kb = v;
      break;
    }
  }
  std::fclose(f);
  return kb;
}

}  // namespace

int64_t peak_rss_bytes() {
  int64_t kb = status_field_kb("VmHWM");
  if (kb >= 0) return kb * 1024;
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<int64_t>(ru.ru_maxrss) * 1024;
}

bool reset_peak_rss() {
  FILE* f = std::fopen("/proc/self/clear_refs", "w");
  if (!f) return false;
  bool ok = std::fputs("5", f) >= 0;
  ok = std::fclose(f) == 0 && ok;
  return ok;
}

int64_t current_rss_bytes() {
  int64_t kb = status_field_kb("VmRSS");
  return kb >= 0 ? kb * 1024 : 0;
}

}  // namespace qdet::bench
