#include "common.h"

#include <Python.h>

namespace qdet::py {
namespace {

PyObject* exception_type(const Status& s) {
  switch (s.code()) {
    case StatusCode::kIoError:
      // The libraries name the OS reason: "<path>: cannot open: No such file or directory".
      if (s.message().find("No such file or directory") != std::string::npos) return PyExc_FileNotFoundError;
      return PyExc_OSError;
    case StatusCode::kUnsupported: return PyExc_NotImplementedError;
    case StatusCode::kInternal: return PyExc_RuntimeError;
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kParseError:
    case StatusCode::kOutOfRange:
    case StatusCode::kOk:
      break;
  }
  return PyExc_ValueError;
}

thread_local Progress* current_progress = nullptr;

}  // namespace

void register_exceptions(pb::module_&) {
  pb::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const StatusError& e) {
      PyErr_SetString(exception_type(e.status), e.status.message().c_str());
    } catch (const MissingPath& e) {
      PyErr_SetString(PyExc_FileNotFoundError, e.message.c_str());
    }
  });
}

void require_file(const std::filesystem::path& path, const char* what) {
  std::error_code ec;
  if (path.empty()) throw MissingPath{std::string("no ") + what + " given"};
  if (!std::filesystem::exists(path, ec)) throw MissingPath{path.string() + ": " + what + " not found"};
  if (std::filesystem::is_directory(path, ec))
    throw StatusError{invalid_argument("{}: {} is a folder, not a file", path.string(), what)};
}

void require_dir(const std::filesystem::path& path, const char* what) {
  std::error_code ec;
  if (path.empty()) throw MissingPath{std::string("no ") + what + " given"};
  if (!std::filesystem::exists(path, ec)) throw MissingPath{path.string() + ": " + what + " not found"};
  if (!std::filesystem::is_directory(path, ec))
    throw StatusError{invalid_argument("{}: {} is not a folder", path.string(), what)};
}

pb::object to_python(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return pb::none();
    case nlohmann::json::value_t::boolean: return pb::bool_(j.get<bool>());
    case nlohmann::json::value_t::number_integer: return pb::int_(j.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: return pb::int_(j.get<uint64_t>());
    case nlohmann::json::value_t::number_float: return pb::float_(j.get<double>());
    case nlohmann::json::value_t::string: return pb::str(j.get_ref<const std::string&>());
    case nlohmann::json::value_t::array: {
      pb::list l;
      for (const auto& v : j) l.append(to_python(v));
      return l;
    }
    case nlohmann::json::value_t::object: {
      pb::dict d;
      for (const auto& [k, v] : j.items()) d[pb::str(k)] = to_python(v);
      return d;
    }
    default: return pb::none();
  }
}

Progress::Progress(const pb::object& callback) {
  callback_ = pb::module_::import("qdet._progress").attr("resolve")(callback);
}

Progress::~Progress() = default;

void Progress::report(const std::string& stage, size_t done, size_t total) {
  pb::gil_scoped_acquire gil;
  if (!callback_.is_none()) callback_(stage, done, total);  // its exception propagates
  // SIGINT's default handler raises KeyboardInterrupt here (main thread only).
  if (PyErr_CheckSignals() != 0) throw pb::error_already_set();
}

void Progress::close() {
  if (!callback_.is_none() && pb::hasattr(callback_, "close")) callback_.attr("close")();
}

void Progress::quantize_progress(const char* stage, size_t done, size_t total) {
  if (current_progress) current_progress->report(stage, done, total);
}

Progress::Scope::Scope(Progress& p) : previous_(current_progress) { current_progress = &p; }
Progress::Scope::~Scope() { current_progress = previous_; }

}  // namespace qdet::py
