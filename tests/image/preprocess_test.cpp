#include "image/preprocess.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "base/file.h"
#include "image/codec.h"
#include "test_support.h"

namespace qdet::image {
namespace {

struct OracleCase {
  const char* folder;
  TensorFormat format;
};

TensorFormat make_format(int size, ResizeMode mode, ChannelOrder order, DType dtype, float std) {
  TensorFormat f;
  f.width = f.height = size;
  f.resize = mode;
  f.pad_value = 114;
  f.order = order;
  f.dtype = dtype;
  f.std = {std, std, std};
  return f;
}

// The four shipped TFLite models, as ../shared/fixtures/oracle/*/meta.json describes them.
std::vector<OracleCase> oracle_cases() {
  return {
      {"yolox_nano_fp32_416", make_format(416, ResizeMode::kLetterboxTopLeft, ChannelOrder::kBgr, DType::kFloat32, 1.f)},
      {"ssd_mobilenet_v1_1_metadata_1", make_format(300, ResizeMode::kStretch, ChannelOrder::kRgb, DType::kUInt8, 1.f)},
      {"yolov5n-fp16", make_format(640, ResizeMode::kLetterboxCenter, ChannelOrder::kRgb, DType::kFloat32, 255.f)},
      {"yolov5n-int8", make_format(640, ResizeMode::kLetterboxCenter, ChannelOrder::kRgb, DType::kUInt8, 1.f)},
  };
}

struct Diff {
  size_t count = 0;
  double max = 0;
};

Diff compare(const std::vector<uint8_t>& got, const std::vector<uint8_t>& want, DType dtype) {
  Diff d;
  if (dtype == DType::kFloat32) {
    const size_t n = got.size() / 4;
    for (size_t i = 0; i < n; ++i) {
      float a, b;
      std::memcpy(&a, &got[4 * i], 4);
      std::memcpy(&b, &want[4 * i], 4);
      if (a != b) ++d.count, d.max = std::max(d.max, static_cast<double>(std::fabs(a - b)));
    }
  } else {
    for (size_t i = 0; i < got.size(); ++i)
      if (got[i] != want[i]) ++d.count, d.max = std::max(d.max, std::abs(got[i] - want[i]) * 1.0);
  }
  return d;
}

std::filesystem::path dog_path() { return data_dir() / "models" / "dog.jpg"; }

TEST(Preprocess, ReproducesOracleInputsExactly) {
  QDET_REQUIRE_PATH(dog_path());
  QDET_REQUIRE_PATH(fixtures_dir() / "oracle");
  auto img = load_image(dog_path());
  ASSERT_TRUE(img.ok()) << img.status().to_string();
  for (const OracleCase& c : oracle_cases()) {
    SCOPED_TRACE(c.folder);
    auto want = read_file(fixtures_dir() / "oracle" / c.folder / "input.bin");
    ASSERT_TRUE(want.ok()) << want.status().to_string();
    Geometry g;
    auto got = build_tensor(*img, c.format, &g);
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    ASSERT_EQ(got->size(), want->size());
    Diff d = compare(*got, *want, c.format.dtype);
    EXPECT_EQ(d.count, 0u) << "differing elements " << d.count << ", max difference " << d.max;
  }
}

// The oracle was made with PIL, i.e. libjpeg's default accurate IDCT: decoding with the fast
// IDCT must not match, which shows the comparison above sees the decoder.
TEST(Preprocess, OracleSeesTheJpegDecoder) {
  QDET_REQUIRE_PATH(dog_path());
  QDET_REQUIRE_PATH(fixtures_dir() / "oracle");
  auto bytes = read_file(dog_path());
  ASSERT_TRUE(bytes.ok());
  JpegDecodeOptions fast;
  fast.fast_idct = true;
  auto img = decode_jpeg(*bytes, "dog.jpg", fast);
  ASSERT_TRUE(img.ok());
  const OracleCase c = oracle_cases()[1];  // SSD: stretch, raw uint8 pixels
  auto want = read_file(fixtures_dir() / "oracle" / c.folder / "input.bin");
  ASSERT_TRUE(want.ok());
  auto got = build_tensor(*img, c.format);
  ASSERT_TRUE(got.ok());
  Diff d = compare(*got, *want, c.format.dtype);
  EXPECT_GT(d.count, 1000u);
  EXPECT_LE(d.max, 16.0);  // still the same picture
}

TEST(Preprocess, GeometryMatchesOracleMeta) {
  auto yolox = plan_geometry(768, 576, 416, 416, ResizeMode::kLetterboxTopLeft);
  ASSERT_TRUE(yolox.ok());
  EXPECT_EQ(yolox->resized_width, 416);
  EXPECT_EQ(yolox->resized_height, 312);
  EXPECT_EQ(yolox->pad_left, 0);
  EXPECT_EQ(yolox->pad_top, 0);
  auto v5 = plan_geometry(768, 576, 640, 640, ResizeMode::kLetterboxCenter);
  ASSERT_TRUE(v5.ok());
  EXPECT_EQ(v5->resized_width, 640);
  EXPECT_EQ(v5->resized_height, 480);
  EXPECT_EQ(v5->pad_top, 80);
  EXPECT_EQ(v5->pad_left, 0);
  EXPECT_DOUBLE_EQ(v5->to_source_y(80.0), 0.0);
  EXPECT_DOUBLE_EQ(v5->to_source_y(560.0), 576.0);
  EXPECT_DOUBLE_EQ(v5->to_source_x(320.0), 384.0);
  auto ssd = plan_geometry(768, 576, 300, 300, ResizeMode::kStretch);
  ASSERT_TRUE(ssd.ok());
  EXPECT_DOUBLE_EQ(ssd->scale_x, 0.390625);
  EXPECT_DOUBLE_EQ(ssd->scale_y, 300.0 / 576.0);
}

TEST(Preprocess, LetterboxTruncatesTopLeftAndRoundsCentre) {
  // 3 x 100 into 8 x 8: r = 0.08, width 0.24 -> 0 is clamped to 1 pixel.
  auto tl = plan_geometry(3, 100, 8, 8, ResizeMode::kLetterboxTopLeft);
  ASSERT_TRUE(tl.ok());
  EXPECT_EQ(tl->resized_width, 1);
  EXPECT_EQ(tl->resized_height, 8);
  // 100 x 35 into 10 x 10: height 3.5 -> top-left int() gives 3, centre round-half-even gives 4.
  auto a = plan_geometry(100, 35, 10, 10, ResizeMode::kLetterboxTopLeft);
  auto b = plan_geometry(100, 35, 10, 10, ResizeMode::kLetterboxCenter);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->resized_height, 3);
  EXPECT_EQ(b->resized_height, 4);
  EXPECT_EQ(b->pad_top, 3);
  // 100 x 25 into 10 x 10: 2.5 rounds to 2 (half to even), pad (10 - 2) / 2 = 4.
  auto c = plan_geometry(100, 25, 10, 10, ResizeMode::kLetterboxCenter);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->resized_height, 2);
  EXPECT_EQ(c->pad_top, 4);
  // letterbox_center_area (the NanoDet ONNX demo): int(side x aspect), centred, rounded down.
  auto d = plan_geometry(100, 35, 10, 10, ResizeMode::kLetterboxCenterArea);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->resized_width, 10);
  EXPECT_EQ(d->resized_height, 3);
  EXPECT_EQ(d->pad_top, 3);
  auto e = plan_geometry(427, 640, 416, 416, ResizeMode::kLetterboxCenterArea);  // int(416 / (640 / 427)) = 277
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->resized_width, 277);
  EXPECT_EQ(e->resized_height, 416);
  EXPECT_EQ(e->pad_left, 69);
  EXPECT_EQ(parse_resize_mode("letterbox_center_area").value(), ResizeMode::kLetterboxCenterArea);
}

