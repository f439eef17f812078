// Status and Result<T>: errors as values with context (docs/ARCHITECTURE.md, "Code habits" 6).
// A message names the file, op or field and the reason, e.g.
//   "model.tflite: tensor 17 refers to buffer 93 of 12".
#pragma once

#include <fmt/format.h>

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace qdet {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // a caller or a file gave something that does not make sense
  kNotFound,         // a file, tensor, op or key does not exist
  kIoError,          // the OS refused a read or a write
  kParseError,       // malformed bytes: flatbuffer, JSON, protobuf, image
  kUnsupported,      // valid, but qdet does not do it (yet): op, dtype, option
  kOutOfRange,       // an index or a size beyond its bounds
  kInternal,         // a bug in qdet
};

const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "context: message" — used to add the file name or op as an error travels up.
  Status with_context(std::string_view context) const;
  // One line for users: the message alone ("ok" when ok).
  std::string to_string() const { return ok() ? "ok" : message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status ok_status() { return Status(); }

#define QDET_DEFINE_STATUS_MAKER(fn, code)                                        \
  template <typename... Args>                                                     \
  Status fn(fmt::format_string<Args...> format, Args&&... args) {                 \
    return Status(StatusCode::code, fmt::format(format, std::forward<Args>(args)...)); \
  }
QDET_DEFINE_STATUS_MAKER(invalid_argument, kInvalidArgument)
QDET_DEFINE_STATUS_MAKER(not_found, kNotFound)
QDET_DEFINE_STATUS_MAKER(io_error, kIoError)
QDET_DEFINE_STATUS_MAKER(parse_error, kParseError)
QDET_DEFINE_STATUS_MAKER(unsupported, kUnsupported)
QDET_DEFINE_STATUS_MAKER(out_of_range, kOutOfRange)
QDET_DEFINE_STATUS_MAKER(internal_error, kInternal)
#undef QDET_DEFINE_STATUS_MAKER

// Either a value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "Result built from an ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<Status, T> v_;
};

inline const Status& status_of(const Status& s) { return s; }
template <typename T>
const Status& status_of(const Result<T>& r) { return r.status(); }

}  // namespace qdet

#define QDET_CONCAT_INNER(a, b) a##b
#define QDET_CONCAT(a, b) QDET_CONCAT_INNER(a, b)

// Returns the Status of `expr` (a Status or a Result) from the enclosing function when not ok.
#define QDET_TRY(expr)                                              \
  do {                                                              \
    const auto& qdet_try_result_ = (expr);                          \
    if (!::qdet::status_of(qdet_try_result_).ok())                  \
      return ::qdet::status_of(qdet_try_result_);                   \
  } while (0)

// auto x = value of a Result, or return its Status.
#define QDET_ASSIGN_OR_RETURN(lhs, expr) \
  QDET_ASSIGN_OR_RETURN_IMPL(QDET_CONCAT(qdet_result_, __LINE__), lhs, expr)
#define QDET_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()
