// `qdet study` end to end on YOLOX-Nano with 4 COCO images: fp32 and fp16 made, evaluated,
// benchmarked and drawn; int8 with an empty calibration folder fails and becomes a row; the
// report files parse; --resume redoes only the variant whose done file was deleted; Chromium
// renders the page. Bad inputs: one line, non-zero exit, nothing written.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "study/chromium.h"
#include "test_support.h"

namespace qdet::study {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kModel = data_dir() / "models" / "yolox_nano_fp32_416.tflite";
const fs::path kCoco = data_dir() / "coco" / "val2017-139";

std::string study_args(const fs::path& out, const fs::path& calib) {
  return std::string(QDET_BINARY) + " study " + kModel.string() + " --images " + (kCoco / "images").string() +
         " --annotations " + (kCoco / "instances_val2017_subset.json").string() + " --calib " + calib.string() +
         " -o " + out.string() + " --modes fp32,fp16,int8 --limit 4 --runs 2 --warmup 1 --pictures 2";
}

std::string slurp(const fs::path& p) {
  auto t = read_text_file(p);
  return t.ok() ? *t : std::string();
}

TEST(StudyCli, ReportResumeAndRender) {
  QDET_REQUIRE_PATH(kModel);
  QDET_REQUIRE_PATH(kCoco);
  const fs::path dir = qdet::testing::scratch_dir();
  const fs::path out = dir / "report";
  fs::create_directories(dir / "empty_calib");
  std::string log;
  ASSERT_EQ(qdet::testing::run_command(study_args(out, dir / "empty_calib"), &log), 0) << log;
  // Progress lines per stage.
  for (const char* s : {"study: [1/3 fp32] rewriting the source as float32", "study: [2/3 fp16] quantizing",
                        "study: [1/3 fp32] evaluating: 4/4 images", "study: [2/3 fp16] timed: 2 runs",
                        "study: [3/3 int8] failed: make: ", "report: " })
    EXPECT_NE(log.find(s), std::string::npos) << s << "\n" << log;

  for (const char* f : {"fp32.tflite", "fp16.tflite", "fp32.results.json", "fp16.results.json", "fp32.done",
                        "fp16.done", "pictures/fp32_0.png", "pictures/fp16_1.png", "index.html", "report.md",
                        "results.json"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  EXPECT_FALSE(fs::exists(out / "int8.done"));
  EXPECT_FALSE(fs::exists(out / "int8.tflite"));

  json results = json::parse(slurp(out / "results.json"));
  ASSERT_EQ(results["variants"].size(), 3u);
  EXPECT_EQ(results["variants"][0]["variant"], "fp32");
  EXPECT_EQ(results["variants"][1]["variant"], "fp16");
  EXPECT_EQ(results["variants"][2]["variant"], "int8");
  EXPECT_NE(results["variants"][2]["error"].get<std::string>().find("make: "), std::string::npos);
  for (int i = 0; i < 2; ++i) {
    const json& v = results["variants"][i];
    EXPECT_EQ(v["coco"]["images"], 4);
    EXPECT_EQ(v["coco"]["stats"].size(), 12u);
    EXPECT_EQ(v["latency_ms"]["samples"].size(), 2u);
    EXPECT_EQ(v["size"]["file_bytes"].get<int64_t>(),
              static_cast<int64_t>(fs::file_size(out / (v["variant"].get<std::string>() + ".tflite"))));
    EXPECT_TRUE(v["energy"]["per_inference_j"].get<double>() > 0);
  }
  // fp16 halves the weights.
  EXPECT_LT(results["variants"][1]["size"]["file_bytes"].get<double>(),
            0.6 * results["variants"][0]["size"]["file_bytes"].get<double>());
  json coco = json::parse(slurp(out / "fp32.results.json"));
  ASSERT_TRUE(coco.is_array());
  ASSERT_FALSE(coco.empty());
  EXPECT_TRUE(coco[0].contains("bbox"));

  const std::string md = slurp(out / "report.md");
  EXPECT_NE(md.find("| variant | runtime | precision | size MB | AP | AP50 | ΔAP | p50 ms | FPS | MACs ran by | energy/inference | arithmetic energy |"),
            std::string::npos) << md;
  EXPECT_NE(md.find("| fp32 | qdet | float32 / float32 |"), std::string::npos);
  EXPECT_NE(md.find("| fp16 | qdet | float16 / float32 |"), std::string::npos);
  EXPECT_NE(md.find("- int8 (qdet): make: "), std::string::npos);
  const std::string html = slurp(out / "index.html");
  EXPECT_NE(html.find("data:image/png;base64,"), std::string::npos);
  EXPECT_NE(html.find("id=\"chart-delta-ap\""), std::string::npos);

  // Resume after deleting fp16's done file: fp32 is reused, fp16 redone (int8 is retried: it
  // never finished).
  const auto fp32_time = fs::last_write_time(out / "fp32.tflite");
  fs::remove(out / "fp16.done");
  ASSERT_EQ(qdet::testing::run_command(study_args(out, dir / "empty_calib") + " --resume", &log), 0) << log;
  EXPECT_NE(log.find("[1/3 fp32] finished before (resume): reused"), std::string::npos) << log;
  EXPECT_EQ(log.find("[1/3 fp32] evaluating"), std::string::npos) << log;
  EXPECT_NE(log.find("[2/3 fp16] quantizing"), std::string::npos) << log;
  EXPECT_EQ(log.find("[2/3 fp16] finished before"), std::string::npos) << log;
  EXPECT_TRUE(fs::exists(out / "fp16.done"));
  EXPECT_EQ(fs::last_write_time(out / "fp32.tflite"), fp32_time);
  json again = json::parse(slurp(out / "results.json"));
  EXPECT_EQ(again["variants"][0], results["variants"][0]);  // reused as it was
  EXPECT_EQ(again["variants"][1]["coco"]["stats"], results["variants"][1]["coco"]["stats"]);

  // The page renders in headless Chromium, charts laid out, no console errors.
  const std::string chromium = testing::chromium_binary();
  if (chromium.empty()) {
    if (qdet::testing::data_required()) FAIL() << "chromium not installed (scripts/setup.sh)";
    GTEST_SKIP() << "chromium not on PATH: render check skipped (scripts/setup.sh installs it)";
  }
  auto r = testing::render(chromium, out / "index.html", dir / "chromium", dir / "report.png");
  ASSERT_EQ(r.status, 0) << r.log;
  EXPECT_NE(r.dom.find("data-rendered=\"4\""), std::string::npos);
  EXPECT_NE(r.dom.find("data-charts=\"4\""), std::string::npos);
  EXPECT_FALSE(testing::has_console_errors(r.log)) << r.log;
}

std::string fp32_only_args(const fs::path& out) {
  return std::string(QDET_BINARY) + " study " + kModel.string() + " --images " + (kCoco / "images").string() +
         " --annotations " + (kCoco / "instances_val2017_subset.json").string() + " -o " + out.string() +
         " --modes fp32 --limit 2 --runs 2 --warmup 1 --pictures 0";
}

TEST(StudyCli, PeerRowsForOnnxRuntimeAndTfliteWasm) {
  QDET_REQUIRE_PEERS();
  QDET_REQUIRE_PATH(kModel);
  QDET_REQUIRE_PATH(kCoco);
  const fs::path onnx = data_dir() / "models" / "yolox_nano_416.onnx";
  QDET_REQUIRE_PATH(onnx);
  const fs::path out = qdet::testing::scratch_dir() / "report";
  std::string log;
  ASSERT_EQ(qdet::testing::run_command(fp32_only_args(out) + " --onnx " + onnx.string(), &log), 0) << log;
  EXPECT_NE(log.find("study: [peer 1/2 ort-yolox_nano_416] onnxruntime: 2 runs of yolox_nano_416.onnx"),
            std::string::npos) << log;
  EXPECT_NE(log.find("study: [peer 2/2 wasm-fp32] tflite-wasm: 2 runs of fp32.tflite"), std::string::npos) << log;
  EXPECT_EQ(log.find("warning"), std::string::npos) << log;

  json results = json::parse(slurp(out / "results.json"));
  ASSERT_EQ(results["variants"].size(), 3u) << results.dump(1);
  EXPECT_EQ(results["peers"]["onnx"][0], onnx.string());
  EXPECT_FALSE(results["variants"][0].contains("peer"));
  const char* names[] = {"ort-yolox_nano_416", "wasm-fp32"};
  const char* runtimes[] = {"onnxruntime", "tflite-wasm"};
  for (int i = 0; i < 2; ++i) {
    const json& v = results["variants"][i + 1];
    EXPECT_EQ(v["variant"], names[i]);
    EXPECT_EQ(v["runtime"], runtimes[i]);
    EXPECT_EQ(v["peer"], true);
    EXPECT_EQ(v["measures"], "latency only");
    EXPECT_FALSE(v.contains("error")) << v.dump();
    EXPECT_FALSE(v.contains("coco"));
    EXPECT_EQ(v["latency_ms"]["samples"].size(), 2u);
    EXPECT_EQ(v["latency_ms"]["warmup"], 1);
    EXPECT_TRUE(fs::exists(out / "peers" / (std::string(names[i]) + ".json")));
  }
  EXPECT_EQ(results["variants"][2]["model_path"], (out / "fp32.tflite").string());
  const std::string md = slurp(out / "report.md");
  EXPECT_NE(md.find("| ort-yolox_nano_416 | onnxruntime | as in the ONNX file |"), std::string::npos) << md;
  EXPECT_NE(md.find("| wasm-fp32 | tflite-wasm | float32 / float32 |"), std::string::npos) << md;
  EXPECT_NE(md.find("Peer rows (latency only"), std::string::npos) << md;
  const std::string html = slurp(out / "index.html");
  EXPECT_NE(html.find("peer · latency only"), std::string::npos);
  EXPECT_NE(html.find("wasm-fp32 "), std::string::npos);
}

TEST(StudyCli, PeersWithoutNodeAreOneWarningAndNoRows) {
  QDET_REQUIRE_PATH(kModel);
  QDET_REQUIRE_PATH(kCoco);
  const fs::path dir = qdet::testing::scratch_dir();
  const fs::path out = dir / "report";
  std::string log;
  // No node on PATH (qdet itself needs nothing from PATH).
  ASSERT_EQ(qdet::testing::run_command("PATH='" + (dir / "no-bin").string() + "' QDET_NODE= " + fp32_only_args(out) +
                                           " --peers",
                                       &log),
            0)
      << log;
  const std::string warning =
      "study: warning: --peers: no peer rows: node not found on PATH (install Node.js, or set QDET_NODE)\n";
  EXPECT_NE(log.find(warning), std::string::npos) << log;
  size_t warnings = 0;
  for (size_t at = log.find("warning"); at != std::string::npos; at = log.find("warning", at + 1)) ++warnings;
  EXPECT_EQ(warnings, 1u) << log;
  json results = json::parse(slurp(out / "results.json"));
  ASSERT_EQ(results["variants"].size(), 1u);
  EXPECT_EQ(results["peers"]["warning"], "--peers: no peer rows: node not found on PATH (install Node.js, or set QDET_NODE)");
  EXPECT_NE(slurp(out / "report.md").find("- --peers: no peer rows: node not found"), std::string::npos);
  EXPECT_FALSE(fs::exists(out / "peers"));
  // A missing --onnx model is a bad input: one line, before anything runs.
  EXPECT_EQ(qdet::testing::run_command(fp32_only_args(dir / "other") + " --onnx " + (dir / "nope.onnx").string(), &log),
            1);
  EXPECT_EQ(log, "qdet: error: " + (dir / "nope.onnx").string() + ": ONNX model not found\n");
  EXPECT_FALSE(fs::exists(dir / "other"));
}

TEST(StudyCli, BadInputsAreOneLineAndWriteNothing) {
  QDET_REQUIRE_PATH(kModel);
  QDET_REQUIRE_PATH(kCoco);
  const fs::path dir = qdet::testing::scratch_dir();
  const fs::path out = dir / "report";
  std::string log;
  // Missing data folder.
  std::string cmd = std::string(QDET_BINARY) + " study " + kModel.string() + " --images " + (dir / "nope").string() +
                    " --annotations " + (kCoco / "instances_val2017_subset.json").string() + " -o " + out.string() +
                    " --modes fp32";
  EXPECT_EQ(qdet::testing::run_command(cmd, &log), 1);
  EXPECT_EQ(log, "qdet: error: " + (dir / "nope").string() + ": images folder not found\n");
  EXPECT_FALSE(fs::exists(out));
  // Missing calibration folder for int8.
  cmd = std::string(QDET_BINARY) + " study " + kModel.string() + " --images " + (kCoco / "images").string() +
        " --annotations " + (kCoco / "instances_val2017_subset.json").string() + " --calib " +
        (dir / "nocalib").string() + " -o " + out.string() + " --modes fp32,int8";
  EXPECT_EQ(qdet::testing::run_command(cmd, &log), 1);
  EXPECT_EQ(log, "qdet: error: " + (dir / "nocalib").string() + ": calibration folder not found\n");
  EXPECT_FALSE(fs::exists(out));
  // Unknown mode.
  cmd = std::string(QDET_BINARY) + " study " + kModel.string() + " --images " + (kCoco / "images").string() +
        " --annotations " + (kCoco / "instances_val2017_subset.json").string() + " -o " + out.string() +
        " --modes fp32,int4";
  EXPECT_EQ(qdet::testing::run_command(cmd, &log), 1);
  EXPECT_EQ(log, "qdet: error: --modes: unknown mode 'int4' (fp32, fp16, dynamic, int8, int16x8)\n");
  // Unwritable report folder: a file in the way, and a folder that cannot be created.
  { std::ofstream(dir / "file") << "x"; }
  for (const fs::path& bad : {dir / "file" / "report", fs::path("/proc/qdet-report")}) {
    cmd = std::string(QDET_BINARY) + " study " + kModel.string() + " --images " + (kCoco / "images").string() +
          " --annotations " + (kCoco / "instances_val2017_subset.json").string() + " -o " + bad.string() +
          " --modes fp32";
    EXPECT_EQ(qdet::testing::run_command(cmd, &log), 1);
    EXPECT_EQ(log.rfind("qdet: error: " + bad.string() + ": cannot create folder", 0), 0u) << log;
    EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
  }
}

}  // namespace
}  // namespace qdet::study
