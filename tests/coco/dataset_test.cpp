#include "coco/dataset.h"

#include <gtest/gtest.h>

#include <random>

#include "base/file.h"
#include "coco/results.h"
#include "test_support.h"

namespace qdet::coco {
namespace {

#define ANN_TEXT \
  R"({"images": [{"id": 1}], "categories": [], "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "area": 1.2.3}]})"

constexpr const char* kGood = R"({
  "info": {"description": "x"},
  "images": [{"id": 7, "width": 640, "height": 480, "file_name": "a.jpg"}, {"id": 3}],
  "annotations": [
    {"id": 1, "image_id": 7, "category_id": 18, "bbox": [1.5, 2, 30, 40.25], "area": 1000.5,
     "iscrowd": 0, "segmentation": [[1, 2, 3, 4, 5, 6]]},
    {"id": 2, "image_id": 3, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 80, "iscrowd": 1,
     "ignore": 1, "segmentation": {"size": [10, 10], "counts": "abc"}}
  ],
  "categories": [{"id": 1, "name": "person", "supercategory": "person"}, {"id": 18, "name": "dog"}]
})";

TEST(Instances, ParsesImagesAnnotationsCategories) {
  auto ds = parse_instances(kGood, "gt.json");
  ASSERT_TRUE(ds.ok()) << ds.status().message();
  ASSERT_EQ(ds->images.size(), 2u);
  EXPECT_EQ(ds->images[0].id, 7);
  EXPECT_EQ(ds->images[0].width, 640);
  EXPECT_EQ(ds->images[0].file_name, "a.jpg");
  EXPECT_EQ(ds->images[1].width, 0);
  ASSERT_EQ(ds->annotations.size(), 2u);
  const Annotation& a = ds->annotations[0];
  EXPECT_EQ(a.id, 1);
  EXPECT_EQ(a.image_id, 7);
  EXPECT_EQ(a.category_id, 18);
  EXPECT_EQ(a.bbox.x, 1.5);
  EXPECT_EQ(a.bbox.h, 40.25);
  EXPECT_EQ(a.area, 1000.5);
  EXPECT_FALSE(a.iscrowd);
  EXPECT_TRUE(ds->annotations[1].iscrowd);
  EXPECT_TRUE(ds->annotations[1].ignore);
  ASSERT_NE(ds->find_category(18), nullptr);
  EXPECT_EQ(ds->find_category(18)->name, "dog");
  EXPECT_EQ(ds->find_image(3), &ds->images[1]);
  EXPECT_EQ(ds->find_image(4), nullptr);
}

TEST(Instances, LoadsTheOfficialVal2017Subset) {
  auto path = data_dir() / "coco" / "val2017-139" / "instances_val2017_subset.json";
  QDET_REQUIRE_PATH(path);
  auto ds = load_instances(path);
  ASSERT_TRUE(ds.ok()) << ds.status().message();
  EXPECT_EQ(ds->images.size(), 139u);
  EXPECT_EQ(ds->annotations.size(), 1082u);
  EXPECT_EQ(ds->categories.size(), 80u);
  int crowd = 0, small = 0, medium = 0, large = 0;
  for (const Annotation& a : ds->annotations) {
    crowd += a.iscrowd;
    if (a.iscrowd) continue;
    (a.area < 32 * 32 ? small : a.area < 96 * 96 ? medium : large)++;
  }
  EXPECT_EQ(crowd, 12);
  // The data README's counts (514 small, 296 medium, 260 large) are of non-crowd annotations.
  EXPECT_EQ(small + medium + large, 1070);
}

// A syntax error names the file, the line, the column and the byte.
TEST(Instances, MalformedJsonGivesThePosition) {
  auto ds = parse_instances("{\n  \"images\": [\n    {\"id\": 1,}\n  ]\n}", "gt.json");
  ASSERT_FALSE(ds.ok());
  EXPECT_EQ(ds.status().code(), StatusCode::kParseError);
  EXPECT_EQ(ds.status().message().rfind("gt.json: invalid JSON at line 3, column 14 (byte 29): ", 0), 0u)
      << ds.status().message();
}

TEST(Instances, TruncatedFileGivesThePosition) {
  auto ds = parse_instances(R"({"images": [{"id": 1}], "annotations": [)", "cut.json");
  ASSERT_FALSE(ds.ok());
  EXPECT_EQ(ds.status().message().rfind("cut.json: invalid JSON at line 1, column ", 0), 0u)
      << ds.status().message();
}

TEST(Instances, TrailingContentIsAnError) {
  auto ds = parse_instances(R"({"images": [], "categories": [], "annotations": []} x)", "gt.json");
  ASSERT_FALSE(ds.ok());
  EXPECT_EQ(ds.status().message(),
            "gt.json: invalid JSON at line 1, column 53 (byte 52): syntax error while parsing value "
            "- invalid literal; last read: '\"annotations\": []} x'; expected end of input");
}

TEST(Instances, MalformedNumberInAField) {
  auto ds = parse_instances(ANN_TEXT, "gt.json");
  ASSERT_FALSE(ds.ok());
  EXPECT_EQ(ds.status().message().rfind("gt.json: invalid JSON at line 1, column ", 0), 0u)
      << ds.status().message();
}

// Skipped values (segmentation here) are checked for structure only: this one is unbalanced.
TEST(Instances, UnbalancedSegmentationIsAnError) {
  auto ds = parse_instances(
      R"({"images": [{"id": 1}], "categories": [], "annotations": [{"id": 1, "image_id": 1,
          "category_id": 1, "bbox": [0, 0, 1, 1], "area": 1, "segmentation": [[1, 2, 3]})",
      "gt.json");
  ASSERT_FALSE(ds.ok());
  EXPECT_EQ(ds.status().message().rfind("gt.json: invalid JSON at line 2, column ", 0), 0u)
      << ds.status().message();
}

