// Where qdet finds ../shared (models, COCO images, fixtures) and its own version.
//   $QDET_SHARED  the shared folder (default: the source tree's ../shared, fixed at build time)
//   $QDET_DATA    the data folder (default: $QDET_SHARED/data)
#pragma once

#include <filesystem>
#include <string>

namespace qdet {

std::filesystem::path shared_dir();
std::filesystem::path data_dir();
std::filesystem::path fixtures_dir();
const char* version_string();
// Which machine this is, for "which node measured what": $QDET_HOST when set (a container's
// host name is its pod's; Kubernetes can pass the node's name), else gethostname(), "unknown"
// when that fails.
std::string host_name();

}  // namespace qdet
