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

// NanoDet's GFL decode on one 16x8 input at stride 8 (2 x 1 cells), 2 classes, 4 bins per side.
TEST(Heads, GflDistributionToDistance) {
  // Cell 0: class 1 at 0.9. Its sides' logits put all weight on one bin (left 1, top 2, right
  // 3, bottom 0) or split it evenly between bins 1 and 2 (expected 1.5).
  const float hi = 30.f;
  std::vector<float> cls = {0.1f, 0.9f, 0.02f, 0.01f};
  std::vector<float> box = {0, hi, 0, 0,  0, 0, hi, 0,  0, 0, 0, hi,  hi, 0, 0, 0,   // cell 0
                            0, hi, hi, 0, 0, hi, hi, 0, 0, hi, hi, 0, 0, hi, hi, 0};  // cell 1
  auto cb = bytes_of(cls), bb = bytes_of(box);
  OutputView views[2] = {view(cb, {1, 2, 2}), view(bb, {1, 2, 16})};
  HeadOptions o;
  o.input_width = 16;
  o.input_height = 8;
  o.strides = {8};
  o.score_threshold = 0.05f;
  o.multi_label = true;
  auto d = (*find_head("gfl"))->decode(std::span<const OutputView>(views), o);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  ASSERT_EQ(d->size(), 2u);  // cell 0: classes 0 and 1; cell 1 below the threshold
  const Detection& c1 = (*d)[1];
  EXPECT_EQ(c1.class_id, 1);
  EXPECT_FLOAT_EQ(c1.score, 0.9f);
  // Centre (4, 4); distances x 8: left 8, top 16, right 24, bottom 0, clipped to the 16x8 input.
  EXPECT_NEAR(c1.x0, 0.f, 1e-4);
  EXPECT_NEAR(c1.y0, 0.f, 1e-4);
  EXPECT_NEAR(c1.x1, 16.f, 1e-4);
  EXPECT_NEAR(c1.y1, 4.f, 1e-4);
  cls[2] = 0.5f;  // cell 1 now passes: every side 1.5 bins = 12 px around (12, 4)
  cb = bytes_of(cls);
  views[0] = view(cb, {1, 2, 2});
  o.multi_label = false;
  auto e = (*find_head("gfl"))->decode(std::span<const OutputView>(views), o);
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  ASSERT_EQ(e->size(), 2u);
  EXPECT_EQ((*e)[1].class_id, 0);
  EXPECT_NEAR((*e)[1].x0, 0.f, 1e-4);
  EXPECT_NEAR((*e)[1].x1, 16.f, 1e-4);
  o.input_width = 24;  // 3 cells at stride 8, the tensors hold 2
  EXPECT_FALSE((*find_head("gfl"))->decode(std::span<const OutputView>(views), o).ok());
  o.input_width = 16;
  o.strides = {8, 16};
  EXPECT_FALSE((*find_head("gfl"))->decode(std::span<const OutputView>(views), o).ok());
  EXPECT_FALSE((*find_head("gfl"))->decode({views, 1}, o).ok());
}

// FastestDet: centre offsets through tanh, sizes through sigmoid (fractions of the input).
TEST(Heads, FastestDetGridDecode) {
  // A 1x2 grid on a 200x100 input, 2 classes; cell (0, 1) has obj 0.8 and class 1 at 0.75.
  std::vector<float> t = {0.1f, 0, 0, 0, 0, 0.5f, 0.5f,
                          0.8f, std::atanh(0.5f), 0.f, 0.f, std::log(0.25f / 0.75f), 0.25f, 0.75f};
  auto b = bytes_of(t);
  OutputView v = view(b, {1, 1, 2, 7});
  HeadOptions o;
  o.input_width = 200;
  o.input_height = 100;
  o.score_threshold = 0.25f;
  auto d = (*find_head("fastestdet"))->decode({&v, 1}, o);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  ASSERT_EQ(d->size(), 1u);
  const Detection& x = (*d)[0];
  EXPECT_EQ(x.class_id, 1);
  EXPECT_NEAR(x.score, std::pow(0.8f, 0.6f) * std::pow(0.75f, 0.4f), 1e-6);
  // cx = (0.5 + 1) / 2 x 200 = 150, cy = (0 + 0) / 1 x 100 = 0 (no half-cell offset, as
  // FastestDet decodes), w = 0.5 x 200, h = 0.25 x 100.
  EXPECT_NEAR(x.x0, 100.f, 1e-3);
  EXPECT_NEAR(x.x1, 200.f, 1e-3);
  EXPECT_NEAR(x.y0, -12.5f, 1e-3);
  EXPECT_NEAR(x.y1, 12.5f, 1e-3);
  OutputView flat = view(b, {1, 2, 7});
  EXPECT_FALSE((*find_head("fastestdet"))->decode({&flat, 1}, o).ok());
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
  EXPECT_EQ(find_head("rcnn").status().message(), "unknown detection head 'rcnn' (known: yolox, yolox_raw, yolov5, ssd, yolo, gfl, fastestdet)");
}

}  // namespace
}  // namespace qdet::detect