TEST(Instances, MissingFileIsAnIoError) {
  auto ds = load_instances(testing::scratch_dir() / "none.json");
  ASSERT_FALSE(ds.ok());
  EXPECT_EQ(ds.status().code(), StatusCode::kIoError);
  EXPECT_NE(ds.status().message().find("none.json: cannot open"), std::string::npos);
}

struct BadCase {
  const char* json;
  const char* message;
};

class InstancesBadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(InstancesBadInput, OneClearError) {
  auto ds = parse_instances(GetParam().json, "gt.json");
  ASSERT_FALSE(ds.ok());
  EXPECT_EQ(ds.status().message(), GetParam().message);
}

#define ANN(body) \
  R"({"images": [{"id": 1}], "categories": [{"id": 1, "name": "a"}], "annotations": [)" body "]}"

INSTANTIATE_TEST_SUITE_P(
    Cases, InstancesBadInput,
    ::testing::Values(
        BadCase{"[1, 2]", "gt.json: not a COCO instances file: the top level is an array, not an object"},
        BadCase{R"({"images": [], "categories": []})",
                "gt.json: not a COCO instances file: no 'annotations' array"},
        BadCase{R"({"images": {}, "categories": [], "annotations": []})",
                "gt.json: 'images' must be an array, not an object"},
        BadCase{R"({"images": [{"id": "1"}], "categories": [], "annotations": []})",
                "gt.json: images[0]: 'id' must be an integer, not a string"},
        BadCase{R"({"images": [{"id": 1.0}], "categories": [], "annotations": []})",
                "gt.json: images[0]: 'id' must be an integer, not a floating-point number"},
        BadCase{R"({"images": [{"width": 3}], "categories": [], "annotations": []})",
                "gt.json: images[0]: missing 'id'"},
        BadCase{R"({"images": [{"id": 1}, {"id": 1}], "categories": [], "annotations": []})",
                "gt.json: images[1]: duplicate image id 1"},
        BadCase{R"({"images": [], "categories": [{"id": 1, "name": 5}], "annotations": []})",
                "gt.json: categories[0]: 'name' must be a string, not an integer"},
        BadCase{ANN(R"({"id": 1, "image_id": 1, "category_id": 1, "area": 4})"),
                "gt.json: annotations[0]: missing 'bbox'"},
        BadCase{ANN(R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2]})"),
                "gt.json: annotations[0]: missing 'area'"},
        BadCase{ANN(R"({"id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "area": 4})"),
                "gt.json: annotations[0]: missing 'image_id'"},
        BadCase{ANN(R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2], "area": 4})"),
                "gt.json: annotations[0]: 'bbox' must be an array of 4 numbers [x,y,w,h], not an "
                "array of 3 values"},
        BadCase{ANN(R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, "0", 2, 2], "area": 4})"),
                "gt.json: annotations[0]: 'bbox' must be an array of 4 numbers [x,y,w,h], not a "
                "string at index 1"},
        BadCase{ANN(R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, -2, 2], "area": 4})"),
                "gt.json: annotations[0]: 'bbox' has a negative size (w=-2, h=2)"},
        BadCase{ANN(R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "area": null})"),
                "gt.json: annotations[0]: 'area' must be a number, not null"},
        BadCase{ANN(R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "area": 4,
                        "iscrowd": "no"})"),
                "gt.json: annotations[0]: 'iscrowd' must be 0 or 1, not a string"},
        BadCase{ANN(R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "area": 1e999})"),
                "gt.json: invalid JSON at line 1, column 158 (byte 157): number overflow parsing "
                "'1e999'"},
        BadCase{ANN(R"({"id": 5, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "area": 4},
                       {"id": 5, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "area": 4})"),
                "gt.json: annotations[1]: duplicate annotation id 5 (also annotations[0])"}));

}  // namespace
}  // namespace qdet::coco

namespace qdet::coco {
namespace {

// Corrupted files end in an error or a dataset, never in a crash (run under QDET_SANITIZE too).
TEST(Instances, RandomCorruptionNeverCrashes) {
  std::mt19937 rng(12345);
  const std::string good = kGood;
  const std::string results = R"([{"image_id": 1, "category_id": 2, "bbox": [1.5, 2, 3, 4], "score": 0.25},
    {"image_id": 3, "category_id": 4, "bbox": [0, 0, 1e3, 2], "score": 1}])";
  const char kBytes[] = "{}[],:\"0123456789.eE-+ tfnaxu\\\n";
  int parsed = 0, refused = 0;
  for (int trial = 0; trial < 600; ++trial) {
    std::string text = trial % 2 ? good : results;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      size_t at = rng() % text.size();
      switch (rng() % 4) {
        case 0: text[at] = kBytes[rng() % (sizeof(kBytes) - 1)]; break;
        case 1: text.erase(at, 1 + rng() % 8); break;
        case 2: text.insert(at, 1, kBytes[rng() % (sizeof(kBytes) - 1)]); break;
        case 3: text.resize(at); break;
      }
    }
    if (trial % 2) {
      auto ds = parse_instances(text, "fuzz.json");
      (ds.ok() ? parsed : refused)++;
      if (!ds.ok()) {
        EXPECT_EQ(ds.status().message().rfind("fuzz.json: ", 0), 0u) << ds.status().message();
      }
    } else {
      auto r = parse_results(text, "fuzz.json");
      (r.ok() ? parsed : refused)++;
      if (!r.ok()) {
        EXPECT_EQ(r.status().message().rfind("fuzz.json: ", 0), 0u) << r.status().message();
      }
    }
  }
  EXPECT_GT(refused, 300);
}

}  // namespace
}  // namespace qdet::coco
