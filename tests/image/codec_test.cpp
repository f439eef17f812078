#include "image/codec.h"

#include <gtest/gtest.h>

#include <random>

#include "base/file.h"
#include "test_support.h"

namespace qdet::image {
namespace {

std::filesystem::path dog_path() { return data_dir() / "models" / "dog.jpg"; }

Image gradient(int w, int h, int c) {
  Image img(w, h, c);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < c; ++k) img.at(x, y)[k] = static_cast<uint8_t>((x * 7 + y * 3 + k * 50) & 0xff);
  return img;
}

TEST(Codec, DecodesDogJpeg) {
  QDET_REQUIRE_PATH(dog_path());
  auto img = load_image(dog_path());
  ASSERT_TRUE(img.ok()) << img.status().to_string();
  EXPECT_EQ(img->width, 768);
  EXPECT_EQ(img->height, 576);
  EXPECT_EQ(img->channels, 3);
}

TEST(Codec, PngRoundTripIsLossless) {
  Image img = gradient(33, 17, 3);
  auto bytes = encode_png(img);
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  auto back = decode_image(*bytes, "mem.png");
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(back->width, 33);
  EXPECT_EQ(back->height, 17);
  EXPECT_EQ(back->pixels, img.pixels);
}

TEST(Codec, GrayPngBecomesRgb) {
  Image gray = gradient(9, 5, 1);
  auto back = decode_png(*encode_png(gray), "gray.png");
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->channels, 3);
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 9; ++x)
      for (int k = 0; k < 3; ++k) ASSERT_EQ(back->at(x, y)[k], gray.at(x, y)[0]);
}

TEST(Codec, RgbaPngDropsAlpha) {
  Image rgba = gradient(6, 4, 4);
  auto back = decode_png(*encode_png(rgba), "rgba.png");
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->channels, 3);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 6; ++x)
      for (int k = 0; k < 3; ++k) ASSERT_EQ(back->at(x, y)[k], rgba.at(x, y)[k]);
}

TEST(Codec, JpegRoundTripIsClose) {
  Image img(64, 48, 3);
  for (int y = 0; y < 48; ++y)
    for (int x = 0; x < 64; ++x)
      for (int k = 0; k < 3; ++k) img.at(x, y)[k] = static_cast<uint8_t>(2 * x + y + 20 * k);
  auto bytes = encode_jpeg(img, 95);
  ASSERT_TRUE(bytes.ok());
  auto back = decode_image(*bytes, "mem.jpg");
  ASSERT_TRUE(back.ok());
  double err = 0;
  for (size_t i = 0; i < img.pixels.size(); ++i) err += std::abs(img.pixels[i] - back->pixels[i]);
  EXPECT_LT(err / img.pixels.size(), 2.0);
}

TEST(Codec, GrayJpegBecomesRgb) {
  Image gray = gradient(16, 16, 1);
  auto back = decode_jpeg(*encode_jpeg(gray, 100), "gray.jpg");
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  ASSERT_EQ(back->channels, 3);
  for (int i = 0; i < 16 * 16; ++i) {
    ASSERT_EQ(back->pixels[3 * i], back->pixels[3 * i + 1]);
    ASSERT_EQ(back->pixels[3 * i], back->pixels[3 * i + 2]);
  }
}

TEST(Codec, TruncatedJpegIsAnErrorNamingTheFile) {
  QDET_REQUIRE_PATH(dog_path());
  auto bytes = read_file(dog_path());
  ASSERT_TRUE(bytes.ok());
  std::vector<uint8_t> half(bytes->begin(), bytes->begin() + bytes->size() / 2);
  auto img = decode_image(half, "half.jpg");
  ASSERT_FALSE(img.ok());
  EXPECT_EQ(img.status().code(), StatusCode::kParseError);
  EXPECT_EQ(img.status().message(), "half.jpg: corrupt JPEG: file is truncated (premature end of JPEG data)");
}

TEST(Codec, CorruptInputsNeverCrash) {
  QDET_REQUIRE_PATH(dog_path());
  auto dog = read_file(dog_path());
  ASSERT_TRUE(dog.ok());
  std::mt19937 rng(3);
  Image noise(64, 64, 3);
  for (auto& p : noise.pixels) p = static_cast<uint8_t>(rng());
  std::vector<uint8_t> png = *encode_png(noise);
  // Every prefix length class, and random byte flips: each gives an image or an error.
  for (const std::vector<uint8_t>* src : {&*dog, &png}) {
    for (size_t len : {size_t{0}, size_t{2}, size_t{3}, size_t{10}, size_t{40}, size_t{200}, src->size() / 2}) {
      ASSERT_LT(len, src->size());
      std::vector<uint8_t> cut(src->begin(), src->begin() + len);
      auto r = decode_image(cut, "cut");
      EXPECT_FALSE(r.ok()) << "prefix of " << len << " bytes decoded";
      if (!r.ok()) {
        EXPECT_EQ(r.status().message().rfind("cut: ", 0), 0u) << r.status().message();
      }
    }
    for (int trial = 0; trial < 30; ++trial) {
      std::vector<uint8_t> bad = *src;
      for (int k = 0; k < 8; ++k) bad[3 + rng() % (bad.size() - 3)] = static_cast<uint8_t>(rng());
      auto r = decode_image(bad, "flipped");
      if (r.ok()) {
        EXPECT_EQ(r->channels, 3);
      }
    }
  }
}

