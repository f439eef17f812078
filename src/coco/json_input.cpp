#include "coco/json_input.h"

#include <nlohmann/json.hpp>

#include <cmath>

#include "base/file.h"

namespace qdet::coco::json {
namespace {

using simdjson::error_code;

// Finds where a document stops being JSON: a SAX pass with nlohmann, which reports the byte
// position that simdjson's error codes do not carry. Only runs after simdjson has failed.
class LocateError : public nlohmann::json_sax<nlohmann::json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    failed = true;
    this->position = position;
    // "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error ...":
    // keep the reason; qdet states the position itself.
    std::string what = ex.what();
    if (what.rfind("[json.exception.", 0) == 0 && what.find("] ") != std::string::npos)
      what = what.substr(what.find("] ") + 2);
    if (what.rfind("parse error at line ", 0) == 0 && what.find(": ") != std::string::npos)
      what = what.substr(what.find(": ") + 2);
    reason = what;
    return false;
  }

  bool failed = false;
  size_t position = 0;
  std::string reason;
};

error_code wrong_type(od::value& value, std::string* why) {
  *why = describe(value);
  return simdjson::INCORRECT_TYPE;
}

template <typename V>
const char* describe_value(V& value) {
  od::json_type type;
  if (value.type().get(type)) return "malformed JSON";
  switch (type) {
    case od::json_type::array: return "an array";
    case od::json_type::object: return "an object";
    case od::json_type::string: return "a string";
    case od::json_type::boolean: return "a boolean";
    case od::json_type::null: return "null";
    case od::json_type::number: {
      od::number_type n;
      if (value.get_number_type().get(n)) return "a malformed number";
      switch (n) {
        case od::number_type::floating_point_number: return "a floating-point number";
        case od::number_type::signed_integer: return "an integer";
        default: return "an integer beyond 64 bits";
      }
    }
  }
  return "an unknown value";
}

}  // namespace

Result<simdjson::padded_string> read_padded_file(const std::filesystem::path& path) {
  simdjson::padded_string text;
  QDET_TRY(read_file_into(path, [&](size_t size) {
    text = simdjson::padded_string(size);
    return text.data();
  }));
  return text;
}

Status json_error(std::string_view source, const simdjson::padded_string& text, error_code code) {
  LocateError locate;
  std::string_view bytes(text.data(), text.size());
  nlohmann::json::sax_parse(bytes.begin(), bytes.end(), &locate,
                            nlohmann::json::input_format_t::json, /*strict=*/true);
  if (!locate.failed) {
    // simdjson refuses what nlohmann accepts, e.g. nesting deeper than 1024.
    return parse_error("{}: invalid JSON: {}", source, simdjson::error_message(code));
  }
  // nlohmann's position counts the characters read, the bad one included.
  size_t byte = std::min(locate.position > 0 ? locate.position - 1 : 0, bytes.size());
  size_t line = 1, line_start = 0;
  for (size_t i = 0; i < byte; ++i) {
    if (bytes[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return parse_error("{}: invalid JSON at line {}, column {} (byte {}): {}", source, line,
                     byte - line_start + 1, byte, locate.reason);
}

bool at_end(od::document& doc) {
  const char* location = nullptr;
  return doc.current_location().get(location) == simdjson::OUT_OF_BOUNDS;
}

const char* describe(od::value& value) { return describe_value(value); }
const char* describe(od::document& doc) { return describe_value(doc); }

error_code read_int(od::value value, int64_t* out, std::string* why) {
  od::json_type type;
  if (auto e = value.type().get(type)) return e;
  if (type != od::json_type::number) return wrong_type(value, why);
  od::number_type n;
  if (auto e = value.get_number_type().get(n)) return e;
  if (n != od::number_type::signed_integer) return wrong_type(value, why);
  return value.get_int64().get(*out);
}

error_code read_number(od::value value, double* out, std::string* why) {
  od::json_type type;
  if (auto e = value.type().get(type)) return e;
  if (type != od::json_type::number) return wrong_type(value, why);
  if (auto e = value.get_double().get(*out)) return e;
  if (!std::isfinite(*out)) {
    *why = "a number out of range";
    return simdjson::INCORRECT_TYPE;
  }
  return simdjson::SUCCESS;
}

error_code read_flag(od::value value, bool* out, std::string* why) {
  od::json_type type;
  if (auto e = value.type().get(type)) return e;
  if (type == od::json_type::boolean) return value.get_bool().get(*out);
  int64_t v = 0;
  if (auto e = read_int(value, &v, why)) return e;
  *out = v != 0;
  return simdjson::SUCCESS;
}

error_code read_string(od::value value, std::string* out, std::string* why) {
  od::json_type type;
  if (auto e = value.type().get(type)) return e;
  if (type != od::json_type::string) return wrong_type(value, why);
  std::string_view s;
  if (auto e = value.get_string().get(s)) return e;
  out->assign(s);
  return simdjson::SUCCESS;
}

error_code read_box(od::value value, double out[4], std::string* why) {
  od::json_type type;
  if (auto e = value.type().get(type)) return e;
  if (type != od::json_type::array) return wrong_type(value, why);
  od::array array;
  if (auto e = value.get_array().get(array)) return e;
  size_t n = 0;
  for (auto element : array) {
    od::value v;
    if (auto e = std::move(element).get(v)) return e;
    if (n < 4) {
      std::string inner;
      auto e = read_number(v, &out[n], &inner);
      if (e == simdjson::INCORRECT_TYPE) {
        *why = fmt::format("{} at index {}", inner, n);
        return e;
      }
      if (e) return e;
    }
    ++n;
  }
  if (n != 4) {
    *why = fmt::format("an array of {} values", n);
    return simdjson::INCORRECT_TYPE;
  }
  return simdjson::SUCCESS;
}

}  // namespace qdet::coco::json
