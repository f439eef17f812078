// The memory budget: sizes as users write them, the default from the machine, and the error a
// size over the budget gives.
#include <gmock/gmock.h>

#include "base/memory.h"

namespace qdet {
namespace {

TEST(MemoryBudget, ParsesSizesWithBinaryUnits) {
  EXPECT_EQ(parse_byte_size("4096"), 4096u);
  EXPECT_EQ(parse_byte_size("64k"), 65536u);
  EXPECT_EQ(parse_byte_size("512M"), 512u << 20);
  EXPECT_EQ(parse_byte_size("2G"), uint64_t{2} << 30);
  EXPECT_EQ(parse_byte_size("1.5GiB"), uint64_t{3} << 29);
  EXPECT_EQ(parse_byte_size("1T"), uint64_t{1} << 40);
  EXPECT_EQ(parse_byte_size("100MB"), 100u << 20);
  for (const char* bad : {"", "lots", "0", "-1G", "12X", "G", "1e99", "nan"})
    EXPECT_EQ(parse_byte_size(bad), std::nullopt) << bad;
}

TEST(MemoryBudget, DefaultIsHalfTheMachineAndCanBeSet) {
  const uint64_t physical = physical_memory_bytes();
  ASSERT_GT(physical, 0u);
  EXPECT_EQ(memory_budget(), physical / 2);
  set_memory_budget(1 << 20);
  EXPECT_EQ(memory_budget(), 1u << 20);
  EXPECT_TRUE(check_memory_budget(1 << 20, "x").ok());
  Status s = check_memory_budget((1 << 20) + 1, "tensor 'w'");
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange);
  EXPECT_EQ(s.message(), "tensor 'w' needs 1.0 MiB, over the memory budget of 1.0 MiB (--max-memory)");
  set_memory_budget(0);
  EXPECT_EQ(memory_budget(), physical / 2);
}

TEST(MemoryBudget, FormatsBytes) {
  EXPECT_EQ(format_bytes(300), "300 B");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(uint64_t{3} << 30), "3.0 GiB");
  EXPECT_EQ(format_bytes(uint64_t{2} << 40), "2.0 TiB");
}

}  // namespace
}  // namespace qdet
