#include "test_support.h"

#include <fmt/format.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/wait.h>

namespace qdet::testing {

bool data_required() {
  const char* s = std::getenv("QDET_REQUIRE_DATA");
  return s && std::strcmp(s, "1") == 0;
}

std::filesystem::path scratch_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "test";
  for (char& c : name)
    if (c == '/') c = '_';
  // One folder per build tree, so suites of two checkouts running at once never remove each
  // other's files.
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::string tree = ec ? std::string("default")
                              : fmt::format("{:016x}", std::hash<std::string>{}(exe.parent_path().string()));
  auto dir = std::filesystem::temp_directory_path() / "qdet-tests" / tree / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::string peers_node_path() {
  std::filesystem::path dir;
  if (const char* s = std::getenv("QDET_PEERS_DIR"); s && *s) {
    dir = s;
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    dir = std::filesystem::path(home) / ".cache" / "qdet-peers";
  } else {
    return {};
  }
  auto modules = dir / "node_modules";
  if (!std::filesystem::exists(modules / "onnxruntime-node") ||
      !std::filesystem::exists(modules / "@tensorflow" / "tfjs-tflite"))
    return {};
  if (run_command("node --version", nullptr) != 0) return {};
  return modules.string();
}

std::string peer_command(const std::string& script) {
  return "NODE_PATH='" + peers_node_path() + "' node '" +
         (shared_dir() / "peers" / script).string() + "'";
}

int run_command(const std::string& command, std::string* output) {
  std::string cmd = command + " 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) return -1;
  std::array<char, 4096> buf;
  std::string out;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  int status = ::pclose(pipe);
  if (output) *output = std::move(out);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace qdet::testing
