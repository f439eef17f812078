// Internal to src/coco: reading COCO JSON files fast with simdjson's On Demand API (one pass,
// only the fields qdet uses are parsed; segmentation polygons, info and licenses are skipped
// by their structure, not validated), and describing what went wrong in terms a user can act
// on: line, column and byte of a syntax error; the field and the type of a value that is not
// what COCO files hold.
#pragma once

#include <fmt/format.h>
#include <simdjson.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "base/status.h"

namespace qdet::coco::json {

namespace od = simdjson::ondemand;

// The bytes of a file, padded as simdjson needs.
Result<simdjson::padded_string> read_padded_file(const std::filesystem::path& path);

// A simdjson error met while reading `text` as a Status. When the text is not JSON, the first
// syntax error is located (a second, slower pass) and reported as
//   "<source>: invalid JSON at line L, column C (byte B): <reason>";
// otherwise "<source>: invalid JSON: <simdjson's message>".
Status json_error(std::string_view source, const simdjson::padded_string& text,
                  simdjson::error_code code);

// "a string", "an array", "an integer", ... of the value about to be read (not consumed).
const char* describe(od::value& value);
const char* describe(od::document& doc);

// True when nothing but whitespace follows the value just read (no trailing content).
bool at_end(od::document& doc);

// Value readers. SUCCESS; or INCORRECT_TYPE with *why saying what was found instead; or
// another simdjson error when the text is malformed there (pass it to json_error).
// An integer id: a JSON integer that fits int64 (not 1.0, not a string).
simdjson::error_code read_int(od::value value, int64_t* out, std::string* why);
// A finite number: integer or floating point, not a bool.
simdjson::error_code read_number(od::value value, double* out, std::string* why);
// A flag: true/false or an integer (non-zero is true), as Python's truthiness of 0/1.
simdjson::error_code read_flag(od::value value, bool* out, std::string* why);
// A string, copied.
simdjson::error_code read_string(od::value value, std::string* out, std::string* why);
// [x, y, w, h]: four finite numbers.
simdjson::error_code read_box(od::value value, double out[4], std::string* why);

// Reads the elements of one array (the instances file's "annotations", a results file's list) and
// names the one at fault: "annotations[3]" when `array` is set, else "<noun> 3" ("detection 3").
struct ElementReader {
  std::string_view source;
  const simdjson::padded_string& text;
  const char* array = nullptr;
  const char* noun = nullptr;
  size_t index = 0;
  std::string why;

  std::string element() const {
    return array ? fmt::format("{}[{}]", array, index) : fmt::format("{} {}", noun, index);
  }
  Status missing(std::string_view field) const {
    return invalid_argument("{}: {}: missing '{}'", source, element(), field);
  }
  // SUCCESS -> ok; a type mismatch names the field; anything else is malformed JSON.
  Status check(simdjson::error_code e, std::string_view field, std::string_view expected) const {
    if (!e) return ok_status();
    if (e == simdjson::INCORRECT_TYPE)
      return invalid_argument("{}: {}: '{}' must be {}, not {}", source, element(), field, expected, why);
    return json_error(source, text, e);
  }
  Status integer(od::value v, std::string_view field, int64_t* out) {
    return check(read_int(v, out, &why), field, "an integer");
  }
  Status string(od::value v, std::string_view field, std::string* out) {
    return check(read_string(v, out, &why), field, "a string");
  }
  // Opens the element as an object.
  Status object(od::value element, od::object* out) {
    od::json_type type;
    if (auto e = element.type().get(type)) return json_error(source, text, e);
    if (type != od::json_type::object)
      return invalid_argument("{}: {} must be an object, not {}", source, this->element(), describe(element));
    if (auto e = element.get_object().get(*out)) return json_error(source, text, e);
    return ok_status();
  }
};

// Iterates the fields of an object: fn(key, value) -> Status.
template <typename Fn>
Status for_each_field(const ElementReader& r, od::object obj, Fn fn) {
  for (auto result : obj) {
    od::field field;
    if (auto e = std::move(result).get(field)) return json_error(r.source, r.text, e);
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return json_error(r.source, r.text, e);
    QDET_TRY(fn(key, field.value()));
  }
  return ok_status();
}

}  // namespace qdet::coco::json
