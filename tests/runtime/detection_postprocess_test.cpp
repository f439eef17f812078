// TFLite_Detection_PostProcess: options parse/build, box decoding, fast and regular NMS on
// hand-made anchors and scores with known results, quantized inputs.
#include <gmock/gmock.h>

#include <cmath>

#include <flatbuffers/flexbuffers.h>

#include "graph_builder.h"
#include "runtime/detection_postprocess_params.h"

namespace qdet::rt {
namespace {

using ::testing::ElementsAre;
using ::testing::FloatNear;
using ::testing::Pointwise;
using namespace testing;  // graph_builder.h: GraphBuilder, run_graph, to_bytes, values_of, per_tensor, F32

DetectionPostProcessParams params(int max_det, int classes_per_det, bool regular) {
  DetectionPostProcessParams p;
  p.max_detections = max_det;
  p.max_classes_per_detection = classes_per_det;
  p.use_regular_nms = regular;
  p.detections_per_class = 100;
  p.nms_score_threshold = 0.25f;
  p.nms_iou_threshold = 0.5f;
  p.num_classes = 2;
  return p;
}

// Anchors (y, x, h, w): a0 [0,0,.5,.5]; a1 shifted down by .02 (IoU with a0 = .92);
// a2 [.5,.5,1,1]; a3 small [.4,.4,.6,.6] (IoU .036 with a0 and a2, .043 with a1).
const std::vector<float> kAnchors = {0.25f, 0.25f, 0.5f, 0.5f, 0.27f, 0.25f, 0.5f, 0.5f,
                                     0.75f, 0.75f, 0.5f, 0.5f, 0.5f,  0.5f,  0.2f, 0.2f};
// Scores per anchor: background, class 0, class 1.
const std::vector<float> kScores = {0, 0.9f, 0.1f, 0, 0.8f, 0.7f, 0, 0.2f, 0.6f, 0, 0.05f, 0.3f};

struct Outputs {
  std::vector<float> boxes, classes, scores, count;
};

Result<Outputs> run_postprocess(const DetectionPostProcessParams& p, DType dtype,
                                const std::vector<float>& encodings, const std::vector<float>& scores,
                                const std::vector<float>& anchors) {
  const int32_t n = static_cast<int32_t>(anchors.size() / 4);
  const int32_t c = static_cast<int32_t>(scores.size() / n);
  GraphBuilder b;
  int32_t enc, cls, anc;
  std::vector<std::vector<uint8_t>> inputs;
  if (dtype == F32) {
    enc = b.input(F32, {1, n, 4});
    cls = b.input(F32, {1, n, c});
    anc = b.constant(F32, {n, 4}, anchors);
    inputs = {to_bytes(encodings), to_bytes(scores)};
  } else {  // uint8: encodings with scale 0.1 / zp 128, scores 0.01 / 0, anchors 0.01 / 0
    auto q = [](const std::vector<float>& v, float s, int zp) {
      std::vector<uint8_t> out;
      for (float x : v) out.push_back(static_cast<uint8_t>(std::lround(x / s) + zp));
      return out;
    };
    enc = b.input(DType::kUInt8, {1, n, 4}, testing::per_tensor(0.1f, 128));
    cls = b.input(DType::kUInt8, {1, n, c}, testing::per_tensor(0.01f, 0));
    anc = b.constant(DType::kUInt8, {n, 4}, q(anchors, 0.01f, 0), testing::per_tensor(0.01f, 0));
    inputs = {q(encodings, 0.1f, 128), q(scores, 0.01f, 0)};
  }
  const int32_t d = p.num_detected_boxes();
  int32_t ob = b.tensor(F32, {1, d, 4}), oc = b.tensor(F32, {1, d}), os = b.tensor(F32, {1, d}),
          on = b.tensor(F32, {1});
  graph::Op& op = b.op(graph::OpKind::kDetectionPostProcess, {enc, cls, anc}, {ob, oc, os, on});
  op.custom_code = "TFLite_Detection_PostProcess";
  op.custom_options = p.build();
  for (int32_t id : {ob, oc, os, on}) b.output(id);
  QDET_ASSIGN_OR_RETURN(auto interp, run_graph(b.shared(), inputs));
  return Outputs{values_of<float>(interp->output(0)), values_of<float>(interp->output(1)),
                 values_of<float>(interp->output(2)), values_of<float>(interp->output(3))};
}

TEST(DetectionPostProcessParams, BuildParseRoundTripKeepsUnknownKeys) {
  DetectionPostProcessParams p = params(100, 1, true);
  p.nms_score_threshold = 1e-8f;
  p.y_scale = 10;
  p.h_scale = 5;
  p.extra = {{"_output_quantized", true}, {"_note", std::string("x")}};
  auto q = DetectionPostProcessParams::parse(p.build());
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_EQ(q->max_detections, 100);
  EXPECT_TRUE(q->use_regular_nms);
  EXPECT_EQ(q->nms_score_threshold, 1e-8f);
  EXPECT_EQ(q->num_classes, 2);
  ASSERT_EQ(q->extra.size(), 2u);
  EXPECT_EQ(q->build(), DetectionPostProcessParams::parse(q->build())->build());
  EXPECT_EQ(std::get<bool>(q->extra[1].second), true);  // keys come back sorted
  EXPECT_EQ(q->extra[1].first, "_output_quantized");
}

TEST(DetectionPostProcessParams, MissingKeyAndGarbageAreErrors) {
  flexbuffers::Builder fb;
  fb.Map([&] { fb.Int("max_detections", 10); });
  fb.Finish();
  auto r = DetectionPostProcessParams::parse(fb.GetBuffer());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "TFLite_Detection_PostProcess: option 'max_classes_per_detection' is missing");
  const std::vector<uint8_t> garbage = {1, 2, 3, 250, 7};
  auto g = DetectionPostProcessParams::parse(garbage);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kParseError);
  DetectionPostProcessParams bad = params(10, 1, false);
  bad.nms_iou_threshold = 1.5f;
  EXPECT_EQ(DetectionPostProcessParams::parse(bad.build()).status().message(),
            "TFLite_Detection_PostProcess: invalid nms_iou_threshold 1.5");
}

