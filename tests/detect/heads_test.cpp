// Heads on small hand-made tensors: decoding arithmetic, dequantization, shapes and errors.
#include "detect/head.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "tensor/fp16.h"

namespace qdet::detect {
namespace {

std::vector<uint8_t> bytes_of(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

OutputView view(const std::vector<uint8_t>& bytes, Shape shape, DType dtype = DType::kFloat32) {
  OutputView v;
  v.data = bytes;
  v.shape = std::move(shape);
  v.dtype = dtype;
  v.name = "out";
  return v;
}

// Rows of [cx, cy, w, h, obj, c0, c1, c2].
std::vector<float> rows(std::initializer_list<std::array<float, 8>> rs) {
  std::vector<float> v;
  for (const auto& r : rs) v.insert(v.end(), r.begin(), r.end());
  return v;
}

TEST(Heads, YoloxDecodedBestClass) {
  auto b = bytes_of(rows({{50, 40, 20, 10, 0.9f, 0.1f, 0.8f, 0.2f}, {10, 10, 4, 4, 0.2f, 0.9f, 0.1f, 0.1f}}));
  OutputView v = view(b, {1, 2, 8});
  HeadOptions o;
  o.score_threshold = 0.25f;
  auto d = (*find_head("yolox"))->decode({&v, 1}, o);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  ASSERT_EQ(d->size(), 1u);  // second row: 0.2 x 0.9 = 0.18
  EXPECT_EQ((*d)[0].class_id, 1);
  EXPECT_FLOAT_EQ((*d)[0].score, 0.9f * 0.8f);
  EXPECT_FLOAT_EQ((*d)[0].x0, 40);
  EXPECT_FLOAT_EQ((*d)[0].y0, 35);
  EXPECT_FLOAT_EQ((*d)[0].x1, 60);
  EXPECT_FLOAT_EQ((*d)[0].y1, 45);
  o.multi_label = true;
  o.score_threshold = 0.05f;
  auto m = (*find_head("yolox"))->decode({&v, 1}, o);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->size(), 3u + 1u);  // row 0: 0.09, 0.72, 0.18; row 1: 0.18 (0.02 twice dropped)
}

TEST(Heads, Yolov5ScalesNormalizedBoxesAndDequantizes) {
  // uint8 output, scale 1/250, zero point 5: q = 5 + 250 x value.
  auto q = [](float x) { return static_cast<uint8_t>(std::lround(5 + 250 * x)); };
  std::vector<uint8_t> b = {q(0.5f), q(0.2f), q(0.2f), q(0.1f), q(0.8f), q(0.0f), q(0.0f), q(1.0f)};
  OutputView v = view(b, {1, 1, 8}, DType::kUInt8);
  v.scale = 1.f / 250.f;
  v.zero_point = 5;
  HeadOptions o;
  o.input_width = 640;
  o.input_height = 320;
  auto d = (*find_head("yolov5"))->decode({&v, 1}, o);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  ASSERT_EQ(d->size(), 1u);
  EXPECT_EQ((*d)[0].class_id, 2);
  EXPECT_NEAR((*d)[0].score, 0.8f, 1e-6);
  EXPECT_NEAR((*d)[0].x0, 320 - 64, 1e-3);
  EXPECT_NEAR((*d)[0].x1, 320 + 64, 1e-3);
  EXPECT_NEAR((*d)[0].y0, 64 - 16, 1e-3);
  EXPECT_NEAR((*d)[0].y1, 64 + 16, 1e-3);
}

TEST(Heads, Float16Outputs) {
  std::vector<float> f = {8, 8, 2, 2, 1.0f, 0.5f, 0.25f, 0.0f};
  std::vector<uint8_t> b(f.size() * 2);
  for (size_t i = 0; i < f.size(); ++i) {
    const uint16_t h = fp32_to_fp16(f[i]);
    std::memcpy(&b[2 * i], &h, 2);
  }
  OutputView v = view(b, {1, 1, 8}, DType::kFloat16);
  auto d = (*find_head("yolox"))->decode({&v, 1}, {});
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->size(), 1u);
  EXPECT_FLOAT_EQ((*d)[0].score, 0.5f);
  EXPECT_FLOAT_EQ((*d)[0].x0, 7);
}

TEST(Heads, YoloxRawGridDecode) {
  // 64x64 input: 8x8 + 4x4 + 2x2 = 84 rows. Row 8*8 + 1*4 + 2 is stride 16, cell (2, 1).
  std::vector<float> f(84 * 8, 0.f);
  const size_t r = 64 + 4 + 2;
  const float t[8] = {0.5f, 0.25f, std::log(2.f), 0.f, 0.9f, 0.f, 1.f, 0.f};
  std::copy(t, t + 8, f.begin() + r * 8);
  auto b = bytes_of(f);
  OutputView v = view(b, {1, 84, 8});
  HeadOptions o;
  o.input_width = o.input_height = 64;
  auto d = (*find_head("yolox_raw"))->decode({&v, 1}, o);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  ASSERT_EQ(d->size(), 1u);
  // cx = (0.5 + 2) * 16 = 40, cy = (0.25 + 1) * 16 = 20, w = 2 * 16 = 32, h = 16.
  EXPECT_NEAR((*d)[0].x0, 24, 1e-4);
  EXPECT_NEAR((*d)[0].x1, 56, 1e-4);
  EXPECT_NEAR((*d)[0].y0, 12, 1e-4);
  EXPECT_NEAR((*d)[0].y1, 28, 1e-4);
  EXPECT_EQ((*d)[0].class_id, 1);
  o.input_width = o.input_height = 96;
  auto bad = (*find_head("yolox_raw"))->decode({&v, 1}, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "yolox_raw head: output 'out' has 84 rows but a 96x96 input with strides 8/16/32 gives 189");
}

TEST(Heads, SsdMapsCocoIdsAndHonoursCount) {
  // 3 slots, count 2: class 17 -> COCO id 18 (dog, index 16); class 11 -> id 12 (unused, dropped).
  std::vector<float> boxes = {0.1f, 0.2f, 0.5f, 0.6f, 0.f, 0.f, 1.f, 1.f, 0.f, 0.f, 1.f, 1.f};
  std::vector<float> classes = {17.f, 11.f, 0.f}, scores = {0.9f, 0.8f, 0.7f}, count = {2.f};
  auto bb = bytes_of(boxes), cb = bytes_of(classes), sb = bytes_of(scores), nb = bytes_of(count);
  std::vector<OutputView> vs = {view(bb, {1, 3, 4}), view(cb, {1, 3}), view(sb, {1, 3}), view(nb, {1})};
  HeadOptions o;
  o.input_width = 300;
  o.input_height = 200;
  o.class_map = ClassMap::kCoco91;
  auto d = (*find_head("ssd"))->decode(vs, o);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  ASSERT_EQ(d->size(), 1u);
  EXPECT_EQ((*d)[0].class_id, 16);
  EXPECT_FLOAT_EQ((*d)[0].x0, 60);
  EXPECT_FLOAT_EQ((*d)[0].y0, 20);
  EXPECT_FLOAT_EQ((*d)[0].x1, 180);
  EXPECT_FLOAT_EQ((*d)[0].y1, 100);
  o.class_map = ClassMap::kIdentity;
  auto id = (*find_head("ssd"))->decode(vs, o);
  ASSERT_TRUE(id.ok());
  ASSERT_EQ(id->size(), 2u);
  EXPECT_EQ((*id)[1].class_id, 11);
}

TEST(Heads, BadTensorsAreErrors) {
  std::vector<uint8_t> b(40);
  OutputView v = view(b, {1, 2, 8});  // 64 bytes needed
  auto d = (*find_head("yolox"))->decode({&v, 1}, {});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message(), "output 'out': 40 bytes for shape [1,2,8] of float32 (expected 64)");
  OutputView narrow = view(b, {1, 2, 5});
  EXPECT_FALSE((*find_head("yolov5"))->decode({&narrow, 1}, {}).ok());
  std::vector<uint8_t> i32(64);
  OutputView ints = view(i32, {1, 2, 8}, DType::kInt32);
  auto e = (*find_head("yolox"))->decode({&ints, 1}, {});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kUnsupported);
  EXPECT_FALSE((*find_head("ssd"))->decode({&v, 1}, {}).ok());
  EXPECT_EQ(find_head("rcnn").status().message(), "unknown detection head 'rcnn' (known: yolox, yolox_raw, yolov5, ssd, yolo)");
}

}  // namespace
}  // namespace qdet::detect
