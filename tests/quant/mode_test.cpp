// The modes table: every mode reachable by its name, its study name and its aliases.
#include "quant/mode.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace qdet::quant {
namespace {

TEST(ModeTable, EveryModeByEveryName) {
  std::set<std::string> names;
  for (const ModeInfo& m : mode_table()) {
    EXPECT_EQ(&mode_info(m.mode), &m);
    EXPECT_STREQ(mode_name(m.mode), m.name);
    for (const char* n : {m.name, m.study_name}) {
      auto p = parse_mode(n);
      ASSERT_TRUE(p.ok()) << n;
      EXPECT_EQ(*p, m.mode) << n;
    }
    EXPECT_TRUE(names.insert(m.study_name).second) << "study names are unique: " << m.study_name;
    EXPECT_EQ(m.needs_calibration, m.activations != DType::kFloat32) << m.name;
  }
  EXPECT_EQ(*parse_mode("fp32"), Mode::kFloat);
  EXPECT_EQ(*parse_mode("float32"), Mode::kFloat);
  EXPECT_EQ(*parse_mode("16x8"), Mode::kInt16x8);
  EXPECT_STREQ(mode_table().front().study_name, "fp32");  // the study's baseline comes first
}

TEST(ModeTable, UnknownModeListsTheNames) {
  auto p = parse_mode("int4");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(), "unknown mode 'int4' (float, fp16, dynamic, int8, int16x8)");
  EXPECT_FALSE(parse_mode("").ok());
  EXPECT_FALSE(parse_mode("fp").ok());
}

}  // namespace
}  // namespace qdet::quant