// Every layout / order / dtype combination against a direct per-element computation.
TEST(Preprocess, LayoutOrderAndTypes) {
  Image img(5, 3, 3);
  for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<uint8_t>(i * 17);
  for (Layout layout : {Layout::kNhwc, Layout::kNchw})
    for (ChannelOrder order : {ChannelOrder::kRgb, ChannelOrder::kBgr})
      for (DType dtype : {DType::kFloat32, DType::kUInt8, DType::kInt8}) {
        TensorFormat f;
        f.width = 7, f.height = 7;  // letterbox centre: 7x4 image at top 1 (no resize in x... )
        f.resize = ResizeMode::kLetterboxCenter;
        f.pad_value = 9;
        f.order = order;
        f.layout = layout;
        f.dtype = dtype;
        f.mean = {10.f, 20.f, 30.f};
        f.std = {2.f, 4.f, 0.5f};
        f.quant_scale = 0.5f;
        f.quant_zero_point = dtype == DType::kInt8 ? -100 : 3;
        Geometry g;
        auto t = build_tensor(img, f, &g);
        ASSERT_TRUE(t.ok()) << t.status().to_string();
        auto fitted = fit_image(img, 7, 7, f.resize, f.pad_value);
        ASSERT_TRUE(fitted.ok());
        for (int c = 0; c < 3; ++c)
          for (int y = 0; y < 7; ++y)
            for (int x = 0; x < 7; ++x) {
              const int src_c = order == ChannelOrder::kBgr ? 2 - c : c;
              const float v = (fitted->at(x, y)[src_c] - f.mean[c]) / f.std[c];
              const size_t idx = layout == Layout::kNhwc ? (static_cast<size_t>(y) * 7 + x) * 3 + c
                                                         : (static_cast<size_t>(c) * 7 + y) * 7 + x;
              if (dtype == DType::kFloat32) {
                float got;
                std::memcpy(&got, t->data() + 4 * idx, 4);
                ASSERT_EQ(got, v);
              } else {
                const int lo = dtype == DType::kInt8 ? -128 : 0, hi = lo + 255;
                const int q = std::clamp(static_cast<int>(std::nearbyint(v / 0.5f)) + f.quant_zero_point, lo, hi);
                const int got = dtype == DType::kInt8 ? static_cast<int8_t>((*t)[idx]) : (*t)[idx];
                ASSERT_EQ(got, q) << "c " << c << " y " << y << " x " << x;
              }
            }
      }
}

TEST(Preprocess, RejectsBadFormats) {
  Image img(4, 4, 3);
  TensorFormat f;
  f.width = 8, f.height = 8;
  f.dtype = DType::kInt32;
  EXPECT_EQ(build_tensor(img, f).status().code(), StatusCode::kUnsupported);
  f.dtype = DType::kFloat32;
  f.std = {1.f, 0.f, 1.f};
  EXPECT_EQ(build_tensor(img, f).status().code(), StatusCode::kInvalidArgument);
  f.std = {1.f, 1.f, 1.f};
  auto b = TensorBuilder::create(f);
  ASSERT_TRUE(b.ok());
  std::vector<uint8_t> small(10);
  EXPECT_FALSE(b->build(img, small).ok());
  Image gray(4, 4, 1);
  std::vector<uint8_t> out(f.byte_size());
  EXPECT_FALSE(b->build(gray, out).ok());
  EXPECT_EQ(parse_resize_mode("letterbox").status().message(),
            "unknown resize mode 'letterbox' (expected one of: stretch, letterbox_topleft, letterbox_center, letterbox_darknet, letterbox_center_area)");
}

}  // namespace
}  // namespace qdet::image
