// Internal to src/coco: reading JSON files fast (simdjson) and describing what went wrong in
// terms a user can act on (line, column and byte of a syntax error; the field and the type of a
// value that is not what COCO files hold).
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "base/status.h"

namespace qdet::coco::json {

// The bytes of a file, padded as simdjson needs.
Result<simdjson::padded_string> read_padded_file(const std::filesystem::path& path);

// Parses a whole document. A syntax error becomes
//   "<source>: invalid JSON at line L, column C (byte B): <reason>".
Result<simdjson::dom::element> parse_document(simdjson::dom::parser& parser,
                                              const simdjson::padded_string& text,
                                              std::string_view source);

// "a string", "an array", "a number", ... for messages.
const char* type_name(simdjson::dom::element value);

// Value readers: true on success; on failure `*why` says what was found instead.
// An integer id: a JSON integer (not 1.0, not a string).
bool read_int(simdjson::dom::element value, int64_t* out, std::string* why);
// A finite number (integer or floating point, not a bool).
bool read_number(simdjson::dom::element value, double* out, std::string* why);
// A flag: true/false or an integer (non-zero is true), as Python's truthiness of 0/1.
bool read_flag(simdjson::dom::element value, bool* out, std::string* why);
// [x, y, w, h]: four finite numbers.
bool read_box(simdjson::dom::element value, double out[4], std::string* why);

}  // namespace qdet::coco::json
