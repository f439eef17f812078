// An enum's names written once, as a table of {value, name} rows: the name of a value, the value
// of a name, and the list of names for error messages all read the same rows.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace qdet {

template <typename E>
struct Named {
  E value;
  const char* name;
};

// The row's name, "?" for a value without a row.
template <typename E, size_t N>
constexpr const char* name_of(const Named<E> (&table)[N], E value) {
  for (const Named<E>& row : table)
    if (row.value == value) return row.name;
  return "?";
}

template <typename E, size_t N>
std::optional<E> value_named(const Named<E> (&table)[N], std::string_view name) {
  for (const Named<E>& row : table)
    if (name == row.name) return row.value;
  return std::nullopt;
}

// "a, b, c": the names in the table's order.
template <typename E, size_t N>
std::string names_of(const Named<E> (&table)[N]) {
  std::string out;
  for (const Named<E>& row : table) {
    if (!out.empty()) out += ", ";
    out += row.name;
  }
  return out;
}

// The value of `name`, or "unknown <what> '<name>' (<the names>)".
template <typename E, size_t N>
Result<E> parse_named(const Named<E> (&table)[N], std::string_view name, std::string_view what) {
  if (const auto value = value_named(table, name)) return *value;
  return invalid_argument("unknown {} '{}' ({})", what, name, names_of(table));
}

}  // namespace qdet
