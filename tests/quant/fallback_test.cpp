// Float fallback (fallback.h): units, the output probe, ranking and prefix scores; and the
// accuracy-driven search of `qdet quantize --max-map-drop` on real data.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>

#include "base/paths.h"
#include "quant/calib_table.h"
#include "quant/calibrate.h"
#include "quant/fallback.h"
#include "test_support.h"
#include "tflite/reader.h"
#include "graph_builder.h"

namespace qdet::quant {
namespace {

namespace fs = std::filesystem;
using graph::OpKind;
using testing::GraphBuilder;

// in [1,6,6,4] -> CONV_2D c1 -> SiLU (LOGISTIC s1, MUL m1) -> CONV_2D c2 -> LOGISTIC r2
//   -> ADD(r2, m1) -> out. The ADD reads two units, so it belongs to neither.
graph::Model silu_relu_model() {
  GraphBuilder b;
  std::mt19937 rng(7);
  std::normal_distribution<float> n(0.f, 0.5f);
  auto values = [&](size_t count) {
    std::vector<float> v(count);
    for (auto& x : v) x = n(rng);
    return v;
  };
  const int32_t in = b.input("in", {1, 6, 6, 4});
  const int32_t w1 = b.constant("w1", {4, 1, 1, 4}, values(16));
  const int32_t b1 = b.constant("b1", {4}, values(4));
  const int32_t c1 = b.activation("c1", {1, 6, 6, 4});
  const int32_t s1 = b.activation("s1", {1, 6, 6, 4});
  const int32_t m1 = b.activation("m1", {1, 6, 6, 4});
  const int32_t w2 = b.constant("w2", {4, 3, 3, 4}, values(144));
  const int32_t b2 = b.constant("b2", {4}, values(4));
  const int32_t c2 = b.activation("c2", {1, 6, 6, 4});
  const int32_t r2 = b.activation("r2", {1, 6, 6, 4});
  const int32_t out = b.activation("out", {1, 6, 6, 4});
  b.op(OpKind::kConv2d, {in, w1, b1}, {c1});
  b.op(OpKind::kLogistic, {c1}, {s1});
  b.op(OpKind::kMul, {c1, s1}, {m1});
  b.op(OpKind::kConv2d, {m1, w2, b2}, {c2});
  b.op(OpKind::kLogistic, {c2}, {r2});
  b.op(OpKind::kAdd, {r2, m1}, {out});
  b.output(out);
  return b.model();
}

std::vector<std::vector<uint8_t>> random_inputs(int count) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-2.f, 2.f);
  std::vector<std::vector<uint8_t>> inputs;
  for (int i = 0; i < count; ++i) {
    std::vector<float> v(6 * 6 * 4);
    for (auto& x : v) x = u(rng);
    inputs.push_back(float_bytes(v));
  }
  return inputs;
}

RangeMap calibrated_ranges(const graph::Model& m) {
  auto collector = StatisticsCollector::create(m);
  EXPECT_TRUE(collector.ok());
  for (const auto& in : random_inputs(8)) EXPECT_TRUE((*collector)->add_sample(in).ok());
  return ranges_of((*collector)->table({Method::kMinMax, 99.99, 256}, "test"));
}

