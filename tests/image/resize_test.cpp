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

// cv2.resize(src, (w, h), interpolation=cv2.INTER_AREA) with OpenCV 4.6 (Debian
// python3-opencv) on a random 7x5 BGR image (numpy RandomState(3).randint(0, 256)): reducing to
// 3x2 and 4x3 (fractional cells) and enlarging to 9x8.
TEST(Resize, AreaMatchesOpenCv) {
  Image src(7, 5, 3);
  src.pixels = {106, 152, 249, 131, 184, 200, 0, 21, 253, 147, 202, 107, 249, 169, 138, 149, 119, 166, 224, 148, 172,
                93, 167, 142, 248, 26, 81, 218, 150, 66, 2, 191, 60, 129, 179, 90, 69, 104, 110, 97, 157, 106,
                152, 251, 62, 7, 248, 171, 33, 123, 79, 176, 37, 20, 94, 49, 149, 127, 206, 244, 28, 119, 54,
                0, 192, 233, 18, 116, 191, 165, 184, 184, 199, 165, 253, 174, 33, 113, 1, 85, 117, 119, 202, 235,
                124, 228, 99, 219, 144, 255, 80, 160, 144, 242, 18, 75, 183, 96, 223, 141, 165, 158, 48, 189, 33};
  const std::vector<uint8_t> want3x2 = {126, 147, 156, 116, 140, 106, 130, 140, 138,
                                        90, 183, 174, 167, 98, 147, 89, 147, 142};
  const std::vector<uint8_t> want4x3 = {134, 142, 183, 101, 115, 149, 157, 171, 114, 149, 135, 145,
                                        87, 203, 131, 105, 132, 99, 121, 91, 123, 73, 151, 140,
                                        102, 179, 186, 149, 138, 166, 179, 81, 164, 80, 168, 126};
  const std::vector<uint8_t> want9x8 = {
      106, 152, 249, 124, 175, 214, 75, 114, 223, 21, 47, 232, 147, 202, 107, 234, 174, 134, 192, 140, 154, 170, 127,
      168, 224, 148, 172, 101, 158, 206, 156, 131, 168, 139, 100, 163, 87, 90, 165, 89, 197, 88, 185, 176, 114, 153,
      139, 133, 133, 124, 144, 173, 152, 145, 93, 167, 142, 204, 66, 98, 235, 79, 75, 187, 156, 65, 2, 191, 60, 111,
      181, 86, 95, 136, 101, 77, 119, 109, 97, 157, 106, 140, 234, 78, 79, 212, 131, 62, 171, 120, 80, 120, 69, 141,
      68, 28, 107, 74, 121, 109, 138, 183, 94, 169, 173, 42, 126, 64, 122, 239, 96, 41, 227, 152, 31, 184, 143, 77,
      125, 95, 181, 63, 66, 120, 48, 131, 105, 123, 186, 86, 168, 182, 46, 135, 90, 0, 192, 233, 13, 138, 203, 81,
      145, 188, 170, 181, 194, 199, 165, 253, 178, 52, 133, 75, 63, 115, 35, 118, 151, 119, 202, 235, 74, 214, 152,
      120, 156, 207, 128, 149, 199, 130, 156, 158, 225, 77, 146, 186, 71, 174, 125, 106, 158, 82, 150, 134, 76, 194,
      114, 124, 228, 99, 192, 168, 210, 159, 151, 207, 103, 140, 134, 242, 18, 75, 191, 85, 202, 159, 135, 186, 114,
      172, 122, 48, 189, 33};
  auto a = resize_area(src, 3, 2);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->pixels, want3x2);
  auto b = resize_area(src, 4, 3);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->pixels, want4x3);
  auto c = resize_area(src, 9, 8);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->pixels, want9x8);
  EXPECT_FALSE(resize_area(src, 0, 3).ok());
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
