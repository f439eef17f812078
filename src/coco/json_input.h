// Internal to src/coco: reading COCO JSON files fast with simdjson's On Demand API (one pass,
// only the fields qdet uses are parsed; segmentation polygons, info and licenses are skipped
// by their structure, not validated), and describing what went wrong in terms a user can act
// on: line, column and byte of a syntax error; the field and the type of a value that is not
// what COCO files hold.
#pragma once

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

}  // namespace qdet::coco::json
