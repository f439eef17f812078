// Where qdet finds ../shared (models, COCO images, fixtures) and its own version.
//   $QDET_SHARED  the shared folder (default: the source tree's ../shared, fixed at build time)
//   $QDET_DATA    the data folder (default: $QDET_SHARED/data)
#pragma once

#include <filesystem>

namespace qdet {

std::filesystem::path shared_dir();
std::filesystem::path data_dir();
std::filesystem::path fixtures_dir();
const char* version_string();

}  // namespace qdet
