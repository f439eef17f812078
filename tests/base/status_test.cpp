#include "base/status.h"

#include <gtest/gtest.h>

#include "base/file.h"
#include "test_support.h"

namespace qdet {
namespace {

Result<int> parse_positive(int x) {
  if (x <= 0) return invalid_argument("value {} is not positive", x);
  return x;
}

Status twice(int x, int* out) {
  QDET_ASSIGN_OR_RETURN(int v, parse_positive(x));
  *out = 2 * v;
  return ok_status();
}

TEST(Status, CarriesCodeAndMessage) {
  Status s = out_of_range("tensor {} refers to buffer {} of {}", 17, 93, 12);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange);
  EXPECT_EQ(s.message(), "tensor 17 refers to buffer 93 of 12");
  EXPECT_EQ(s.with_context("model.tflite").message(), "model.tflite: tensor 17 refers to buffer 93 of 12");
}

TEST(Status, AssignOrReturnPropagates) {
  int out = 0;
  EXPECT_TRUE(twice(4, &out).ok());
  EXPECT_EQ(out, 8);
  Status s = twice(-1, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "value -1 is not positive");
}

TEST(File, AtomicWriteThenRead) {
  auto dir = testing::scratch_dir();
  ASSERT_TRUE(write_file_atomic(dir / "a.txt", std::string_view("hello")).ok());
  auto text = read_text_file(dir / "a.txt");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "hello");
  // No temporary file is left behind.
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST(File, ErrorsNameThePath) {
  auto r = read_file("/nonexistent/qdet/x.bin");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_NE(r.status().message().find("/nonexistent/qdet/x.bin"), std::string::npos);
  Status w = write_file_atomic("/nonexistent/qdet/y.bin", std::string_view("x"));
  EXPECT_FALSE(w.ok());
}

}  // namespace
}  // namespace qdet
