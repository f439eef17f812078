#include "detect/labels.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "test_support.h"

namespace qdet::detect {
namespace {

TEST(Labels, CocoMapsRoundTrip) {
  auto names = coco80_names();
  ASSERT_EQ(names.size(), 80u);
  EXPECT_STREQ(names[0], "person");
  EXPECT_STREQ(names[16], "dog");
  EXPECT_STREQ(names[79], "toothbrush");
  EXPECT_EQ(coco80_to_id(0), 1);
  EXPECT_EQ(coco80_to_id(11), 13);  // stop sign: id 12 unused
  EXPECT_EQ(coco80_to_id(79), 90);
  EXPECT_EQ(coco80_to_id(80), -1);
  EXPECT_EQ(coco80_to_id(-1), -1);
  int unused = 0;
  for (int id = 0; id <= 91; ++id) {
    const int idx = coco_id_to_80(id);
    if (idx < 0) {
      ++unused;
      continue;
    }
    EXPECT_EQ(coco80_to_id(idx), id);
  }
  EXPECT_EQ(unused, 12);  // 0, the 11 gaps (12 26 29 30 45 66 68 69 71 83 91)
}

TEST(Labels, MatchTheSharedLabelFiles) {
  const auto path80 = data_dir() / "models" / "labels" / "coco80.names";
  const auto path91 = data_dir() / "models" / "labels" / "ssd_labelmap91.txt";
  QDET_REQUIRE_PATH(path80);
  QDET_REQUIRE_PATH(path91);
  auto l80 = load_labels(path80);
  ASSERT_TRUE(l80.ok()) << l80.status().to_string();
  ASSERT_EQ(l80->size(), 80u);
  // Darknet's coco.names spells six classes its own way; the built-in names are the official
  // ones of instances_val2017.json (as in the SSD's 91-line map below).
  const std::map<std::string, std::string> darknet = {
      {"motorbike", "motorcycle"}, {"aeroplane", "airplane"},      {"sofa", "couch"},
      {"pottedplant", "potted plant"}, {"diningtable", "dining table"}, {"tvmonitor", "tv"}};
  for (int i = 0; i < 80; ++i) {
    auto it = darknet.find((*l80)[i]);
    EXPECT_EQ(it == darknet.end() ? (*l80)[i] : it->second, coco80_names()[i]) << i;
  }
  auto l91 = load_labels(path91);
  ASSERT_TRUE(l91.ok());
  ASSERT_EQ(l91->size(), 91u);
  for (int id = 0; id <= 90; ++id) {
    const int idx = coco_id_to_80(id);
    if (idx < 0)
      EXPECT_EQ((*l91)[id], "???") << id;
    else
      EXPECT_EQ((*l91)[id], coco80_names()[idx]) << id;
  }
}

TEST(Labels, FileParsing) {
  auto dir = testing::scratch_dir();
  std::ofstream(dir / "a.names") << "cat\r\ndog  \n\nbird\n\n\n";
  auto l = load_labels(dir / "a.names");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(*l, (std::vector<std::string>{"cat", "dog", "", "bird"}));
  EXPECT_EQ(label_name(*l, 1), "dog");
  EXPECT_EQ(label_name(*l, 2), "class 2");
  EXPECT_EQ(label_name(*l, 9), "class 9");
  std::ofstream(dir / "empty.txt") << "\n\n";
  auto e = load_labels(dir / "empty.txt");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(), (dir / "empty.txt").string() + ": label file has no labels");
  EXPECT_FALSE(load_labels(dir / "missing.txt").ok());
  auto builtin = resolve_labels("coco80");
  ASSERT_TRUE(builtin.ok());
  EXPECT_EQ(builtin->size(), 80u);
}

}  // namespace
}  // namespace qdet::detect