TEST(Codec, DamagedJpegBodyDecodesWithOneWarning) {
  Image img(64, 64, 3);
  std::mt19937 rng(5);
  for (auto& p : img.pixels) p = static_cast<uint8_t>(rng());
  auto jpg = encode_jpeg(img, 90);
  ASSERT_TRUE(jpg.ok());
  std::vector<uint8_t> bytes = *jpg;
  size_t sos = 0;
  for (size_t i = 0; i + 1 < bytes.size(); ++i)
    if (bytes[i] == 0xFF && bytes[i + 1] == 0xDA) sos = i;
  ASSERT_GT(sos, 0u);
  const size_t scan = sos + 2 + (bytes[sos + 2] << 8 | bytes[sos + 3]);
  // A restart marker in the middle of entropy-coded data that has no restart intervals.
  const size_t mid = scan + (bytes.size() - scan) / 2;
  bytes[mid] = 0xFF;
  bytes[mid + 1] = 0xD5;
  ::testing::internal::CaptureStderr();
  auto damaged = decode_jpeg(bytes, "damaged.jpg");
  const std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(damaged.ok()) << damaged.status().message();  // PIL decodes it too
  EXPECT_NE(err.find("qdet: warning: damaged.jpg: damaged JPEG data, decoded anyway"), std::string::npos) << err;
  EXPECT_EQ(err.find('\n'), err.size() - 1) << "one line: " << err;
  // The intact file decodes silently.
  ::testing::internal::CaptureStderr();
  EXPECT_TRUE(decode_jpeg(*jpg, "intact.jpg").ok());
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST(Codec, FileCutAfterItsLastRowStillDecodes) {
  Image img = gradient(20, 12, 3);
  std::vector<uint8_t> png = *encode_png(img);
  png.resize(png.size() - 12);  // drop the IEND chunk
  auto p = decode_png(png, "noend.png");
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_EQ(p->pixels, img.pixels);
  std::vector<uint8_t> jpg = *encode_jpeg(img);
  jpg.resize(jpg.size() - 2);  // drop the EOI marker
  auto j = decode_jpeg(jpg, "noeoi.jpg");
  EXPECT_TRUE(j.ok()) << j.status().to_string();
}

TEST(Codec, UnknownFormatAndEmpty) {
  std::vector<uint8_t> text = {'h', 'e', 'l', 'l', 'o'};
  auto r = decode_image(text, "x.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "x.txt: not a JPEG or PNG image");
  auto e = decode_image({}, "empty.jpg");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(), "empty.jpg: empty file, not an image");
  auto missing = load_image("/nonexistent/dir/a.jpg");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/dir/a.jpg"), std::string::npos);
}

// Big-endian CRC-32 as PNG chunks need it.
uint32_t crc32(const uint8_t* p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
  }
  return c ^ 0xffffffffu;
}

TEST(Codec, AbsurdDimensionsRejectedBeforeAllocation) {
  // PNG: rewrite IHDR to 100000 x 100000 with a valid CRC.
  std::vector<uint8_t> png = *encode_png(gradient(4, 4, 3));
  auto put32 = [](uint8_t* p, uint32_t v) {
    p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
  };
  put32(&png[16], 100000);
  put32(&png[20], 100000);
  put32(&png[29], crc32(&png[12], 17));
  auto r = decode_png(png, "huge.png");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "huge.png: image dimensions 100000x100000 exceed qdet's limit (32768 per side, 134217728 pixels)");

  // JPEG: rewrite the SOF0 frame size to 60000 x 60000.
  std::vector<uint8_t> jpg = *encode_jpeg(gradient(8, 8, 3));
  bool patched = false;
  for (size_t i = 2; i + 9 < jpg.size(); ++i)
    if (jpg[i] == 0xff && jpg[i + 1] == 0xc0) {
      jpg[i + 5] = 60000 >> 8, jpg[i + 6] = 60000 & 0xff;  // height
      jpg[i + 7] = 60000 >> 8, jpg[i + 8] = 60000 & 0xff;  // width
      patched = true;
      break;
    }
  ASSERT_TRUE(patched);
  auto j = decode_jpeg(jpg, "huge.jpg");
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().message(),
            "huge.jpg: image dimensions 60000x60000 exceed qdet's limit (32768 per side, 134217728 pixels)");
}

TEST(Codec, SaveImageByExtension) {
  auto dir = testing::scratch_dir();
  Image img = gradient(10, 10, 3);
  ASSERT_TRUE(save_image(img, dir / "a.png").ok());
  ASSERT_TRUE(save_image(img, dir / "a.JPG").ok());
  auto png = load_image(dir / "a.png");
  ASSERT_TRUE(png.ok());
  EXPECT_EQ(png->pixels, img.pixels);
  EXPECT_TRUE(load_image(dir / "a.JPG").ok());
  Status s = save_image(img, dir / "a.bmp");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace qdet::image
