#include "coco/results.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "base/file.h"
#include "test_support.h"

namespace qdet::coco {
namespace {

TEST(Results, ParsesAList) {
  auto r = parse_results(R"([
    {"image_id": 42, "category_id": 18, "bbox": [258.15, 41.29, 348.26, 243.78], "score": 0.236},
    {"image_id": 73, "category_id": 11, "bbox": [61, 22.75, 504, 609.67], "score": 1, "id": 9,
     "area": 3, "segmentation": [[1, 2, 3, 4]]}])");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].image_id, 42);
  EXPECT_EQ((*r)[0].category_id, 18);
  EXPECT_EQ((*r)[0].bbox.x, 258.15);
  EXPECT_EQ((*r)[0].bbox.h, 243.78);
  EXPECT_EQ((*r)[0].score, 0.236);
  EXPECT_EQ((*r)[1].score, 1.0);
}

// rafaelpadilla's fixture stores detections as a dataset dict.
TEST(Results, AcceptsADatasetDictOfDetections) {
  auto r = parse_results(R"({"images": [], "annotations": [
    {"image_id": 1, "category_id": 2, "bbox": [0, 0, 1, 1], "score": 0.5}]})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].category_id, 2);
}

TEST(Results, EmptyListIsNoDetections) {
  auto r = parse_results("[]");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

// Written text reads back to the same doubles, bit for bit.
TEST(Results, WriteThenReadIsExact) {
  std::vector<Detection> dets = {
      {139, 1, {417.3332824707031, 159.27003479003906, 47.66064453125, 143.00193786621094},
       0.9949821829795837},
      {285, 90, {0.1, 1e-7, 1234567.891, 0}, 0.1 + 0.2},
      {0, 0, {-3, -0.5, 2, 3}, -1e-300},
  };
  auto path = testing::scratch_dir() / "dt.json";
  ASSERT_TRUE(write_results(path, dets).ok());
  auto back = load_results(path);
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->size(), dets.size());
  for (size_t i = 0; i < dets.size(); ++i) {
    EXPECT_EQ((*back)[i].image_id, dets[i].image_id);
    EXPECT_EQ((*back)[i].category_id, dets[i].category_id);
    EXPECT_EQ((*back)[i].bbox.x, dets[i].bbox.x);
    EXPECT_EQ((*back)[i].bbox.y, dets[i].bbox.y);
    EXPECT_EQ((*back)[i].bbox.w, dets[i].bbox.w);
    EXPECT_EQ((*back)[i].bbox.h, dets[i].bbox.h);
    EXPECT_EQ((*back)[i].score, dets[i].score);
  }
}

TEST(Results, WriteRefusesNaN) {
  std::vector<Detection> dets = {{1, 1, {0, 0, 1, 1}, std::nan("")}};
  auto path = testing::scratch_dir() / "dt.json";
  Status s = write_results(path, dets);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "detection 0: score is nan");
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(Results, ValidateDetection) {
  EXPECT_TRUE(validate_detection({1, 1, {0, 0, 0, 0}, 0.5}, 0).ok());
  EXPECT_EQ(validate_detection({1, 1, {0, 0, -1, 2}, 0.5}, 3).message(),
            "detection 3: bbox [0, 0, -1, 2] has a negative size");
  EXPECT_EQ(validate_detection({1, 1, {std::numeric_limits<double>::infinity(), 0, 1, 2}, 0.5}, 4)
                .message(),
            "detection 4: bbox [inf, 0, 1, 2] is not finite");
  EXPECT_EQ(validate_detection({1, 1, {0, 0, 1e300, 1e300}, 0.5}, 5).message(),
            "detection 5: bbox [0, 0, 1e+300, 1e+300] is too large");
}

struct BadCase {
  const char* json;
  const char* message;
};

class ResultsBadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(ResultsBadInput, OneClearError) {
  auto r = parse_results(GetParam().json, "dt.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ResultsBadInput,
    ::testing::Values(
        // Python's json.dump writes NaN, which is not JSON.
        BadCase{"[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 1, 1],\n  \"score\": NaN}]",
                "dt.json: invalid JSON at line 2, column 12 (byte 68): syntax error while parsing "
                "value - invalid literal; last read: '\"score\": N'"},
        BadCase{"42", "dt.json: not a COCO results file: expected a list of detections or an object "
                      "with an 'annotations' list, found an integer"},
        BadCase{R"({"images": []})", "dt.json: not a COCO results file: expected a list of "
                                     "detections or an object with an 'annotations' list, found an "
                                     "object"},
        BadCase{"[[1, 2]]", "dt.json: detection 0 must be an object, not an array"},
        BadCase{R"([{"category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}])",
                "dt.json: detection 0: missing 'image_id'"},
        BadCase{R"([{"image_id": 1, "bbox": [0, 0, 1, 1], "score": 1}])",
                "dt.json: detection 0: missing 'category_id'"},
        BadCase{R"([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}])",
                "dt.json: detection 0: missing 'score'"},
        BadCase{R"([{"image_id": 1, "category_id": 1, "score": 1}])",
                "dt.json: detection 0: missing 'bbox'"},
        BadCase{R"([{"image_id": 1, "category_id": 1, "score": 1, "segmentation": {"counts": "x"}}])",
                "dt.json: detection 0: segmentation results without 'bbox' are not supported "
                "(qdet evaluates boxes)"},
        BadCase{R"([{"image_id": "1", "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}])",
                "dt.json: detection 0: 'image_id' must be an integer, not a string"},
        BadCase{R"([{"image_id": 1, "category_id": 1.5, "bbox": [0, 0, 1, 1], "score": 1}])",
                "dt.json: detection 0: 'category_id' must be an integer, not a floating-point number"},
        BadCase{R"([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": "high"}])",
                "dt.json: detection 0: 'score' must be a number, not a string"},
        BadCase{R"([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": true}])",
                "dt.json: detection 0: 'score' must be a number, not a boolean"},
        BadCase{R"([{"image_id": 1, "category_id": 1, "bbox": {"x": 0}, "score": 1}])",
                "dt.json: detection 0: 'bbox' must be an array of 4 numbers [x,y,w,h], not an object"},
        BadCase{R"([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1},
                    {"image_id": 1, "category_id": 1, "bbox": [5, 5, -1, 1], "score": 1}])",
                "dt.json: detection 1: bbox [5, 5, -1, 1] has a negative size"}));

}  // namespace
}  // namespace qdet::coco