TEST(DetectionPostProcessParams, SetParamsResizesOutputs) {
  graph::Graph g;
  for (int i = 0; i < 7; ++i) g.add_tensor(graph::Tensor{.name = "t", .shape = {1, 10, 4}});
  g.ops.push_back(graph::Op{.kind = graph::OpKind::kDetectionPostProcess, .inputs = {0, 1, 2},
                            .outputs = {3, 4, 5, 6}});
  ASSERT_TRUE(set_detection_postprocess_params(g, 0, params(100, 1, false)).ok());
  EXPECT_EQ(g.tensors[3].shape, (Shape{1, 100, 4}));
  EXPECT_EQ(g.tensors[5].shape, (Shape{1, 100}));
  EXPECT_EQ(g.tensors[6].shape, (Shape{1}));
  EXPECT_EQ(DetectionPostProcessParams::parse(g.ops[0].custom_options)->max_detections, 100);
}

TEST(DetectionPostProcess, DecodesCenterSizeWithScales) {
  DetectionPostProcessParams p = params(1, 1, false);
  p.num_classes = 1;
  // y 1 / 10 * .5 + .25 = .3; x -2 / 10 * .5 + .25 = .15; half_h = .5 * exp(5 ln2 / 5) * .5 = .5
  auto r = run_postprocess(p, F32, {1, -2, 5 * std::log(2.0f), 0}, {0.9f},
                           {0.25f, 0.25f, 0.5f, 0.5f});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(r->boxes, Pointwise(FloatNear(1e-6f), std::vector<float>{-0.2f, -0.1f, 0.8f, 0.4f}));
  EXPECT_THAT(r->count, ElementsAre(1));
}

TEST(DetectionPostProcess, FastNmsOneClassPerBox) {
  auto r = run_postprocess(params(3, 1, false), F32, std::vector<float>(16, 0), kScores, kAnchors);
  ASSERT_TRUE(r.ok()) << r.status().message();
  // a1 is suppressed by a0; a2 and a3 survive.
  EXPECT_THAT(r->count, ElementsAre(3));
  EXPECT_THAT(r->classes, ElementsAre(0, 1, 1));
  EXPECT_THAT(r->scores, ElementsAre(0.9f, 0.6f, 0.3f));
  EXPECT_THAT(r->boxes, Pointwise(FloatNear(1e-6f), std::vector<float>{0, 0, 0.5f, 0.5f, 0.5f, 0.5f, 1, 1,
                                                                      0.4f, 0.4f, 0.6f, 0.6f}));
}

