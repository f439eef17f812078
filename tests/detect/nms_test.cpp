#include "detect/nms.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace qdet::detect {
namespace {

Detection box(float x0, float y0, float x1, float y1, int cls, float score) {
  return Detection{x0, y0, x1, y1, cls, score};
}

TEST(Iou, KnownValues) {
  EXPECT_FLOAT_EQ(iou(box(0, 0, 10, 10, 0, 1), box(0, 0, 10, 10, 0, 1)), 1.f);
  EXPECT_FLOAT_EQ(iou(box(0, 0, 10, 10, 0, 1), box(5, 0, 15, 10, 0, 1)), 50.f / 150.f);
  EXPECT_FLOAT_EQ(iou(box(0, 0, 10, 10, 0, 1), box(10, 0, 20, 10, 0, 1)), 0.f);  // touching
  EXPECT_FLOAT_EQ(iou(box(0, 0, 0, 0, 0, 1), box(0, 0, 0, 0, 0, 1)), 0.f);       // degenerate
  EXPECT_FLOAT_EQ(iou(box(5, 5, 0, 0, 0, 1), box(0, 0, 10, 10, 0, 1)), 0.f);     // inverted
}

TEST(Nms, SuppressesOverlapsOfTheSameClassOnly) {
  std::vector<Detection> in = {
      box(0, 0, 10, 10, 0, 0.9f),
      box(1, 1, 11, 11, 0, 0.8f),   // IoU 81/119 = 0.68 with the first: suppressed
      box(1, 1, 11, 11, 1, 0.7f),   // other class: kept
      box(20, 20, 30, 30, 0, 0.6f), // far away: kept
  };
  auto out = nms(in, {});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_FLOAT_EQ(out[0].score, 0.9f);
  EXPECT_EQ(out[1].class_id, 1);
  EXPECT_FLOAT_EQ(out[2].score, 0.6f);
  NmsOptions agnostic;
  agnostic.class_agnostic = true;
  EXPECT_EQ(nms(in, agnostic).size(), 2u);
}

TEST(Nms, ThresholdIsStrict) {
  // IoU exactly 1/3: kept at threshold 1/3 (suppression needs IoU > threshold), dropped below.
  std::vector<Detection> in = {box(0, 0, 10, 10, 0, 0.9f), box(5, 0, 15, 10, 0, 0.8f)};
  NmsOptions o;
  o.iou_threshold = 50.f / 150.f;
  EXPECT_EQ(nms(in, o).size(), 2u);
  o.iou_threshold = 0.33f;
  EXPECT_EQ(nms(in, o).size(), 1u);
}

TEST(Nms, TiesKeepInputOrder) {
  std::vector<Detection> in = {box(0, 0, 10, 10, 0, 0.5f), box(1, 0, 11, 10, 0, 0.5f),
                               box(2, 0, 12, 10, 0, 0.5f)};
  auto out = nms(in, {});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FLOAT_EQ(out[0].x0, 0.f);  // the first of equals wins
  std::reverse(in.begin(), in.end());
  out = nms(in, {});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FLOAT_EQ(out[0].x0, 2.f);
}

TEST(Nms, MaxDetectionsAndCandidates) {
  std::vector<Detection> in;
  for (int i = 0; i < 50; ++i) in.push_back(box(20.f * i, 0, 20.f * i + 10, 10, i % 3, 0.01f * i));
  NmsOptions o;
  o.max_detections = 5;
  auto out = nms(in, o);
  ASSERT_EQ(out.size(), 5u);
  EXPECT_FLOAT_EQ(out[0].score, 0.49f);
  EXPECT_FLOAT_EQ(out[4].score, 0.45f);
  o.max_detections = 0;
  o.max_candidates = 10;
  EXPECT_EQ(nms(in, o).size(), 10u);
}

TEST(Nms, EmptyAndNaN) {
  EXPECT_TRUE(nms({}, {}).empty());
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<Detection> in = {box(0, 0, 1, 1, 0, nan), box(nan, 0, 1, 1, 0, 0.5f), box(0, 0, 1, 1, 0, 0.4f)};
  auto out = nms(in, {});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FLOAT_EQ(out[0].score, 0.4f);
}

TEST(Nms, ZeroAreaBoxesDoNotSuppress) {
  std::vector<Detection> in = {box(5, 5, 5, 5, 0, 0.9f), box(0, 0, 10, 10, 0, 0.8f), box(5, 5, 5, 5, 0, 0.7f)};
  EXPECT_EQ(nms(in, {}).size(), 3u);
}

// YOLOX's evaluator does not clip: boxes keep what lies outside the image.
TEST(MapToSource, WithoutClipping) {
  auto g = image::plan_geometry(768, 576, 640, 640, image::ResizeMode::kLetterboxCenter);
  ASSERT_TRUE(g.ok());
  auto out = map_to_source({box(-10, 0, 50, 100, 1, 1), box(0, 0, 640, 70, 2, 1), box(5, 90, 5, 95, 0, 1)},
                           *g, /*clip=*/false);
  ASSERT_EQ(out.size(), 2u);  // the zero-width box is dropped
  EXPECT_FLOAT_EQ(out[0].x0, -12);
  EXPECT_FLOAT_EQ(out[0].y0, -96);
  EXPECT_FLOAT_EQ(out[0].x1, 60);
  EXPECT_FLOAT_EQ(out[1].y0, -96);
  EXPECT_FLOAT_EQ(out[1].y1, -12);
}

TEST(MapToSource, LetterboxAndStretchWithClipping) {
  auto g = image::plan_geometry(768, 576, 640, 640, image::ResizeMode::kLetterboxCenter);
  ASSERT_TRUE(g.ok());
  auto out = map_to_source({box(0, 80, 640, 560, 0, 1), box(-10, 0, 50, 100, 1, 1), box(0, 0, 640, 70, 2, 1)}, *g);
  ASSERT_EQ(out.size(), 2u);  // the third lies in the padding only
  EXPECT_FLOAT_EQ(out[0].x0, 0);
  EXPECT_FLOAT_EQ(out[0].y0, 0);
  EXPECT_FLOAT_EQ(out[0].x1, 768);
  EXPECT_FLOAT_EQ(out[0].y1, 576);
  EXPECT_FLOAT_EQ(out[1].x0, 0);   // clipped
  EXPECT_FLOAT_EQ(out[1].y0, 0);   // clipped from -96
  EXPECT_FLOAT_EQ(out[1].x1, 60);
  EXPECT_FLOAT_EQ(out[1].y1, 24);
  auto s = image::plan_geometry(768, 576, 300, 300, image::ResizeMode::kStretch);
  ASSERT_TRUE(s.ok());
  auto st = map_to_source({box(150, 150, 300, 300, 0, 1)}, *s);
  ASSERT_EQ(st.size(), 1u);
  EXPECT_FLOAT_EQ(st[0].x0, 384);
  EXPECT_FLOAT_EQ(st[0].y0, 288);
  EXPECT_FLOAT_EQ(st[0].x1, 768);
  EXPECT_FLOAT_EQ(st[0].y1, 576);
}

}  // namespace
}  // namespace qdet::detect
