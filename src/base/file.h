// Whole-file reads and atomic writes. Outputs are written to a temporary file in the same folder,
// flushed, then renamed over the target, so a reader never sees a half-written file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace qdet {

Result<std::vector<uint8_t>> read_file(const std::filesystem::path& path);
// The one whole-file read: opens `path` (a regular file), asks `allocate(size)` for a buffer of
// the file's size and reads the file into it. For callers that need their own buffer type
// (simdjson's padded string); `read_file` is this into a vector.
Status read_file_into(const std::filesystem::path& path, const std::function<char*(size_t)>& allocate);
Result<std::string> read_text_file(const std::filesystem::path& path);

Status write_file_atomic(const std::filesystem::path& path, std::span<const uint8_t> bytes);
Status write_file_atomic(const std::filesystem::path& path, std::string_view text);

// Creates `dir` and its parents; an existing folder is fine. Fails with a clear message when a
// file is in the way or the folder cannot be written.
Status ensure_directory(const std::filesystem::path& dir);

// Before long work whose result goes to `path`: creates its folder (and parents) and checks that
// a file can be created there and that `path` is not a folder, so that a read-only or missing
// output folder is an error in the first second rather than after the work.
Status prepare_output_file(const std::filesystem::path& path);

}  // namespace qdet
