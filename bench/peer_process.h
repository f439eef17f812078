// Helpers shared by the benchmark programs that run a peer runtime (Node scripts) as a child
// process: the peers' node_modules folder and a command's captured output.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace qdet::bench_programs {

// Runs `cmd` through the shell; returns what it printed on stdout and sets `*status` to
// pclose()'s status (-1 when the command could not be started).
inline std::string run_capture(const std::string& cmd, int* status) {
  std::string out;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) {
    *status = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  *status = ::pclose(pipe);
  return out;
}

// NODE_PATH for the peers: $QDET_PEERS_DIR/node_modules, default ~/.cache/qdet-peers/node_modules
// (../shared/peers/setup.sh installs there).
inline std::string peers_node_path() {
  if (const char* s = std::getenv("QDET_PEERS_DIR"); s && *s) return std::string(s) + "/node_modules";
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "/root") + "/.cache/qdet-peers/node_modules";
}

}  // namespace qdet::bench_programs
