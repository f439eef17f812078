// What every part of the Python module shares: Status -> Python exception, path checks, JSON ->
// Python objects, and progress callbacks that also make Ctrl-C work inside long C++ calls.
#pragma once

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"

namespace qdet::py {

namespace pb = pybind11;

// A non-ok Status on its way to Python. The registered translator turns it into
//   ValueError           invalid argument, parse error (a corrupt file), out of range, not found
//                        (an unknown preset, no calibration range, ...)
//   FileNotFoundError    an I/O error whose cause is a missing file or folder
//   OSError              any other I/O error (permission denied, disk full)
//   NotImplementedError  unsupported (valid, but qdet does not do it: an op, a dtype)
//   RuntimeError         internal
// with the Status's one-line message. Thrown with or without the GIL held.
struct StatusError {
  Status status;
};
// A path argument that does not exist: FileNotFoundError("<path>: <what> not found").
struct MissingPath {
  std::string message;
};

void register_exceptions(pb::module_& m);

// Throws StatusError when not ok; returns the value of a Result.
inline void check(const Status& s) {
  if (!s.ok()) throw StatusError{s};
}
template <typename T>
T take(Result<T>&& r) {
  if (!r.ok()) throw StatusError{r.status()};
  return std::move(r).value();
}

// Checks a path argument before any C++ call sees it (the libraries report a missing file as
// an I/O error like any other): FileNotFoundError naming `what` ("model", "image folder").
void require_file(const std::filesystem::path& path, const char* what);
void require_dir(const std::filesystem::path& path, const char* what);

// nlohmann::json -> dict / list / str / int / float / bool / None.
pb::object to_python(const nlohmann::json& j);

// A long call's progress, seen from C++: report(stage, done, total) takes the GIL, calls the
// Python callback (when there is one), and runs Python's pending signal handlers, so that Ctrl-C
// (KeyboardInterrupt) or an exception the callback raises travels up through the C++ call as a
// C++ exception (the libraries own everything through RAII: nothing leaks, no file is half
// written) and reaches the caller. Called without the GIL, on the thread that started the call.
class Progress {
 public:
  // `callback`: a callable (stage: str, done: int, total: int), None (tqdm when installed,
  // else quiet), or False (quiet). Resolved by qdet._progress.resolve (Python).
  explicit Progress(const pb::object& callback);
  ~Progress();
  void report(const std::string& stage, size_t done, size_t total);
  // Finishes a tqdm bar (called with the GIL held, after the C++ call returned).
  void close();

  // The quantizer takes a plain function pointer: quantize_progress routes it to the Progress
  // made current on this thread by a Scope.
  static void quantize_progress(const char* stage, size_t done, size_t total);
  class Scope {
   public:
    explicit Scope(Progress& p);
    ~Scope();

   private:
    Progress* previous_;
  };

 private:
  pb::object callback_;  // None when quiet
};

}  // namespace qdet::py

namespace qdet::py {

// Runs f() without the GIL, with `progress` current for the quantizer's callbacks; closes the
// progress display afterwards, also when f throws (Ctrl-C, an error).
template <typename F>
auto run_released(Progress& progress, F&& f) {
  struct Closer {
    Progress& p;
    ~Closer() {
      try {
        p.close();
      } catch (...) {  // a display that fails to close must not hide the call's own outcome
      }
    }
  } closer{progress};
  Progress::Scope scope(progress);
  pb::gil_scoped_release nogil;
  return f();
}

}  // namespace qdet::py
