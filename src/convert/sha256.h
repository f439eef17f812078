// SHA-256 (FIPS 180-4) of bytes or a file, as lowercase hex. For checking downloads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "base/status.h"

namespace qdet::convert {

std::string sha256_hex(std::span<const uint8_t> bytes);
Result<std::string> sha256_file(const std::filesystem::path& path);

}  // namespace qdet::convert
