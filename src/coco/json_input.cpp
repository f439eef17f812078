#include "coco/json_input.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cmath>
#include <cstring>

namespace qdet::coco::json {
namespace {

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

}  // namespace

Result<simdjson::padded_string> read_padded_file(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("{}: cannot open: {}", path.string(), std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return io_error("{}: not a regular file", path.string());
  }
  simdjson::padded_string text(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::read(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return io_error("{}: read failed after {} of {} bytes", path.string(), done, text.size());
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return text;
}

Result<simdjson::dom::element> parse_document(simdjson::dom::parser& parser,
                                              const simdjson::padded_string& text,
                                              std::string_view source) {
  simdjson::dom::element root;
  auto error = parser.parse(text).get(root);
  if (!error) return root;
  LocateError locate;
  std::string_view bytes(text.data(), text.size());
  nlohmann::json::sax_parse(bytes.begin(), bytes.end(), &locate,
                            nlohmann::json::input_format_t::json, /*strict=*/true);
  if (!locate.failed) {
    // simdjson refuses what nlohmann accepts: depth, or a number beyond 64 bits.
    return parse_error("{}: invalid JSON: {}", source, simdjson::error_message(error));
  }
  // nlohmann's position counts the characters read, the bad one included.
  size_t byte = locate.position > 0 ? locate.position - 1 : 0;
  if (byte > bytes.size()) byte = bytes.size();
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

const char* type_name(simdjson::dom::element value) {
  switch (value.type()) {
    case simdjson::dom::element_type::ARRAY: return "an array";
    case simdjson::dom::element_type::OBJECT: return "an object";
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64: return "an integer";
    case simdjson::dom::element_type::DOUBLE: return "a floating-point number";
    case simdjson::dom::element_type::STRING: return "a string";
    case simdjson::dom::element_type::BOOL: return "a boolean";
    case simdjson::dom::element_type::NULL_VALUE: return "null";
  }
  return "an unknown value";
}

bool read_int(simdjson::dom::element value, int64_t* out, std::string* why) {
  if (value.type() == simdjson::dom::element_type::INT64) {
    *out = int64_t(value);
    return true;
  }
  if (value.type() == simdjson::dom::element_type::UINT64) {
    *why = fmt::format("an integer beyond 64 bits ({})", uint64_t(value));
    return false;
  }
  *why = type_name(value);
  return false;
}

bool read_number(simdjson::dom::element value, double* out, std::string* why) {
  switch (value.type()) {
    case simdjson::dom::element_type::DOUBLE: *out = double(value); break;
    case simdjson::dom::element_type::INT64: *out = static_cast<double>(int64_t(value)); break;
    case simdjson::dom::element_type::UINT64: *out = static_cast<double>(uint64_t(value)); break;
    default: *why = type_name(value); return false;
  }
  if (!std::isfinite(*out)) {
    *why = "a number out of range";
    return false;
  }
  return true;
}

bool read_flag(simdjson::dom::element value, bool* out, std::string* why) {
  if (value.type() == simdjson::dom::element_type::BOOL) {
    *out = bool(value);
    return true;
  }
  int64_t v = 0;
  if (!read_int(value, &v, why)) return false;
  *out = v != 0;
  return true;
}

bool read_box(simdjson::dom::element value, double out[4], std::string* why) {
  simdjson::dom::array array;
  if (value.get_array().get(array)) {
    *why = type_name(value);
    return false;
  }
  if (array.size() != 4) {
    *why = fmt::format("an array of {} values", array.size());
    return false;
  }
  int i = 0;
  for (simdjson::dom::element v : array) {
    std::string inner;
    if (!read_number(v, &out[i], &inner)) {
      *why = fmt::format("{} at index {}", inner, i);
      return false;
    }
    ++i;
  }
  return true;
}

}  // namespace qdet::coco::json
