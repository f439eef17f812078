#include "convert/darknet/cfg.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace qdet::convert::darknet {
namespace {

std::string strip_spaces(std::string_view line) {
  std::string out;
  for (char c : line)
    if (!std::isspace(static_cast<unsigned char>(c))) out.push_back(c);
  return out;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  // Trailing commas ("1,2,") are tolerated, as darknet does.
  while (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

bool parse_int(const std::string& s, int* v) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size();
}

bool parse_float(const std::string& s, float* v) {
  if (s.empty()) return false;
  char* end = nullptr;
  *v = std::strtof(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(*v);
}

// darknet reads ints with atoi: "1.0" is 1. Accept integral floats, reject the rest.
bool parse_darknet_int(const std::string& s, int* v) {
  if (parse_int(s, v)) return true;
  float f;
  if (!parse_float(s, &f) || f != std::floor(f) || !(std::fabs(f) < 1e9f)) return false;
  *v = static_cast<int>(f);
  return true;
}

}  // namespace

std::optional<std::string> Section::find(std::string_view key) const {
  // The last assignment wins.
  for (auto it = options.rbegin(); it != options.rend(); ++it)
    if (it->first == key) return it->second;
  return std::nullopt;
}

Result<std::vector<Section>> parse_cfg(std::string_view text, std::string_view source) {
  std::vector<Section> sections;
  int line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view raw = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (raw.find('\0') != std::string_view::npos)
      return parse_error("{}:{}: not a darknet .cfg (binary data)", source, line_no);
    std::string line = strip_spaces(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line[0] == '[') {
      if (line.back() != ']' || line.size() < 3)
        return parse_error("{}:{}: malformed section header '{}'", source, line_no, line);
      Section s;
      s.type = line.substr(1, line.size() - 2);
      s.line = line_no;
      sections.push_back(std::move(s));
      continue;
    }
    const size_t eq = line.find('=');
    if (eq == std::string::npos || eq == 0)
      return parse_error("{}:{}: expected key=value, got '{}'", source, line_no, line);
    if (sections.empty())
      return parse_error("{}:{}: option '{}' before the first [section]", source, line_no, line.substr(0, eq));
    sections.back().options.emplace_back(line.substr(0, eq), line.substr(eq + 1));
  }
  if (sections.empty()) return parse_error("{}: no sections (not a darknet .cfg)", source);
  if (sections[0].type != "net" && sections[0].type != "network")
    return parse_error("{}:{}: the first section must be [net], got [{}]", source, sections[0].line, sections[0].type);
  return sections;
}

template <typename T>
Result<T> Options::get_number(std::string_view key, std::optional<T> fallback, bool (*parse)(const std::string&, T*),
                              const char* expected) const {
  auto v = s_.find(key);
  if (!v) {
    if (fallback) return *fallback;
    return error("missing '{}'", key);
  }
  T x;
  if (!parse(*v, &x)) return error("'{}' is not {}: '{}'", key, expected, *v);
  return x;
}

template <typename T>
Result<std::vector<T>> Options::get_list(std::string_view key, bool (*parse)(const std::string&, T*),
                                         const char* expected) const {
  std::vector<T> out;
  auto v = s_.find(key);
  if (!v) return out;
  for (const auto& item : split_list(*v)) {
    T x;
    if (!parse(item, &x)) return error("'{}' has a {} item '{}'", key, expected, item);
    out.push_back(x);
  }
  return out;
}

Result<int> Options::get_int(std::string_view key, std::optional<int> fallback) const {
  return get_number<int>(key, fallback, parse_darknet_int, "an integer");
}

Result<float> Options::get_float(std::string_view key, std::optional<float> fallback) const {
  return get_number<float>(key, fallback, parse_float, "a number");
}

std::string Options::get_string(std::string_view key, std::string_view fallback) const {
  auto v = s_.find(key);
  return v ? *v : std::string(fallback);
}

Result<std::vector<int>> Options::get_ints(std::string_view key) const {
  return get_list<int>(key, parse_int, "non-integer");
}

Result<std::vector<float>> Options::get_floats(std::string_view key) const {
  return get_list<float>(key, parse_float, "non-numeric");
}

}  // namespace qdet::convert::darknet
