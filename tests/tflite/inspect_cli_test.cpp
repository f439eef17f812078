// `qdet inspect` end to end: the binary's JSON and text output and its error line.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "graph/stats.h"
#include "model_files.h"
#include "test_support.h"
#include "tflite/reader.h"

namespace qdet::tflite {
namespace {

using nlohmann::json;

TEST(InspectCli, JsonHasTheModelsFacts) {
  testing::ModelFile file{"yolov5n-int8"};
  QDET_REQUIRE_PATH(file.path());
  std::string out;
  ASSERT_EQ(::qdet::testing::run_command(
                std::string(QDET_BINARY) + " inspect --json '" + file.path().string() + "'", &out),
            0)
      << out;
  json j = json::parse(out);
  auto model = load_tflite(file.path());
  ASSERT_TRUE(model.ok());
  const auto stats = graph::compute_stats(model->graph);
  EXPECT_EQ(j["num_ops"], model->graph.ops.size());
  EXPECT_EQ(j["op_counts"]["CONV_2D"], stats.op_counts.at("CONV_2D"));
  EXPECT_EQ(j["parameters"], stats.parameters);
  EXPECT_EQ(j["macs_total"], stats.total_macs);
  EXPECT_EQ(j["macs"]["int8"], stats.total_macs);
  EXPECT_EQ(j["constant_bytes"]["int8"], stats.constant_bytes.at(DType::kInt8));
  ASSERT_EQ(j["outputs"].size(), 1u);
  const json& o = j["outputs"][0];
  EXPECT_EQ(o["id"], 427);
  EXPECT_EQ(o["dtype"], "uint8");
  EXPECT_EQ(o["shape"], json::array({1, 25200, 85}));
  EXPECT_NEAR(o["quant"]["scale"].get<double>(), 0.0044835, 5e-7);
  EXPECT_EQ(o["quant"]["zero_point"], 3);
  EXPECT_EQ(j["tensors"].size(), model->graph.tensors.size());
  // Per-axis quantization is summarized, not listed channel by channel.
  bool per_axis = false;
  for (const auto& t : j["tensors"])
    if (t["quant"].is_object() && t["quant"].contains("axis")) {
      per_axis = true;
      EXPECT_GT(t["quant"]["channels"].get<int>(), 1);
      EXPECT_LE(t["quant"]["scale_min"].get<double>(), t["quant"]["scale_max"].get<double>());
    }
  EXPECT_TRUE(per_axis);
}

TEST(InspectCli, TextShowsMetadataAndAssociatedFiles) {
  testing::ModelFile file{"ssd_mobilenet_v1_1_metadata_1"};
  QDET_REQUIRE_PATH(file.path());
  std::string out;
  ASSERT_EQ(::qdet::testing::run_command(
                std::string(QDET_BINARY) + " inspect '" + file.path().string() + "'", &out),
            0)
      << out;
  EXPECT_NE(out.find("TFLite_Detection_PostProcess"), std::string::npos);
  EXPECT_NE(out.find("metadata: TFLITE_METADATA (1312 bytes)"), std::string::npos) << out;
  EXPECT_NE(out.find("trailing bytes: 787 (associated files: labelmap.txt)"), std::string::npos);
}

TEST(InspectCli, BadFileIsOneErrorLine) {
  const auto path = ::qdet::testing::scratch_dir() / "junk.tflite";
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fputs("this is not a model at all", f);
    std::fclose(f);
  }
  std::string out;
  EXPECT_EQ(::qdet::testing::run_command(std::string(QDET_BINARY) + " inspect '" +
                                             path.string() + "'",
                                         &out),
            1);
  EXPECT_EQ(out, "qdet: error: " + path.string() +
                     ": not a TFLite model: file identifier is ' is ', expected 'TFL3'\n");
}

}  // namespace
}  // namespace qdet::tflite
