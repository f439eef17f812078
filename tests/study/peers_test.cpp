// `qdet study --peers` pieces: finding node and the packages, which rows are made, reading the
// script's JSON, running a process (a stand-in "node" shell script, then the real peers when
// installed).
#include "study/peers.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <optional>

#include "base/file.h"
#include "test_support.h"

namespace qdet::study {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Sets an environment variable for one scope and puts the old value back.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

fs::path write_script(const fs::path& path, const std::string& body) {
  std::ofstream(path) << "#!/bin/sh\n" << body;
  ::chmod(path.c_str(), 0755);
  return path;
}

PeerJob job(const fs::path& model) { return {"wasm-fp32", "tflite-wasm", "float32 / float32", model}; }

TEST(Peers, FindPeersSaysWhatIsMissing) {
  const fs::path dir = qdet::testing::scratch_dir();
  {
    ScopedEnv node("QDET_NODE", (dir / "no-node").string());
    auto env = find_peers();
    ASSERT_FALSE(env.ok());
    EXPECT_EQ(env.status().message(), "QDET_NODE=" + (dir / "no-node").string() + ": not an executable file");
  }
  {
    ScopedEnv path("PATH", (dir / "empty-bin").string());
    ScopedEnv node("QDET_NODE", "");
    auto env = find_peers();
    ASSERT_FALSE(env.ok());
    EXPECT_EQ(env.status().message(), "node not found on PATH (install Node.js, or set QDET_NODE)");
  }
  {
    const fs::path fake = write_script(dir / "node", "exit 0\n");
    ScopedEnv node("QDET_NODE", fake.string());
    ScopedEnv peers("QDET_PEERS_DIR", (dir / "peers").string());
    fs::create_directories(dir / "peers" / "node_modules" / "onnxruntime-node");
    auto env = find_peers();
    ASSERT_FALSE(env.ok());
    EXPECT_EQ(env.status().message(), (dir / "peers" / "node_modules").string() +
                                          ": @tensorflow/tfjs-tflite not installed (run ../shared/peers/setup.sh, "
                                          "or set QDET_PEERS_DIR)");
    fs::create_directories(dir / "peers" / "node_modules" / "@tensorflow" / "tfjs-tflite");
    env = find_peers();
    ASSERT_TRUE(env.ok()) << env.status().message();
    EXPECT_EQ(env->node, fake);
    EXPECT_EQ(env->node_modules, dir / "peers" / "node_modules");
  }
}

TEST(Peers, JobsForOnnxModelsAndTheMadeFp32AndInt8) {
  StudyOptions o;
  o.output = "/r";
  o.onnx = {"/m/yolox_nano_416.onnx"};
  std::vector<report::Record> records(4);
  records[0].variant = "fp32";
  records[1].variant = "fp16";
  records[2].variant = "int8";
  records[3].variant = "int16x8";
  for (auto& r : records) r.runtime = "qdet";
  auto jobs = peer_jobs(o, records);
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[0].variant, "ort-yolox_nano_416");
  EXPECT_EQ(jobs[0].runtime, "onnxruntime");
  EXPECT_EQ(jobs[0].model, fs::path("/m/yolox_nano_416.onnx"));
  EXPECT_EQ(jobs[1].variant, "wasm-fp32");
  EXPECT_EQ(jobs[1].model, fs::path("/r/fp32.tflite"));
  EXPECT_EQ(jobs[2].variant, "wasm-int8");
  EXPECT_EQ(jobs[2].precision, "int8 / int8");
  // A failed int8 is not timed anywhere.
  records[2].error = "make: no calibration images";
  o.onnx.clear();
  jobs = peer_jobs(o, records);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].variant, "wasm-fp32");
}

TEST(Peers, RecordFromScriptJson) {
  const fs::path model = qdet::testing::scratch_dir() / "m.tflite";
  std::ofstream(model) << std::string(1234, 'x');
  auto r = peer_record_from_json(
      json::parse(R"({"ok":true,"runtime":"tflite-wasm","version":"0.0.1-alpha.10","threads":1,"warmup":2,)"
                  R"("load_ms":40.5,"first_ms":90,"samples_ms":[30,10,20]})"),
      job(model));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->peer);
  EXPECT_EQ(r->variant, "wasm-fp32");
  EXPECT_EQ(r->runtime, "tflite-wasm");
  EXPECT_EQ(r->file_bytes, 1234);
  EXPECT_EQ(r->warmup_runs, 2);
  ASSERT_TRUE(r->latency.has_value());
  EXPECT_EQ(r->latency->count, 3);
  EXPECT_DOUBLE_EQ(r->latency->median_ms, 20);
  EXPECT_DOUBLE_EQ(r->latency->min_ms, 10);
  EXPECT_EQ(r->latency_samples_ms, (std::vector<double>{30, 10, 20}));  // in run order
  EXPECT_EQ(r->ap(), -1);
  EXPECT_FALSE(r->energy.has_value());
  ASSERT_EQ(r->notes.size(), 1u);
  EXPECT_EQ(r->notes[0], "tflite-wasm 0.0.1-alpha.10, model loaded in 40 ms, first inference 90.0 ms");

  auto failed = peer_record_from_json(json::parse(R"({"ok":false,"error":"cannot load"})"), job(model));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message(), "cannot load");
  for (const char* bad : {R"([1,2])", R"({"ok":true})", R"({"ok":true,"samples_ms":[]})",
                          R"({"ok":true,"samples_ms":["a"]})", R"({"ok":true,"samples_ms":[1,-2]})"}) {
    auto b = peer_record_from_json(json::parse(bad), job(model));
    EXPECT_FALSE(b.ok()) << bad;
  }
}

