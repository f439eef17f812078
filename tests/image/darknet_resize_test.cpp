// darknet's resize and letterbox (letterbox_darknet), checked against values worked by hand
// from darknet's resize_image() / letterbox_image() (src/image.c).
#include "image/darknet_resize.h"

#include <gtest/gtest.h>

#include <cstring>

#include "image/preprocess.h"

namespace qdet::image {
namespace {

TEST(DarknetResize, CornerAlignedHorizontalAndVertical) {
  // 2x2 single-channel source up to 3x3: scale (2-1)/(3-1) = 0.5 on both axes.
  const float src[] = {0.f, 1.f, 0.5f, 0.25f};
  float dst[9];
  std::vector<float> scratch;
  resize_darknet_into(src, 2, 2, dst, 3, 3, 1, scratch);
  const float want[] = {0.f, 0.5f, 1.f,  //
                        0.25f, 0.4375f, 0.625f,
                        0.5f, 0.375f, 0.25f};
  for (int i = 0; i < 9; ++i) EXPECT_FLOAT_EQ(dst[i], want[i]) << i;
}

TEST(DarknetResize, LastRowReadsOnlyItsOwnRowAndChannelsStayApart) {
  // 3 rows down to 2: h_scale = 2; row 1 is source row 2 with weight (1 - 0) and no second term.
  const float src[] = {1, 10, 2, 20, 3, 30};  // 1 column, 3 rows, 2 channels
  float dst[4];
  std::vector<float> scratch;
  resize_darknet_into(src, 1, 3, dst, 1, 2, 2, scratch);
  EXPECT_FLOAT_EQ(dst[0], 1);
  EXPECT_FLOAT_EQ(dst[1], 10);
  EXPECT_FLOAT_EQ(dst[2], 3);
  EXPECT_FLOAT_EQ(dst[3], 30);
}

TEST(DarknetResize, OnePixelDestinations) {
  const float src[] = {1, 2, 3, 4, 5, 6};  // 3 x 2, one channel
  float dst[1];
  std::vector<float> scratch;
  resize_darknet_into(src, 3, 2, dst, 1, 1, 1, scratch);
  EXPECT_FLOAT_EQ(dst[0], 3);  // the last column of the first row
}

TEST(DarknetLetterbox, IntegerSizesAndCentredPadding) {
  int w = 0, h = 0;
  darknet_letterbox_size(768, 576, 320, 320, &w, &h);  // dog.jpg
  EXPECT_EQ(w, 320);
  EXPECT_EQ(h, 240);
  darknet_letterbox_size(500, 333, 416, 416, &w, &h);  // 333 * 416 / 500 = 277.056 -> 277
  EXPECT_EQ(w, 416);
  EXPECT_EQ(h, 277);
  darknet_letterbox_size(333, 500, 416, 416, &w, &h);
  EXPECT_EQ(w, 277);
  EXPECT_EQ(h, 416);
  auto g = plan_geometry(500, 333, 416, 416, ResizeMode::kLetterboxDarknet);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->resized_height, 277);
  EXPECT_EQ(g->pad_top, 69);  // (416 - 277) / 2
  EXPECT_EQ(g->pad_left, 0);
  EXPECT_EQ(parse_resize_mode("letterbox_darknet").value(), ResizeMode::kLetterboxDarknet);
}

// An image already the letterboxed size is copied exactly (scale 1): values p / 255, and the
// border is darknet's 0.5, in float and, for a quantized input, 0.5 quantized.
TEST(DarknetLetterbox, TensorValuesAndHalfGreyBorder) {
  Image img(4, 2, 3);
  for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<uint8_t>(i * 10);
  TensorFormat f;
  f.width = f.height = 4;
  f.resize = ResizeMode::kLetterboxDarknet;
  f.std = {255.f, 255.f, 255.f};
  Geometry g;
  auto t = build_tensor(img, f, &g);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(g.pad_top, 1);
  std::vector<float> v(t->size() / 4);
  std::memcpy(v.data(), t->data(), t->size());
  for (int c = 0; c < 3; ++c) {
    EXPECT_FLOAT_EQ(v[c], 0.5f);                    // row 0: border
    EXPECT_FLOAT_EQ(v[(3 * 4 + 3) * 3 + c], 0.5f);  // row 3: border
    for (int x = 0; x < 4; ++x)
      EXPECT_FLOAT_EQ(v[(1 * 4 + x) * 3 + c], img.pixels[x * 3 + c] / 255.f) << x;
  }
  f.order = ChannelOrder::kBgr;
  f.layout = Layout::kNchw;
  f.dtype = DType::kUInt8;  // raw pixels: std 1, scale 1; the border 127.5 rounds (half to even) to 128
  f.std = {1.f, 1.f, 1.f};
  f.quant_scale = 1.f;
  t = build_tensor(img, f);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)[0], 128);
  EXPECT_EQ((*t)[4 + 1], img.pixels[1 * 3 + 2]);  // plane 0 is blue; row 1, x = 1
}

}  // namespace
}  // namespace qdet::image
