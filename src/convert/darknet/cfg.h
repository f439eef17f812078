// Darknet .cfg files: "[section]" headers followed by key=value lines; '#' and ';' start
// comments; whitespace inside a line is ignored (as darknet's own parser strips it).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace qdet::convert::darknet {

struct Section {
  std::string type;  // "net", "convolutional", ...
  int line = 0;      // 1-based line of the header
  std::vector<std::pair<std::string, std::string>> options;

  std::optional<std::string> find(std::string_view key) const;
};

// Parses the text of a .cfg; errors name `source` and the line.
Result<std::vector<Section>> parse_cfg(std::string_view text, std::string_view source);

// Typed option readers; errors name `source`, the section's line and the key.
class Options {
 public:
  Options(const Section& s, std::string_view source) : s_(s), source_(source) {}
  Result<int> get_int(std::string_view key, std::optional<int> fallback) const;
  Result<float> get_float(std::string_view key, std::optional<float> fallback) const;
  std::string get_string(std::string_view key, std::string_view fallback) const;
  Result<std::vector<int>> get_ints(std::string_view key) const;      // "1,2, 3" ; empty if absent
  Result<std::vector<float>> get_floats(std::string_view key) const;  // empty if absent
  bool has(std::string_view key) const { return s_.find(key).has_value(); }

  // "<source>:<line>: [type]: <message>"
  template <typename... Args>
  Status error(fmt::format_string<Args...> f, Args&&... args) const {
    return invalid_argument("{}:{}: [{}]: {}", source_, s_.line, s_.type, fmt::format(f, std::forward<Args>(args)...));
  }

 private:
  // One reader for every number: `parse` reads one value, `expected` names what it wants.
  template <typename T>
  Result<T> get_number(std::string_view key, std::optional<T> fallback, bool (*parse)(const std::string&, T*),
                       const char* expected) const;
  template <typename T>
  Result<std::vector<T>> get_list(std::string_view key, bool (*parse)(const std::string&, T*),
                                  const char* expected) const;

  const Section& s_;
  std::string_view source_;
};

}  // namespace qdet::convert::darknet