TEST(FallbackUnits, AWeightedOpTakesTheActivationsOnlyItFeeds) {
  const auto m = silu_relu_model();
  auto units = fallback_units(m.graph, {});
  ASSERT_EQ(units.size(), 2u);
  EXPECT_EQ(units[0].ops, (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(units[0].name, "c1");
  EXPECT_EQ(units[0].macs, 6 * 6 * 4 * 4);
  EXPECT_EQ(units[1].ops, (std::vector<int32_t>{3, 4}));
  EXPECT_EQ(units[1].name, "c2");
  // Ops already float are not offered again, and the activations they would carry stay out.
  units = fallback_units(m.graph, {0});
  ASSERT_EQ(units.size(), 1u);
  EXPECT_EQ(units[0].name, "c2");
}

TEST(FallbackUnits, TheLayersMakingAFloatHeadsInput) {
  const auto m = silu_relu_model();
  // c2 (op 3) float: the unit making its input (c1 with its SiLU) is offered.
  auto units = head_input_units(m.graph, {3});
  ASSERT_EQ(units.size(), 1u);
  EXPECT_EQ(units[0].name, "c1");
  EXPECT_TRUE(head_input_units(m.graph, {}).empty());
  // A float ADD reading c1's SiLU is not a head convolution.
  EXPECT_TRUE(head_input_units(m.graph, {5}).empty());
}

TEST(OutputProbe, ScoresHowCloseTheOutputsStay) {
  const auto m = silu_relu_model();
  auto probe = OutputProbe::create(m, random_inputs(4));
  ASSERT_TRUE(probe.ok()) << probe.status().message();
  // The float model itself: no error at all.
  std::vector<int32_t> identity(m.graph.tensors.size());
  for (size_t i = 0; i < identity.size(); ++i) identity[i] = static_cast<int32_t>(i);
  auto same = (*probe)->score_db(m, identity);
  ASSERT_TRUE(same.ok()) << same.status().message();
  EXPECT_GE(*same, 300.0);

  RangeMap ranges = calibrated_ranges(m);
  auto good = quantize_integer(m, ranges, {}, nullptr);
  ASSERT_TRUE(good.ok()) << good.status().message();
  auto good_db = (*probe)->score_db(good->model, good->tensor_map);
  ASSERT_TRUE(good_db.ok()) << good_db.status().message();
  EXPECT_GT(*good_db, 20.0);
  EXPECT_LT(*good_db, 300.0);
  // A range that clips most of c2 (the pre-activation inside the second unit) costs agreement.
  ranges["c2"] = Range{-0.05f, 0.05f};
  auto bad = quantize_integer(m, ranges, {}, nullptr);
  ASSERT_TRUE(bad.ok());
  auto bad_db = (*probe)->score_db(bad->model, bad->tensor_map);
  ASSERT_TRUE(bad_db.ok());
  EXPECT_LT(*bad_db, *good_db - 6.0);

  // Ranking: the unit holding the clipped c2 gains most from float.
  double base = 0;
  auto ranked = rank_units(m, ranges, {}, **probe, &base, nullptr);
  ASSERT_TRUE(ranked.ok()) << ranked.status().message();
  ASSERT_EQ(ranked->size(), 2u);
  EXPECT_NEAR(base, *bad_db, 1e-9);
  EXPECT_EQ((*ranked)[0].name, "c2");
  EXPECT_GT((*ranked)[0].gain_db, 6.0);
  EXPECT_GE((*ranked)[0].gain_db, (*ranked)[1].gain_db);

  // Prefixes: k = 0 is the base; the MACs budget bounds k.
  const auto units = fallback_units(m.graph, {});
  auto scores = score_prefixes(m, ranges, {}, units, units[0].macs, **probe, nullptr);
  ASSERT_TRUE(scores.ok()) << scores.status().message();
  ASSERT_EQ(scores->size(), 2u);
  EXPECT_NEAR((*scores)[0], base, 1e-9);
  scores = score_prefixes(m, ranges, {}, units, 1 << 30, **probe, nullptr);
  ASSERT_TRUE(scores.ok());
  ASSERT_EQ(scores->size(), 3u);
  EXPECT_GT((*scores)[2], (*scores)[0] + 6.0);
}

TEST(OutputProbe, BadSamplesAreErrors) {
  const auto m = silu_relu_model();
  EXPECT_FALSE(OutputProbe::create(m, {}).ok());
  EXPECT_FALSE(OutputProbe::create(m, {std::vector<uint8_t>(5)}).ok());
}

TEST(CalibrationTable, FallbackListRoundTripsAndIsChecked) {
  CalibrationTable t;
  t.tensors["x"].range = {-1.f, 1.f};
  t.fallback = std::vector<std::string>{"conv a", "conv b"};
  auto back = table_from_json(table_to_json(t), "t");
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_TRUE(back->fallback.has_value());
  EXPECT_EQ(*back->fallback, *t.fallback);
  t.fallback.reset();
  back = table_from_json(table_to_json(t), "t");
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->fallback.has_value());
  for (const char* bad : {R"({"tensors": {}, "fallback": "conv"})", R"({"tensors": {}, "fallback": [3]})"}) {
    auto r = table_from_json(bad, "bad.json");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_THAT(r.status().message(), ::testing::HasSubstr("fallback"));
  }
}

// --- qdet quantize --max-map-drop on the SSD (float, then int8) ------------------------------

std::string qdet_cmd() { return std::string(QDET_BINARY); }

TEST(QuantizeCli, MaxMapDropSearchesInSensitivityOrder) {
  const auto ssd = data_dir() / "models" / "ssd_mobilenet_v1_1_metadata_1.tflite";
  const auto calib = data_dir() / "coco" / "calib-111";
  const auto val = data_dir() / "coco" / "val2017-139";
  QDET_REQUIRE_PATH(ssd);
  QDET_REQUIRE_PATH(calib);
  QDET_REQUIRE_PATH(val);
  const auto dir = ::qdet::testing::scratch_dir();
  std::string log;
  const std::string f = (dir / "f.tflite").string();
  ASSERT_EQ(::qdet::testing::run_command(qdet_cmd() + " quantize '" + ssd.string() + "' --mode float -o '" + f + "'", &log), 0) << log;
  const std::string common = qdet_cmd() + " quantize '" + f + "' --mode int8 --calib '" + calib.string() +
                             "' --calib-count 2 --fallback-images 2 --eval-images '" + (val / "images").string() +
                             "' --eval-annotations '" + (val / "instances_val2017_subset.json").string() +
                             "' --eval-limit 3";
  // A budget any model meets: one trial, the head-aware model as it is.
  const fs::path easy = dir / "easy.tflite";
  ASSERT_EQ(::qdet::testing::run_command(common + " --max-map-drop 100 -o '" + easy.string() + "'", &log), 0) << log;
  EXPECT_THAT(log, ::testing::HasSubstr("accuracy search (AP on"));
  EXPECT_THAT(log, ::testing::HasSubstr("  0 layers back to float: AP"));
  EXPECT_THAT(log, ::testing::HasSubstr("budget (drop <= 100.00): met"));
  EXPECT_TRUE(tflite::load_tflite(easy).ok());
  // No drop allowed, two trials at most: the second trial has the most sensitive layer in float;
  // whichever scored best is written, with a warning when the budget was not met.
  const fs::path strict = dir / "strict.tflite";
  ASSERT_EQ(::qdet::testing::run_command(common + " --max-map-drop 0 --max-trials 2 -o '" + strict.string() + "'", &log), 0) << log;
  EXPECT_THAT(log, ::testing::HasSubstr("accuracy search (AP on"));
  if (log.find("NOT met") != std::string::npos) {
    EXPECT_THAT(log, ::testing::HasSubstr("  1 layers back to float: AP"));
    EXPECT_THAT(log, ::testing::HasSubstr("accuracy budget not met"));
  }
  auto table = load_table(dir / "strict.calib.json");
  ASSERT_TRUE(table.ok()) << table.status().message();
  ASSERT_TRUE(table->fallback.has_value());
  EXPECT_TRUE(tflite::load_tflite(strict).ok());

  // Usage errors leave no file.
  const fs::path none = dir / "none.tflite";
  EXPECT_NE(::qdet::testing::run_command(qdet_cmd() + " quantize '" + f + "' --mode int8 --calib '" +
                                             calib.string() + "' --max-map-drop 1 -o '" + none.string() + "'", &log), 0);
  EXPECT_THAT(log, ::testing::HasSubstr("--eval-images"));
  EXPECT_NE(::qdet::testing::run_command(qdet_cmd() + " quantize '" + f + "' --mode fp16 --max-map-drop 1 --eval-images '" +
                                             (val / "images").string() + "' --eval-annotations '" +
                                             (val / "instances_val2017_subset.json").string() + "' -o '" +
                                             none.string() + "'", &log), 0);
  EXPECT_THAT(log, ::testing::HasSubstr("int8 and int16x8"));
  EXPECT_FALSE(fs::exists(none));
}

}  // namespace
}  // namespace qdet::quant