TEST(Peers, RunPeerReadsTheLastJsonLineAndReportsFailures) {
  const fs::path dir = qdet::testing::scratch_dir();
  fs::create_directories(dir / "modules");
  StudyOptions o;
  o.output = dir / "report";
  o.runs = 3;
  o.warmup = 1;
  const fs::path model = dir / "m.tflite";
  std::ofstream(model) << "x";
  // The stand-in node echoes its arguments and NODE_PATH into the JSON, after a warning line.
  PeerEnv env{write_script(dir / "fake-node",
                           "echo 'node: a warning first'\n"
                           "echo \"{\\\"ok\\\":true,\\\"samples_ms\\\":[5,7,6],\\\"threads\\\":1,\\\"warmup\\\":1,"
                           "\\\"args\\\":\\\"$*\\\",\\\"node_path\\\":\\\"$NODE_PATH\\\"}\"\n"),
              dir / "modules"};
  report::Record r = run_peer(env, job(model), o);
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_TRUE(r.latency.has_value());
  EXPECT_DOUBLE_EQ(r.latency->median_ms, 6);
  // The script was written out and given the study's settings.
  const fs::path script = o.output / "peers" / "peer_latency.js";
  EXPECT_TRUE(fs::exists(script));
  auto raw = read_text_file(peer_output_path(o.output, "wasm-fp32"));
  ASSERT_TRUE(raw.ok());
  const json j = json::parse(*raw);
  EXPECT_EQ(j["args"], script.string() + " " + model.string() + " --runs 3 --warmup 1 --threads 1 --seed 1");
  EXPECT_EQ(j["node_path"], (dir / "modules").string());
  // No temporary files left.
  for (const auto& e : fs::directory_iterator(o.output / "peers"))
    EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << e.path();

  // A crash with no JSON: the row says so with the first line of stderr.
  env.node = write_script(dir / "crash-node", "echo 'Segmentation fault here' >&2\nexit 3\n");
  r = run_peer(env, job(model), o);
  EXPECT_TRUE(r.peer);
  EXPECT_EQ(r.error, "crash-node exited with status 3 and no JSON: Segmentation fault here");
  // The script's own error JSON.
  env.node = write_script(dir / "error-node", "echo '{\"ok\":false,\"error\":\"m.tflite: cannot load\"}'\nexit 1\n");
  r = run_peer(env, job(model), o);
  EXPECT_EQ(r.error, "m.tflite: cannot load");
}

TEST(Peers, RealPeersTimeTheSourceModel) {
  QDET_REQUIRE_PEERS();
  const fs::path model = data_dir() / "models" / "yolox_nano_fp32_416.tflite";
  const fs::path onnx = data_dir() / "models" / "yolox_nano_416.onnx";
  QDET_REQUIRE_PATH(model);
  QDET_REQUIRE_PATH(onnx);
  auto env = find_peers();
  ASSERT_TRUE(env.ok()) << env.status().message();
  StudyOptions o;
  o.output = qdet::testing::scratch_dir();
  o.runs = 2;
  o.warmup = 0;
  for (const PeerJob& j : {PeerJob{"wasm-fp32", "tflite-wasm", "float32 / float32", model},
                           PeerJob{"ort-yolox_nano_416", "onnxruntime", "as in the ONNX file", onnx}}) {
    report::Record r = run_peer(*env, j, o);
    ASSERT_TRUE(r.error.empty()) << j.variant << ": " << r.error;
    ASSERT_TRUE(r.latency.has_value());
    EXPECT_EQ(r.latency->count, 2);
    EXPECT_GT(r.latency->median_ms, 0);
    EXPECT_EQ(r.file_bytes, static_cast<int64_t>(fs::file_size(j.model)));
    auto raw = read_text_file(peer_output_path(o.output, j.variant));
    ASSERT_TRUE(raw.ok());
    EXPECT_EQ(json::parse(*raw)["runtime"], j.runtime);
  }
  // A file the peer cannot load is a row with the peer's reason.
  const fs::path bad = o.output / "bad.tflite";
  std::ofstream(bad) << "not a model";
  report::Record r = run_peer(*env, PeerJob{"wasm-bad", "tflite-wasm", "?", bad}, o);
  EXPECT_NE(r.error.find("TFLite-WASM cannot load the model"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace qdet::study
