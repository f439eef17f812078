#include "quant/calib_table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.h"

namespace qdet::quant {
namespace {

TEST(CalibrationTable, RoundTripsThroughJsonAndAFile) {
  CalibrationTable t;
  t.model = "m.tflite";
  t.method = "mse";
  t.images = 3;
  t.tensors["a"] = {{-1.5f, 2.25f}, "mse", {-3.f, 9.f}, true};
  t.tensors["b/c:0"] = {{0.f, 1.f}, "", {}, false};
  const auto path = ::qdet::testing::scratch_dir() / "table.json";
  ASSERT_TRUE(save_table(path, t).ok());
  auto back = load_table(path);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->model, "m.tflite");
  EXPECT_EQ(back->images, 3);
  EXPECT_EQ(back->tensors.at("a").range, (Range{-1.5f, 2.25f}));
  EXPECT_EQ(back->tensors.at("a").observed, (Range{-3.f, 9.f}));
  EXPECT_EQ(back->tensors.at("b/c:0").range, (Range{0.f, 1.f}));
  EXPECT_EQ(ranges_of(*back).size(), 2u);
  EXPECT_FALSE(back->gptq_images.has_value());
  t.gptq_images = 32;
  auto with_gptq = table_from_json(table_to_json(t), "t.json");
  ASSERT_TRUE(with_gptq.ok()) << with_gptq.status().message();
  ASSERT_TRUE(with_gptq->gptq_images.has_value());
  EXPECT_EQ(*with_gptq->gptq_images, 32);
}

TEST(CalibrationTable, BadInputHasClearErrors) {
  auto msg = [](const char* text) {
    auto r = table_from_json(text, "t.json");
    return r.ok() ? std::string("ok") : r.status().message();
  };
  EXPECT_THAT(msg("{"), ::testing::StartsWith("t.json: not valid JSON"));
  EXPECT_EQ(msg("[]"), "t.json: expected a JSON object");
  EXPECT_EQ(msg("{}"), "t.json: missing object \"tensors\"");
  EXPECT_EQ(msg(R"({"tensors": {"x": {"max": 1}}})"), "t.json: tensor 'x': missing \"min\"");
  EXPECT_EQ(msg(R"({"tensors": {"x": {"min": "a", "max": 1}}})"),
            "t.json: tensor 'x': \"min\" is not a number");
  EXPECT_EQ(msg(R"({"tensors": {"x": {"min": 2, "max": 1}}})"), "t.json: tensor 'x': min 2 > max 1");
  EXPECT_EQ(msg(R"({"format": "other", "tensors": {}})"),
            "t.json: format is \"other\", expected \"qdet-calibration\"");
  EXPECT_EQ(msg(R"({"tensors": {"x": {"min": -1e39, "max": 1}}})"),
            "t.json: tensor 'x': \"min\" is not finite");
  EXPECT_EQ(msg(R"({"tensors": {}, "gptq_images": 0})"),
            "t.json: \"gptq_images\" is 0, not a positive image count");
  EXPECT_EQ(msg(R"({"tensors": {}, "gptq_images": "32"})"),
            "t.json: \"gptq_images\" is \"32\", not a positive image count");
  EXPECT_FALSE(load_table("/nonexistent/table.json").ok());
}

}  // namespace
}  // namespace qdet::quant
