#include "base/paths.h"

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

}  // namespace qdet
