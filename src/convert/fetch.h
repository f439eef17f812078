// qdet fetch: documented public models, downloaded with curl (a subprocess, no shell) and
// checked against a pinned SHA-256 where one is known (the copies in ../shared/data were
// hashed from these exact sources), else against an exact byte size, else reported with
// their hash for the user to pin (--sha256). Files land atomically: a failed or mismatching
// download leaves nothing behind.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace qdet::convert {

struct FetchFile {
  std::string name;               // file name in the output folder
  std::vector<std::string> urls;  // tried in order
  std::string sha256;             // lowercase hex; empty when no checksum is published
  uint64_t bytes = 0;             // exact size when known (0: unknown)
};

struct FetchEntry {
  std::string name;  // "yolox-nano-onnx"
  std::string description;
  std::string source;  // provenance and license, for the listing
  std::vector<FetchFile> files;
};

std::span<const FetchEntry> fetch_catalog();
// The entry called `name`; the error lists every known name.
Result<const FetchEntry*> find_fetch_entry(std::string_view name);

struct FetchOptions {
  std::filesystem::path dir = ".";
  std::string from;    // replaces the URL (single-file entries): a URL or a local path
  std::string sha256;  // expected hash, overriding/adding to the catalog's (single-file entries)
  std::string curl = "curl";
};

struct FetchedFile {
  std::filesystem::path path;
  std::string sha256;
  bool verified = false;        // matched a pinned checksum or exact size
  bool already_present = false; // an identical file was already there
};

Result<std::vector<FetchedFile>> fetch(const FetchEntry& entry, const FetchOptions& options);

}  // namespace qdet::convert
