#include "image/resize.h"

#include <gtest/gtest.h>

#include <random>

namespace qdet::image {
namespace {

Image random_image(int w, int h, int c, uint32_t seed) {
  Image img(w, h, c);
  std::mt19937 rng(seed);
  for (auto& p : img.pixels) p = static_cast<uint8_t>(rng() & 0xff);
  return img;
}

TEST(Resize, MatchesKnownOpenCvValues) {
  // cv2.resize(np.array([[0, 255]], np.uint8), (4, 1)) == [[0, 64, 191, 255]]
  Image src(2, 1, 1);
  src.pixels = {0, 255};
  auto dst = resize_bilinear(src, 4, 1);
  ASSERT_TRUE(dst.ok()) << dst.status().to_string();
  EXPECT_EQ(dst->pixels, (std::vector<uint8_t>{0, 64, 191, 255}));
}

TEST(Resize, ExactHalvingIsAreaAverage) {
  // OpenCV switches INTER_LINEAR to INTER_AREA for an exact 2x reduction: (a+b+c+d+2)>>2.
  Image src(4, 2, 1);
  src.pixels = {0, 1, 10, 20, 0, 0, 30, 41};
  auto dst = resize_bilinear(src, 2, 1);
  ASSERT_TRUE(dst.ok());
  EXPECT_EQ(dst->pixels, (std::vector<uint8_t>{0, 25}));  // (1+2)>>2 = 0, (101+2)>>2 = 25
}

TEST(Resize, EqualSizeCopies) {
  Image src = random_image(13, 7, 3, 1);
  auto dst = resize_bilinear(src, 13, 7);
  ASSERT_TRUE(dst.ok());
  EXPECT_EQ(dst->pixels, src.pixels);
}

TEST(Resize, ConstantImageStaysConstant) {
  Image src(37, 23, 3, 200);
  for (auto [w, h] : {std::pair{416, 312}, {5, 3}, {100, 7}, {1, 1}}) {
    auto dst = resize_bilinear(src, w, h);
    ASSERT_TRUE(dst.ok());
    for (uint8_t p : dst->pixels) ASSERT_EQ(p, 200) << w << "x" << h;
  }
}

// The fast two-pass path against the per-pixel reference, on sizes around the borders of the
// row cache, both directions, every channel count.
TEST(Resize, FastPathMatchesReference) {
  std::mt19937 rng(7);
  const int sizes[] = {1, 2, 3, 7, 8, 9, 16, 17, 31, 64, 97};
  int cases = 0;
  for (int c = 1; c <= 4; ++c)
    for (int sw : sizes)
      for (int dw : sizes) {
        const int sh = sizes[rng() % std::size(sizes)], dh = sizes[rng() % std::size(sizes)];
        Image src = random_image(sw, sh, c, rng());
        auto fast = resize_bilinear(src, dw, dh);
        ASSERT_TRUE(fast.ok());
        Image ref = resize_bilinear_reference(src, dw, dh);
        ASSERT_EQ(fast->pixels, ref.pixels)
            << "channels " << c << " " << sw << "x" << sh << " -> " << dw << "x" << dh;
        ++cases;
      }
  EXPECT_EQ(cases, 4 * 11 * 11);
}

TEST(Resize, RejectsBadSizes) {
  Image src(4, 4, 3);
  EXPECT_FALSE(resize_bilinear(src, 0, 4).ok());
  EXPECT_FALSE(resize_bilinear(src, 4, -1).ok());
  EXPECT_FALSE(resize_bilinear(src, 100000, 4).ok());
  EXPECT_FALSE(resize_bilinear(Image(), 4, 4).ok());
}

}  // namespace
}  // namespace qdet::image
