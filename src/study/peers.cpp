#include "study/peers.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <sstream>

#include "base/json_text.h"
#include "base/file.h"
#include "bench/latency_stats.h"
#include "study/peer_latency_js.h"
#include "study/variant.h"

extern char** environ;

namespace qdet::study {
namespace {

namespace fs = std::filesystem;

bool executable(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

fs::path peers_dir() {
  if (const char* s = std::getenv("QDET_PEERS_DIR"); s && *s) return s;
  if (const char* home = std::getenv("HOME"); home && *home) return fs::path(home) / ".cache" / "qdet-peers";
  return {};
}

// Spawns argv with NODE_PATH set, stdout and stderr to files; returns the exit status
// (127: could not start, 128 + signal when killed).
int spawn(const std::vector<std::string>& args, const std::string& node_path, const fs::path& out,
          const fs::path& err) {
  std::vector<std::string> env_store;
  for (char** e = environ; e && *e; ++e)
    if (std::string_view(*e).rfind("NODE_PATH=", 0) != 0) env_store.emplace_back(*e);
  env_store.push_back("NODE_PATH=" + node_path);
  std::vector<char*> envp, argv;
  for (auto& s : env_store) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> arg_store = args;
  for (auto& s : arg_store) argv.push_back(s.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return 127;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 127;
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 127;
}

// The last non-empty line of a text (the script prints its JSON last; node's own warnings may
// come first).
std::string last_line(const std::string& text) {
  std::string last, line;
  std::istringstream in(text);
  while (std::getline(in, line))
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
  return last;
}

std::string first_line(const std::string& text, size_t max_chars = 300) {
  std::string s = text.substr(0, text.find('\n'));
  return s.size() > max_chars ? s.substr(0, max_chars) + "..." : s;
}

}  // namespace

fs::path peer_output_path(const fs::path& dir, const std::string& variant) {
  return dir / "peers" / (variant + ".json");
}

Result<PeerEnv> find_peers() {
  PeerEnv env;
  if (const char* s = std::getenv("QDET_NODE"); s && *s) {
    if (!executable(s)) return not_found("QDET_NODE={}: not an executable file", s);
    env.node = s;
  } else {
    const char* path = std::getenv("PATH");
    std::istringstream dirs(path ? path : "");
    for (std::string d; std::getline(dirs, d, ':');) {
      if (d.empty()) continue;
      if (executable(fs::path(d) / "node")) {
        env.node = fs::path(d) / "node";
        break;
      }
    }
    if (env.node.empty()) return not_found("node not found on PATH (install Node.js, or set QDET_NODE)");
  }
  const fs::path dir = peers_dir();
  if (dir.empty()) return not_found("no peers folder: set QDET_PEERS_DIR (HOME is not set)");
  env.node_modules = dir / "node_modules";
  std::error_code ec;
  for (const char* pkg : {"onnxruntime-node", "@tensorflow/tfjs-tflite"})
    if (!fs::is_directory(env.node_modules / pkg, ec))
      return not_found("{}: {} not installed (run ../shared/peers/setup.sh, or set QDET_PEERS_DIR)",
                       env.node_modules.string(), pkg);
  return env;
}

std::vector<PeerJob> peer_jobs(const StudyOptions& o, const std::vector<report::Record>& records) {
  std::vector<PeerJob> jobs;
  for (const auto& onnx : o.onnx)
    jobs.push_back({"ort-" + onnx.stem().string(), "onnxruntime", "as in the ONNX file", onnx});
  for (const char* mode : {"fp32", "int8"}) {
    for (const auto& r : records) {
      if (r.variant != mode || r.runtime != "qdet" || !r.error.empty()) continue;
      jobs.push_back({fmt::format("wasm-{}", mode), "tflite-wasm", mode_precision(mode),
                      variant_model_path(o.output, mode)});
    }
  }
  return jobs;
}

namespace {

// What every record of a peer job says, measured or failed.
report::Record job_record(const PeerJob& job) {
  report::Record r;
  r.variant = job.variant;
  r.runtime = job.runtime;
  r.precision = job.precision;
  r.model_path = job.model.string();
  r.peer = true;
  return r;
}

}  // namespace

Result<report::Record> peer_record_from_json(const nlohmann::json& j, const PeerJob& job) {
  if (!j.is_object()) return parse_error("peer output is not a JSON object");
  if (!j.value("ok", false)) {
    const auto it = j.find("error");
    return internal_error("{}", it != j.end() && it->is_string() ? it->get<std::string>()
                                                                 : std::string("the peer reported a failure"));
  }
  report::Record r = job_record(job);
  try {
    r.latency_samples_ms = j.at("samples_ms").get<std::vector<double>>();
    r.threads = j.value("threads", 1);
    r.warmup_runs = j.value("warmup", 0);
    if (j.contains("version") && j["version"].is_string())
      r.notes.push_back(fmt::format("{} {}, model loaded in {:.0f} ms, first inference {:.1f} ms",
                                    job.runtime, j["version"].get<std::string>(), j.value("load_ms", 0.0),
                                    j.value("first_ms", 0.0)));
  } catch (const nlohmann::json::exception& e) {
    return parse_error("peer output: {}", e.what());
  }
  if (r.latency_samples_ms.empty()) return parse_error("peer output: no timed runs (samples_ms empty)");
  for (double s : r.latency_samples_ms)
    if (!(s >= 0)) return parse_error("peer output: a negative or non-numeric sample in samples_ms");
  r.latency = bench::compute_latency_stats(r.latency_samples_ms);
  std::error_code ec;
  const auto size = fs::file_size(job.model, ec);
  if (!ec) r.file_bytes = static_cast<int64_t>(size);
  return r;
}

report::Record run_peer(const PeerEnv& env, const PeerJob& job, const StudyOptions& o) {
  report::Record failed = job_record(job);
  const fs::path dir = o.output / "peers";
  const fs::path script = dir / "peer_latency.js";
  const fs::path out = dir / (job.variant + ".stdout.tmp");
  const fs::path err = dir / (job.variant + ".stderr.tmp");
  auto cleanup = [&] {
    std::error_code ec;
    fs::remove(out, ec);
    fs::remove(err, ec);
  };
  Status s = ensure_directory(dir);
  if (s.ok()) s = write_file_atomic(script, std::string_view(kPeerLatencyJs));
  if (!s.ok()) {
    failed.error = s.message();
    return failed;
  }
  const int rc = spawn({env.node.string(), script.string(), job.model.string(), "--runs", std::to_string(o.runs),
                        "--warmup", std::to_string(o.warmup), "--threads", std::to_string(o.threads), "--seed", "1"},
                       env.node_modules.string(), out, err);
  auto stdout_text = read_text_file(out);
  auto stderr_text = read_text_file(err);
  cleanup();
  const std::string line = stdout_text.ok() ? last_line(*stdout_text) : std::string();
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    failed.error = fmt::format("{} exited with status {} and no JSON{}", env.node.filename().string(), rc,
                               stderr_text.ok() && !stderr_text->empty() ? ": " + first_line(*stderr_text) : "");
    return failed;
  }
  auto rec = peer_record_from_json(j, job);
  if (!rec.ok()) {
    failed.error = std::string(rec.status().message());
    return failed;
  }
  s = write_file_atomic(peer_output_path(o.output, job.variant), json_text(j, 1) + "\n");
  if (!s.ok()) rec->notes.push_back("raw output not kept: " + std::string(s.message()));
  return std::move(*rec);
}

}  // namespace qdet::study
