// Every bbox case of ../shared/fixtures/cocoeval against the numbers pycocotools gives.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>

#include "coco/dataset.h"
#include "coco/evaluator.h"
#include "coco/results.h"
#include "test_support.h"

namespace qdet::coco {
namespace {

std::filesystem::path fixture(const std::string& name) {
  return fixtures_dir() / "cocoeval" / name;
}

struct BboxCase {
  std::filesystem::path gt, dt;
  std::vector<double> expected;
  double tolerance = 0;
};

// Reads the bbox case of a folder's expected.json; `key` names the list holding the 12 numbers.
BboxCase read_case(const std::string& folder, const std::string& key = "expected") {
  std::ifstream in(fixture(folder) / "expected.json");
  nlohmann::json j = nlohmann::json::parse(in);
  for (const auto& c : j["cases"]) {
    if (c["iouType"] != "bbox") continue;
    BboxCase out;
    out.gt = fixture(folder) / c["gt"].get<std::string>();
    out.dt = fixture(folder) / c["dt"].get<std::string>();
    out.expected = c[key].get<std::vector<double>>();
    out.tolerance = c.value("tolerance", 1e-12);
    return out;
  }
  ADD_FAILURE() << folder << ": no bbox case";
  return {};
}

std::array<double, kNumStats> evaluate_files(const BboxCase& c, int threads = 1) {
  auto gt = load_instances(c.gt);
  EXPECT_TRUE(gt.ok()) << gt.status().message();
  auto dt = load_results(c.dt);
  EXPECT_TRUE(dt.ok()) << dt.status().message();
  if (!gt.ok() || !dt.ok()) return {};
  EvalOptions options;
  options.threads = threads;
  auto r = evaluate_detections(*gt, *dt, options);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? r->stats : std::array<double, kNumStats>{};
}

void expect_stats(const std::array<double, kNumStats>& got, const std::vector<double>& want,
                  double tolerance) {
  ASSERT_EQ(want.size(), static_cast<size_t>(kNumStats));
  for (int i = 0; i < kNumStats; ++i)
    EXPECT_NEAR(got[i], want[i], tolerance) << stat_name(i) << " (stat " << i << ")";
}

class CocoevalFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(CocoevalFixture, BboxStatsMatchPycocotools) {
  QDET_REQUIRE_PATH(fixture(GetParam()) / "expected.json");
  BboxCase c = read_case(GetParam());
  // The stated tolerance where it is looser (the rafaelpadilla numbers have 6 places, the
  // torchmetrics ones are float32), 1e-12 everywhere else.
  double tolerance = std::max(1e-12, std::min(c.tolerance, 1e-6));
  if (c.tolerance <= 1e-10) tolerance = 1e-12;
  expect_stats(evaluate_files(c), c.expected, tolerance);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CocoevalFixture,
                         ::testing::Values("cocoapi_val2014_100", "rafaelpadilla_val2014_100_nocrowd",
                                           "detectron2_tiny", "fce_basic_segm",
                                           "torchmetrics_single_box"));

// The local pycocotools 2.0.11 runs have all 12 numbers to the last digit.
TEST(CocoevalFixtureFull, MmdetStyleDummyAllTwelve) {
  QDET_REQUIRE_PATH(fixture("mmdet_style_dummy") / "expected.json");
  BboxCase c = read_case("mmdet_style_dummy", "pycocotools_2_0_11_local_full");
  expect_stats(evaluate_files(c), c.expected, 1e-12);
}

TEST(CocoevalFixtureFull, TorchmetricsSingleBoxAllTwelve) {
  QDET_REQUIRE_PATH(fixture("torchmetrics_single_box") / "expected.json");
  BboxCase c = read_case("torchmetrics_single_box", "pycocotools_2_0_11_local_full");
  expect_stats(evaluate_files(c), c.expected, 1e-12);
}

TEST(CocoevalFixtureFull, ThreadCountDoesNotChangeTheNumbers) {
  QDET_REQUIRE_PATH(fixture("cocoapi_val2014_100") / "expected.json");
  BboxCase c = read_case("cocoapi_val2014_100");
  auto one = evaluate_files(c, 1);
  for (int threads : {2, 3, 8}) {
    auto many = evaluate_files(c, threads);
    for (int i = 0; i < kNumStats; ++i) EXPECT_EQ(one[i], many[i]) << threads << " threads, " << stat_name(i);
  }
}

}  // namespace
}  // namespace qdet::coco
