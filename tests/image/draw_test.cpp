#include "image/draw.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "image/codec.h"
#include "test_support.h"

namespace qdet::image {
namespace {

TEST(Draw, RectOutlineIsInsideTheBoxAndClipped) {
  Image img(20, 10, 3);
  draw_rect(img, 2, 2, 8, 7, {255, 0, 0}, 2);
  EXPECT_EQ(img.at(2, 2)[0], 255);
  EXPECT_EQ(img.at(7, 6)[0], 255);   // last pixel inside [2,8) x [2,7)
  EXPECT_EQ(img.at(3, 3)[0], 255);   // second ring
  EXPECT_EQ(img.at(4, 4)[0], 0);     // interior untouched
  EXPECT_EQ(img.at(8, 7)[0], 0);     // outside
  draw_rect(img, -50, -50, 500, 500, {0, 255, 0}, 3);  // clipped, no crash
  EXPECT_EQ(img.at(0, 0)[1], 0);     // its edges are outside the image
}

TEST(Draw, ClassColoursAreDistinct) {
  std::set<std::tuple<int, int, int>> seen;
  for (int c = 0; c < 80; ++c) {
    Color k = class_color(c);
    seen.insert({k.r, k.g, k.b});
  }
  EXPECT_EQ(seen.size(), 80u);
  EXPECT_EQ(text_color_on({255, 255, 0}), (Color{0, 0, 0}));
  EXPECT_EQ(text_color_on({0, 0, 128}), (Color{255, 255, 255}));
}

TEST(Draw, MissingFontIsAClearError) {
  auto f = Font::load("/nonexistent/NoSuchFont.ttf", 16);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(),
            "font /nonexistent/NoSuchFont.ttf not found (install Debian's fonts-dejavu-core, or set QDET_FONT to a .ttf file)");
  auto dir = testing::scratch_dir();
  std::ofstream(dir / "bad.ttf") << "not a font";
  auto bad = Font::load(dir / "bad.ttf", 16);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kParseError);
}

TEST(Draw, TextInkLandsWhereMeasured) {
  QDET_REQUIRE_PATH(Font::default_path());
  auto font = Font::load(Font::default_path(), 20);
  ASSERT_TRUE(font.ok()) << font.status().to_string();
  Font::Extent e = font->measure("dog 0.86");
  EXPECT_GT(e.width, 40);
  EXPECT_LT(e.width, 120);
  EXPECT_GT(e.ascent, 10);
  Image img(200, 60, 3, 255);
  const int h = draw_label(img, *font, 10, 10, "dog 0.86", {200, 30, 30});
  EXPECT_GE(h, e.ascent + e.descent);
  // Background drawn, dark-on-red or white text ink present inside the label, nothing outside.
  int ink = 0, outside_changed = 0;
  for (int y = 0; y < 60; ++y)
    for (int x = 0; x < 200; ++x) {
      const uint8_t* p = img.at(x, y);
      const bool in_label = x >= 10 && y >= 10 && y < 10 + h && x < 10 + e.width + 2 * (20 / 6);
      if (!in_label && (p[0] != 255 || p[1] != 255 || p[2] != 255)) ++outside_changed;
      if (in_label && p[1] > 100) ++ink;  // white text on the red background
    }
  EXPECT_EQ(outside_changed, 0);
  EXPECT_GT(ink, 50);
  // Non-ASCII and malformed UTF-8 do not crash.
  font->draw(img, 0, 50, "caf\xc3\xa9 \xff\xfe z", {0, 0, 0});
}

}  // namespace
}  // namespace qdet::image
