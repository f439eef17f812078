#include "report/printers.h"

#include <gtest/gtest.h>

namespace qdet::report {
namespace {

std::vector<Record> two_variants() {
  Record fp32;
  fp32.variant = "fp32";
  fp32.runtime = "qdet";
  fp32.precision = "float32 / float32";
  fp32.file_bytes = 3917380;
  fp32.coco_stats = std::vector<double>(12, 0.0);
  fp32.coco_stats[0] = 0.303;
  fp32.coco_stats[1] = 0.478;
  bench::LatencyStats l;
  l.median_ms = 20;
  fp32.latency = l;
  Record int8 = fp32;
  int8.variant = "int8";
  int8.precision = "int8 / int8";
  int8.file_bytes = 1100000;
  int8.coco_stats[0] = 0.298;
  int8.latency->median_ms = 8;
  int8.energy = bench::time_power_energy(8, 10, 10.0, "--cpu-watts 10");
  int8.arithmetic_energy = bench::arithmetic_energy({.macs_int8 = 1e9}, 10);
  int8.macs_by_kernel = {{"int8 · onednn", 9e8}, {"float32 · xnnpack", 1e8}};
  return {fp32, int8};
}

TEST(Printers, TableHasDeltaAgainstFp32) {
  std::string t = to_table(two_variants());
  EXPECT_NE(t.find("variant"), std::string::npos);
  EXPECT_NE(t.find("-0.5"), std::string::npos);   // ΔAP of int8
  EXPECT_NE(t.find("125.0"), std::string::npos);  // FPS at 8 ms
  EXPECT_NE(t.find("80.00 mJ (estimate (time x power))"), std::string::npos) << t;  // 8 ms x 10 W
  EXPECT_NE(t.find("0.23 mJ"), std::string::npos) << t;   // the arithmetic energy, its own column
  EXPECT_NE(t.find("int8 · onednn"), std::string::npos) << t;  // who ran most MACs
}

TEST(Printers, MarkdownTableAndEnergySources) {
  std::string md = to_markdown(two_variants(), "YOLOX-Nano");
  EXPECT_EQ(md.rfind("# YOLOX-Nano\n", 0), 0u);
  EXPECT_NE(md.find("| fp32 | qdet | float32 / float32 | 3.92 | 30.3 | 47.8 | - | 20.00 | 50.0 | - | - | - |"),
            std::string::npos) << md;
  EXPECT_NE(md.find("- int8 (qdet): estimate (time x power): median 8.000 ms x 10.00 W, --cpu-watts 10"),
            std::string::npos) << md;
  EXPECT_NE(md.find("Arithmetic energy: "), std::string::npos) << md;
}

TEST(Printers, JsonRoundTrips) {
  auto records = two_variants();
  nlohmann::json j = to_json(records);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[1]["energy"]["method"], "estimate");
  EXPECT_EQ(j[1]["energy"]["arithmetic"]["per_inference_j"], 0.23e-3);
  EXPECT_EQ(j[1]["macs_by_kernel"]["int8 · onednn"], 9e8);
  EXPECT_DOUBLE_EQ(j[0]["latency_ms"]["median"].get<double>(), 20.0);
  auto back = record_from_json(j[1]);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(to_json(*back), j[1]);
  auto bad = record_from_json(nlohmann::json{{"runtime", "qdet"}});
  EXPECT_FALSE(bad.ok());
}

TEST(Printers, PeerRowsAreMarkedLatencyOnly) {
  auto records = two_variants();
  Record ort;
  ort.variant = "ort-yolox_nano_416";
  ort.runtime = "onnxruntime";
  ort.precision = "as in the ONNX file";
  ort.model_path = "/m/yolox_nano_416.onnx";
  ort.peer = true;
  ort.warmup_runs = 3;
  ort.latency_samples_ms = {14, 15, 13};
  ort.latency = bench::compute_latency_stats(ort.latency_samples_ms);
  records.push_back(ort);
  const std::string md = to_markdown(records, "t");
  EXPECT_NE(md.find("| ort-yolox_nano_416 | onnxruntime | as in the ONNX file | - | - | - | - | 14.00 | 71.4 | - | - | - |"),
            std::string::npos) << md;
  EXPECT_NE(md.find("Peer rows (latency only: not evaluated on COCO, no energy)"), std::string::npos) << md;
  EXPECT_NE(md.find("- ort-yolox_nano_416 (onnxruntime, 1 thread): 3 timed runs after 3 warm-up, seeded random "
                    "input; /m/yolox_nano_416.onnx"),
            std::string::npos) << md;
  // Without peers, no peer paragraph.
  EXPECT_EQ(to_markdown(two_variants(), "t").find("Peer rows"), std::string::npos);
  const nlohmann::json j = to_json(ort);
  EXPECT_EQ(j["peer"], true);
  EXPECT_EQ(j["measures"], "latency only");
  EXPECT_FALSE(to_json(records[0]).contains("peer"));
  auto back = record_from_json(j);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->peer);
  EXPECT_EQ(to_json(*back), j);
}

}  // namespace
}  // namespace qdet::report
