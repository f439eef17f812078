#include "tflite/metadata.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>

namespace qdet::tflite {
namespace {

constexpr uint32_t kEndOfCentralDirectory = 0x06054b50;
constexpr uint32_t kCentralHeader = 0x02014b50;
constexpr uint32_t kLocalHeader = 0x04034b50;
constexpr size_t kEocdSize = 22;
constexpr size_t kCentralSize = 46;
constexpr size_t kLocalSize = 30;
constexpr uint32_t kMaxEntrySize = 64u << 20;

uint16_t u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t u32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Result<std::vector<ZipEntry>> list_zip(std::span<const uint8_t> bytes) {
  if (bytes.size() < kEocdSize) return parse_error("zip: no end-of-central-directory record");
  // The record sits at the end, followed by a comment of at most 65535 bytes.
  size_t eocd = std::string::npos;
  const size_t lowest = bytes.size() > kEocdSize + 0xffff ? bytes.size() - kEocdSize - 0xffff : 0;
  for (size_t pos = bytes.size() - kEocdSize + 1; pos-- > lowest;) {
    if (u32(&bytes[pos]) == kEndOfCentralDirectory &&
        pos + kEocdSize + u16(&bytes[pos + 20]) == bytes.size()) {
      eocd = pos;
      break;
    }
  }
  if (eocd == std::string::npos) return parse_error("zip: no end-of-central-directory record");
  const uint8_t* e = &bytes[eocd];
  if (u16(e + 4) != 0 || u16(e + 6) != 0 || u16(e + 8) != u16(e + 10))
    return unsupported("zip: multi-disk archives are not supported");
  const uint16_t count = u16(e + 10);
  const uint32_t cd_size = u32(e + 12), cd_offset = u32(e + 16);
  if (cd_offset == 0xffffffffu || cd_size == 0xffffffffu || count == 0xffff)
    return unsupported("zip: zip64 archives are not supported");
  if (cd_size > eocd) return parse_error("zip: central directory larger than the archive");
  // Where the directory really is, versus where the archive says: the difference corrects
  // every offset (archives appended to another file).
  const size_t cd_pos = eocd - cd_size;
  const int64_t delta = static_cast<int64_t>(cd_pos) - static_cast<int64_t>(cd_offset);

  std::vector<ZipEntry> entries;
  size_t p = cd_pos;
  for (uint16_t i = 0; i < count; ++i) {
    if (p + kCentralSize > eocd || u32(&bytes[p]) != kCentralHeader)
      return parse_error("zip: central directory entry {} is corrupt", i);
    const uint8_t* c = &bytes[p];
    ZipEntry entry;
    entry.method = u16(c + 10);
    entry.crc32 = u32(c + 16);
    entry.compressed_size = u32(c + 20);
    entry.size = u32(c + 24);
    const size_t name_len = u16(c + 28), extra_len = u16(c + 30), comment_len = u16(c + 32);
    const int64_t local = static_cast<int64_t>(u32(c + 42)) + delta;
    if (p + kCentralSize + name_len + extra_len + comment_len > eocd)
      return parse_error("zip: central directory entry {} is corrupt", i);
    entry.name.assign(reinterpret_cast<const char*>(c + kCentralSize), name_len);
    if (local < 0 || static_cast<uint64_t>(local) + kLocalSize > cd_pos)
      return parse_error("zip: entry '{}' points outside the archive", entry.name);
    entry.local_header = static_cast<uint64_t>(local);
    entries.push_back(std::move(entry));
    p += kCentralSize + name_len + extra_len + comment_len;
  }
  return entries;
}

Result<std::vector<uint8_t>> read_zip_entry(std::span<const uint8_t> bytes, const ZipEntry& entry) {
  if (entry.local_header + kLocalSize > bytes.size() ||
      u32(&bytes[entry.local_header]) != kLocalHeader)
    return parse_error("zip: entry '{}' has no local header", entry.name);
  const uint8_t* l = &bytes[entry.local_header];
  const uint64_t data = entry.local_header + kLocalSize + u16(l + 26) + u16(l + 28);
  if (data > bytes.size() || entry.compressed_size > bytes.size() - data)
    return parse_error("zip: entry '{}' is truncated", entry.name);
  if (entry.size > kMaxEntrySize)
    return unsupported("zip: entry '{}' is {} bytes (limit {})", entry.name, entry.size,
                       kMaxEntrySize);
  const uint8_t* src = &bytes[data];
  std::vector<uint8_t> out(entry.size);
  if (entry.method == 0) {
    if (entry.compressed_size != entry.size)
      return parse_error("zip: stored entry '{}' has sizes {} and {}", entry.name,
                         entry.compressed_size, entry.size);
    std::copy(src, src + entry.size, out.begin());
  } else if (entry.method == 8) {
    z_stream z{};
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return internal_error("zlib: inflateInit2 failed");
    z.next_in = const_cast<Bytef*>(src);
    z.avail_in = entry.compressed_size;
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    const int rc = inflate(&z, Z_FINISH);
    const uLong produced = z.total_out;
    inflateEnd(&z);
    if (rc != Z_STREAM_END || produced != entry.size)
      return parse_error("zip: entry '{}' does not inflate to {} bytes", entry.name, entry.size);
  } else {
    return unsupported("zip: entry '{}' uses compression method {} (only stored and deflate)",
                       entry.name, entry.method);
  }
  const uLong crc = crc32(crc32(0L, Z_NULL, 0), out.data(), static_cast<uInt>(out.size()));
  if (crc != entry.crc32)
    return parse_error("zip: entry '{}' fails its CRC-32 check", entry.name);
  return out;
}

Result<std::vector<std::string>> associated_file_names(const graph::Model& model) {
  std::vector<std::string> names;
  if (model.trailing.empty()) return names;
  QDET_ASSIGN_OR_RETURN(auto entries, list_zip(model.trailing));
  for (const auto& e : entries) names.push_back(e.name);
  return names;
}

Result<std::vector<std::string>> read_label_map(const graph::Model& model) {
  if (model.trailing.empty())
    return not_found("the model carries no associated files (no zip after the flatbuffer)");
  QDET_ASSIGN_OR_RETURN(auto entries, list_zip(model.trailing));
  const ZipEntry* chosen = nullptr;
  for (const auto& e : entries)
    if (lower(e.name).find("label") != std::string::npos) { chosen = &e; break; }
  if (!chosen) {
    int txt = 0;
    for (const auto& e : entries)
      if (ends_with(lower(e.name), ".txt")) { chosen = &e; ++txt; }
    if (txt != 1) chosen = nullptr;
  }
  if (!chosen) {
    std::string names;
    for (const auto& e : entries) names += (names.empty() ? "" : ", ") + e.name;
    return not_found("no label file among the model's associated files ({})",
                     names.empty() ? "none" : names);
  }
  QDET_ASSIGN_OR_RETURN(auto bytes, read_zip_entry(model.trailing, *chosen));
  std::vector<std::string> lines;
  std::string line;
  for (uint8_t b : bytes) {
    if (b == '\n') {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      lines.push_back(std::move(line));
      line.clear();
    } else {
      line += static_cast<char>(b);
    }
  }
  if (!line.empty()) lines.push_back(std::move(line));
  return lines;
}

}  // namespace qdet::tflite
