#include "base/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

namespace qdet {
namespace {

std::string errno_text() { return std::strerror(errno); }

}  // namespace

Status read_file_into(const std::filesystem::path& path, const std::function<char*(size_t)>& allocate) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("{}: cannot open: {}", path.string(), errno_text());
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return io_error("{}: not a regular file", path.string());
  }
  const size_t size = static_cast<size_t>(st.st_size);
  char* buffer = allocate(size);
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::read(fd, buffer + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return io_error("{}: read failed after {} of {} bytes", path.string(), done, size);
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return ok_status();
}

Result<std::vector<uint8_t>> read_file(const std::filesystem::path& path) {
  std::vector<uint8_t> bytes;
  QDET_TRY(read_file_into(path, [&](size_t size) {
    bytes.resize(size);
    return reinterpret_cast<char*>(bytes.data());
  }));
  return bytes;
}

Result<std::string> read_text_file(const std::filesystem::path& path) {
  QDET_ASSIGN_OR_RETURN(auto bytes, read_file(path));
  return std::string(bytes.begin(), bytes.end());
}

Status write_file_atomic(const std::filesystem::path& path, std::span<const uint8_t> bytes) {
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  std::random_device rd;
  std::filesystem::path tmp =
      dir / fmt::format(".{}.tmp.{}.{:x}", path.filename().string(), ::getpid(), rd());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("{}: cannot write: {}", path.string(), errno_text());
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string why = errno_text();
      ::close(fd);
      ::unlink(tmp.c_str());
      return io_error("{}: write failed: {}", path.string(), why);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    std::string why = errno_text();
    ::unlink(tmp.c_str());
    return io_error("{}: write failed: {}", path.string(), why);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = errno_text();
    ::unlink(tmp.c_str());
    return io_error("{}: cannot rename into place: {}", path.string(), why);
  }
  return ok_status();
}

Status write_file_atomic(const std::filesystem::path& path, std::string_view text) {
  return write_file_atomic(
      path, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

Status ensure_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return ok_status();
  if (std::filesystem::exists(dir, ec))
    return io_error("{}: exists and is not a folder", dir.string());
  std::filesystem::create_directories(dir, ec);
  if (ec) return io_error("{}: cannot create folder: {}", dir.string(), ec.message());
  return ok_status();
}

Status prepare_output_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return io_error("{}: is a folder, not a file name", path.string());
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  QDET_TRY(ensure_directory(dir));
  std::random_device rd;
  const std::filesystem::path probe =
      dir / fmt::format(".{}.probe.{}.{:x}", path.filename().string(), ::getpid(), rd());
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("{}: cannot write: {}", path.string(), errno_text());
  ::close(fd);
  ::unlink(probe.c_str());
  return ok_status();
}

}  // namespace qdet