TEST(DetectionPostProcess, FastNmsTwoClassesPerBoxAndUnusedRowsZero) {
  auto r = run_postprocess(params(4, 2, false), F32, std::vector<float>(16, 0), kScores, kAnchors);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(r->count, ElementsAre(3));
  EXPECT_THAT(r->classes, ElementsAre(0, 1, 1, 0, 1, 0, 0, 0));
  EXPECT_THAT(r->scores, ElementsAre(0.9f, 0.1f, 0.6f, 0.2f, 0.3f, 0.05f, 0, 0));
}

TEST(DetectionPostProcess, RegularNmsPerClass) {
  auto r = run_postprocess(params(3, 1, true), F32, std::vector<float>(16, 0), kScores, kAnchors);
  ASSERT_TRUE(r.ok()) << r.status().message();
  // class 0 keeps a0 (a1 suppressed); class 1 keeps a1, a2, a3; the best three overall.
  EXPECT_THAT(r->count, ElementsAre(3));
  EXPECT_THAT(r->classes, ElementsAre(0, 1, 1));
  EXPECT_THAT(r->scores, ElementsAre(0.9f, 0.7f, 0.6f));
  EXPECT_THAT(r->boxes, Pointwise(FloatNear(1e-6f), std::vector<float>{0, 0, 0.5f, 0.5f, 0.02f, 0, 0.52f,
                                                                      0.5f, 0.5f, 0.5f, 1, 1}));
}

TEST(DetectionPostProcess, RegularNmsPerClassLimitAndPadding) {
  DetectionPostProcessParams p = params(5, 1, true);
  p.detections_per_class = 1;  // one box per class: a0 (class 0), a1 (class 1)
  auto r = run_postprocess(p, F32, std::vector<float>(16, 0), kScores, kAnchors);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(r->count, ElementsAre(2));
  EXPECT_THAT(r->classes, ElementsAre(0, 1, 0, 0, 0));
  EXPECT_THAT(r->scores, ElementsAre(0.9f, 0.7f, 0, 0, 0));
}

TEST(DetectionPostProcess, ScoreThresholdIsInclusiveAndIouStrict) {
  DetectionPostProcessParams p = params(4, 1, false);
  p.nms_score_threshold = 0.3f;  // a3's 0.3 stays
  p.nms_iou_threshold = 0.92307693f;  // a0/a1 IoU = .24 / .26: not greater, a1 survives
  auto r = run_postprocess(p, F32, std::vector<float>(16, 0), kScores, kAnchors);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(r->count, ElementsAre(4));
  EXPECT_THAT(r->scores, ElementsAre(0.9f, 0.8f, 0.6f, 0.3f));
}

TEST(DetectionPostProcess, QuantizedInputsMatchFloat) {
  auto r = run_postprocess(params(3, 1, true), DType::kUInt8, std::vector<float>(16, 0), kScores, kAnchors);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(r->count, ElementsAre(3));
  EXPECT_THAT(r->classes, ElementsAre(0, 1, 1));
  EXPECT_THAT(r->scores, Pointwise(FloatNear(1e-6f), std::vector<float>{0.9f, 0.7f, 0.6f}));
  EXPECT_THAT(r->boxes, Pointwise(FloatNear(1e-6f), std::vector<float>{0, 0, 0.5f, 0.5f, 0.02f, 0, 0.52f,
                                                                      0.5f, 0.5f, 0.5f, 1, 1}));
}

TEST(DetectionPostProcess, InvertedAnchorIsAnError) {
  std::vector<float> anchors = kAnchors;
  anchors[2] = -0.5f;  // negative height
  auto r = run_postprocess(params(3, 1, false), F32, std::vector<float>(16, 0), kScores, anchors);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "op 0 (TFLite_Detection_PostProcess): decoded box 0 is inverted (negative anchor size?)");
}

}  // namespace
}  // namespace qdet::rt
