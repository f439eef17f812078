// COCO's class table lives once, in detect/labels.h; here it is checked against the official
// val2017 annotations' `categories`.
#include <gtest/gtest.h>

#include "coco/dataset.h"
#include "detect/labels.h"
#include "test_support.h"

namespace qdet::coco {
namespace {

TEST(CocoLabels, TheElevenUnusedIdsHaveNoClass) {
  for (int id : {0, 12, 26, 29, 30, 45, 66, 68, 69, 71, 83}) EXPECT_EQ(detect::coco_id_to_80(id), -1) << id;
  EXPECT_EQ(detect::coco_id_to_80(91), -1);
  EXPECT_EQ(detect::coco_id_to_80(-1), -1);
  EXPECT_EQ(detect::coco80_to_id(11), 13);  // stop sign, after the gap at 12
  EXPECT_EQ(detect::coco80_to_id(80), -1);
}

// The table equals the `categories` of the official val2017 annotations.
TEST(CocoLabels, MatchOfficialVal2017Categories) {
  auto path = data_dir() / "coco" / "val2017-139" / "instances_val2017_subset.json";
  QDET_REQUIRE_PATH(path);
  auto ds = load_instances(path);
  ASSERT_TRUE(ds.ok()) << ds.status().message();
  ASSERT_EQ(ds->categories.size(), 80u);
  for (size_t i = 0; i < ds->categories.size(); ++i) {
    const CategoryInfo& c = ds->categories[i];
    EXPECT_EQ(detect::coco80_to_id(static_cast<int>(i)), c.id);
    EXPECT_EQ(detect::coco_id_to_80(static_cast<int>(c.id)), static_cast<int>(i));
    EXPECT_EQ(detect::coco80_names()[i], c.name);
  }
}

}  // namespace
}  // namespace qdet::coco
