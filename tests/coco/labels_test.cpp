#include "coco/labels.h"

#include <gtest/gtest.h>

#include <set>

#include "coco/dataset.h"
#include "test_support.h"

namespace qdet::coco {
namespace {

TEST(CocoLabels, ContiguousAndOfficialIdsRoundTrip) {
  std::set<int> ids;
  for (int c = 0; c < kNumCocoClasses; ++c) {
    int id = coco_category_id_from_class80(c);
    ASSERT_GE(id, 1);
    ASSERT_LE(id, kMaxCocoCategoryId);
    EXPECT_EQ(coco_class80_from_category_id(id), c);
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 80u);
  EXPECT_EQ(coco_category_id_from_class80(0), 1);
  EXPECT_EQ(coco_category_id_from_class80(11), 13);  // stop sign, after the gap at 12
  EXPECT_EQ(coco_category_id_from_class80(79), 90);
  EXPECT_EQ(coco_category_id_from_class80(80), -1);
  EXPECT_EQ(coco_category_id_from_class80(-1), -1);
}

TEST(CocoLabels, TheTenGapsHaveNoClass) {
  for (int id : {0, 12, 26, 29, 30, 45, 66, 68, 69, 71, 83, 91, -3}) {
    EXPECT_EQ(coco_class80_from_category_id(id), -1) << id;
    EXPECT_EQ(coco_category_name(id), "") << id;
  }
}

TEST(CocoLabels, Names) {
  EXPECT_EQ(coco_category_name(1), "person");
  EXPECT_EQ(coco_category_name(13), "stop sign");
  EXPECT_EQ(coco_category_name(90), "toothbrush");
  EXPECT_EQ(coco_class80_name(0), "person");
  EXPECT_EQ(coco_class80_name(79), "toothbrush");
  EXPECT_EQ(coco_class80_name(80), "");
  EXPECT_EQ(coco_category_ids80()[62], 72);  // tv
}

// The tables equal the `categories` of the official val2017 annotations.
TEST(CocoLabels, MatchOfficialVal2017Categories) {
  auto path = data_dir() / "coco" / "val2017-139" / "instances_val2017_subset.json";
  QDET_REQUIRE_PATH(path);
  auto ds = load_instances(path);
  ASSERT_TRUE(ds.ok()) << ds.status().message();
  ASSERT_EQ(ds->categories.size(), 80u);
  for (size_t i = 0; i < ds->categories.size(); ++i) {
    const CategoryInfo& c = ds->categories[i];
    EXPECT_EQ(coco_category_id_from_class80(static_cast<int>(i)), c.id);
    EXPECT_EQ(coco_category_name(static_cast<int>(c.id)), c.name);
  }
}

}  // namespace
}  // namespace qdet::coco
