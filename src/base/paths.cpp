#include "base/paths.h"

#include <unistd.h>

#include <climits>
#include <cstdlib>

namespace qdet {

std::filesystem::path shared_dir() {
  if (const char* s = std::getenv("QDET_SHARED"); s && *s) return s;
  return QDET_DEFAULT_SHARED;
}

std::filesystem::path data_dir() {
  if (const char* s = std::getenv("QDET_DATA"); s && *s) return s;
  return shared_dir() / "data";
}

std::filesystem::path fixtures_dir() { return shared_dir() / "fixtures"; }

const char* version_string() { return QDET_VERSION; }

std::string host_name() {
  if (const char* s = std::getenv("QDET_HOST"); s && *s) return s;
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "unknown";
  return name;
}

}  // namespace qdet
