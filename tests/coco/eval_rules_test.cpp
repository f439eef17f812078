// One hand-made case per pycocotools rule, with the numbers worked out by hand (comments give
// the tp/fp sequence that produces them).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "coco/dataset.h"
#include "coco/evaluator.h"
#include "coco/results.h"

namespace qdet::coco {
namespace {

// The precision of a first true positive: tp / (fp + tp + np.spacing(1)) = 1 / (1 + eps).
const double kFirstTp = 1.0 / (1.0 + std::numeric_limits<double>::epsilon());
constexpr double kTol = 1e-12;

Annotation ann(int64_t id, int64_t image, int64_t cat, BoxXywh box, double area = -1,
               bool crowd = false) {
  Annotation a;
  a.id = id;
  a.image_id = image;
  a.category_id = cat;
  a.bbox = box;
  a.area = area < 0 ? box.w * box.h : area;
  a.iscrowd = crowd;
  return a;
}

Dataset make_gt(std::vector<Annotation> anns, std::vector<int64_t> images = {1},
                std::vector<int64_t> cats = {1}) {
  Dataset ds;
  for (int64_t id : images) ds.images.push_back({id, 640, 480, ""});
  for (int64_t id : cats) ds.categories.push_back({id, fmt::format("c{}", id), ""});
  ds.annotations = std::move(anns);
  EXPECT_TRUE(ds.build_index().ok());
  return ds;
}

Detection det(int64_t image, int64_t cat, BoxXywh box, double score) {
  return {image, cat, box, score};
}

EvalResult eval(const Dataset& gt, const std::vector<Detection>& dets, EvalOptions options = {}) {
  auto r = evaluate_detections(gt, dets, options);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? std::move(r).value() : EvalResult{};
}

TEST(EvalParams, ThresholdsAreNumpysLinspace) {
  EvalParams p = EvalParams::coco_defaults();
  ASSERT_EQ(p.iou_thresholds.size(), 10u);
  ASSERT_EQ(p.recall_thresholds.size(), 101u);
  // np.linspace(.5, .95, 10)[8] is 0.8999999999999999 and [9] exactly .95.
  EXPECT_EQ(p.iou_thresholds[0], 0.5);
  EXPECT_EQ(p.iou_thresholds[5], 0.75);
  EXPECT_EQ(p.iou_thresholds[8], 0.8999999999999999);
  EXPECT_NE(p.iou_thresholds[8], 0.9);
  EXPECT_EQ(p.iou_thresholds[9], 0.95);
  EXPECT_EQ(p.recall_thresholds[29], 0.29);
  EXPECT_EQ(p.recall_thresholds[57], 0.5700000000000001);
  EXPECT_EQ(p.recall_thresholds[100], 1.0);
  EXPECT_EQ(p.area_ranges[3].hi, 1e10);
}

// np.mean sums pairwise in blocks of 8192; a plain loop ends 9 ulps away on this input.
TEST(EvalParams, MeanIsNumpys) {
  std::vector<double> v(80800);
  for (size_t i = 0; i < v.size(); ++i) v[i] = ((i * 7919) % 1000) / 997.0 + i * 1e-7;
  EXPECT_EQ(numpy_mean_of_valid(v), 0.5050404763314696);  // numpy 1.24
  v.push_back(-1);  // -1 entries are left out
  EXPECT_EQ(numpy_mean_of_valid(v), 0.5050404763314696);
  EXPECT_EQ(numpy_mean_of_valid(std::vector<double>{-1, -1}), -1);
}

// Crowd regions: a detection inside one is ignored, however many there are; the crowd's IoU is
// the intersection over the detection's own area.
TEST(EvalRules, DetectionsInACrowdAreIgnored) {
  std::vector<Detection> dets = {det(1, 1, {0, 0, 10, 10}, 0.9), det(1, 1, {110, 110, 20, 20}, 0.8),
                                 det(1, 1, {150, 150, 30, 30}, 0.7)};
  // tp, ignored, ignored: precision 1/(1+eps) at every recall.
  EvalResult crowd = eval(make_gt({ann(1, 1, 1, {0, 0, 10, 10}),
                                   ann(2, 1, 1, {100, 100, 100, 100}, -1, true)}), dets);
  EXPECT_NEAR(crowd.stats[kAP], kFirstTp, kTol);
  EXPECT_NEAR(crowd.stats[kAR100], 1.0, kTol);
  // The same region as a regular annotation: IoUs .04 and .09, two false positives, recall 1/2.
  EvalResult regular = eval(make_gt({ann(1, 1, 1, {0, 0, 10, 10}),
                                     ann(2, 1, 1, {100, 100, 100, 100})}), dets);
  EXPECT_NEAR(regular.stats[kAP], 51.0 / 101.0 * kFirstTp, kTol);
  EXPECT_NEAR(regular.stats[kAR100], 0.5, kTol);
}

TEST(EvalRules, CrowdIouIsOverTheDetectionArea) {
  // Detection [10,0,20,10] in crowd [0,0,20,20]: 100 / 200 = .5 (a regular IoU would be .2).
  Dataset gt = make_gt({ann(1, 1, 1, {0, 0, 20, 20}, -1, true), ann(2, 1, 1, {50, 50, 10, 10})});
  EvalResult r = eval(gt, {det(1, 1, {10, 0, 20, 10}, 0.9), det(1, 1, {50, 50, 10, 10}, 0.5)});
  // IoU .50: ignored, tp -> precision 1/(1+eps) everywhere. Above: fp, tp -> 1/2 everywhere.
  EXPECT_NEAR(r.stats[kAP50], kFirstTp, kTol);
  EXPECT_NEAR(r.stats[kAP75], 0.5, kTol);
  EXPECT_NEAR(r.stats[kAP], (kFirstTp + 9 * 0.5) / 10, kTol);
  EXPECT_NEAR(r.stats[kAR1], 0.0, kTol);
}

// pycocotools sets gt['ignore'] = iscrowd, discarding the file's `ignore`; the option honours it.
TEST(EvalRules, IgnoreFlagIsUnusedLikePycocotoolsUnlessAsked) {
  Annotation flagged = ann(1, 1, 1, {0, 0, 10, 10});
  flagged.ignore = true;
  Dataset gt = make_gt({flagged, ann(2, 1, 1, {50, 50, 10, 10})});
  std::vector<Detection> dets = {det(1, 1, {0, 0, 10, 10}, 0.9)};
  EvalResult plain = eval(gt, dets);  // tp, recall 1/2
  EXPECT_NEAR(plain.stats[kAP], 51.0 / 101.0 * kFirstTp, kTol);
  EXPECT_NEAR(plain.stats[kAR100], 0.5, kTol);
  EvalOptions honour;
  honour.use_ignore_flag = true;
  EvalResult ignored = eval(gt, dets, honour);  // the one detection is ignored: nothing recalled
  EXPECT_NEAR(ignored.stats[kAP], 0.0, kTol);
  EXPECT_NEAR(ignored.stats[kAR100], 0.0, kTol);
  EXPECT_EQ(ignored.per_category[0].num_gt, 1);
}

// Area ranges use the annotation's `area` (the mask area in COCO), not the box's.
TEST(EvalRules, AreaRangeFromAnnotationArea) {
  Dataset gt = make_gt({ann(1, 1, 1, {0, 0, 100, 100}, /*area=*/500)});
  EvalResult r = eval(gt, {det(1, 1, {0, 0, 100, 100}, 0.9)});
  EXPECT_NEAR(r.stats[kAPSmall], kFirstTp, kTol);
  EXPECT_EQ(r.stats[kAPMedium], -1);  // no annotation in range: -1, as pycocotools
  EXPECT_EQ(r.stats[kAPLarge], -1);
  EXPECT_NEAR(r.stats[kARSmall], 1.0, kTol);
  EXPECT_EQ(r.stats[kARLarge], -1);
}

// Both ends of an area range are inclusive: area 32² is small and medium.
TEST(EvalRules, AreaRangeBoundsAreInclusive) {
  Dataset gt = make_gt({ann(1, 1, 1, {0, 0, 32, 32})});
  EvalResult r = eval(gt, {det(1, 1, {0, 0, 32, 32}, 0.9)});
  EXPECT_NEAR(r.stats[kAPSmall], kFirstTp, kTol);
  EXPECT_NEAR(r.stats[kAPMedium], kFirstTp, kTol);
  EXPECT_EQ(r.stats[kAPLarge], -1);
}

TEST(EvalRules, MaxDetsKeepsTheHighestScores) {
  Dataset gt = make_gt({ann(1, 1, 1, {0, 0, 10, 10})});
  // fp (.9), tp (.8): AR@1 sees only the miss.
  EvalResult r = eval(gt, {det(1, 1, {50, 50, 10, 10}, 0.9), det(1, 1, {0, 0, 10, 10}, 0.8)});
  EXPECT_NEAR(r.stats[kAR1], 0.0, kTol);
  EXPECT_NEAR(r.stats[kAR10], 1.0, kTol);
  EXPECT_NEAR(r.stats[kAP], 0.5, kTol);
}

// Per image and category only the 100 best detections are matched at all.
TEST(EvalRules, MaxDetsCutsBeforeMatching) {
  Dataset gt = make_gt({ann(1, 1, 1, {0, 0, 10, 10})});
  std::vector<Detection> dets;
  for (int i = 0; i < 100; ++i) dets.push_back(det(1, 1, {100.0 + i, 100, 10, 10}, 0.5 + i * 1e-3));
  dets.push_back(det(1, 1, {0, 0, 10, 10}, 0.4));  // the 101st: cut
  EvalResult r = eval(gt, dets);
  EXPECT_NEAR(r.stats[kAP], 0.0, kTol);
  EXPECT_NEAR(r.stats[kAR100], 0.0, kTol);
  dets.back().score = 0.45;  // still the lowest of 101
  EXPECT_NEAR(eval(gt, dets).stats[kAR100], 0.0, kTol);
  dets.back().score = 0.55;  // now in the 100: found at rank 6
  EXPECT_NEAR(eval(gt, dets).stats[kAR100], 1.0, kTol);
}

// Equal scores keep their order: images by id, then the order within the results.
TEST(EvalRules, ScoreTiesAcrossImagesFollowImageIds) {
  Dataset gt = make_gt({ann(1, 1, 1, {0, 0, 10, 10}), ann(2, 2, 1, {0, 0, 10, 10})}, {1, 2});
  BoxXywh hit{0, 0, 10, 10}, miss{50, 50, 10, 10};
  // image 1 first: tp, fp -> precision 1/(1+eps) up to recall .5.
  EvalResult a = eval(gt, {det(2, 1, miss, 0.5), det(1, 1, hit, 0.5)});
  EXPECT_NEAR(a.stats[kAP], 51.0 / 101.0 * kFirstTp, kTol);
  // fp, tp -> precision 1/2 up to recall .5.
  EvalResult b = eval(gt, {det(2, 1, hit, 0.5), det(1, 1, miss, 0.5)});
  EXPECT_NEAR(b.stats[kAP], 51.0 / 101.0 * 0.5, kTol);
}

TEST(EvalRules, ScoreTiesWithinAnImageFollowTheResultsOrder) {
  Dataset gt = make_gt({ann(1, 1, 1, {0, 0, 10, 10})});
  BoxXywh hit{0, 0, 10, 10}, miss{50, 50, 10, 10};
  EXPECT_NEAR(eval(gt, {det(1, 1, hit, 0.5), det(1, 1, miss, 0.5)}).stats[kAP], kFirstTp, kTol);
  EXPECT_NEAR(eval(gt, {det(1, 1, miss, 0.5), det(1, 1, hit, 0.5)}).stats[kAP], 0.5, kTol);
  EXPECT_NEAR(eval(gt, {det(1, 1, miss, 0.5), det(1, 1, hit, 0.5)}).stats[kAR1], 0.0, kTol);
}

// Greedy matching in score order; among equal IoUs the later annotation wins (`>=`).
TEST(EvalRules, GreedyMatchingTakesTheLaterOfEqualIous) {
  Dataset gt = make_gt({ann(1, 1, 1, {0, 0, 10, 10}), ann(2, 1, 1, {2, 0, 10, 10})});
  // a: IoU 90/110 with both -> takes annotation 2; b then takes annotation 1 at IoU 1.
  EvalResult r = eval(gt, {det(1, 1, {1, 0, 10, 10}, 0.9), det(1, 1, {0, 0, 10, 10}, 0.8)});
  // IoU .50-.80: tp, tp (precision 1); .85-.95: fp, tp (1/2 up to recall .5).
  EXPECT_NEAR(r.stats[kAP], (7 + 3 * (51 * 0.5 / 101)) / 10, kTol);
  EXPECT_NEAR(r.stats[kAR1], 0.35, kTol);
  EXPECT_NEAR(r.stats[kAR10], 0.85, kTol);
}

TEST(EvalRules, CategoryWithoutGroundTruthIsLeftOut) {
  Dataset gt = make_gt({ann(1, 1, 1, {0, 0, 10, 10})}, {1}, {1, 2});
  std::vector<Detection> dets = {det(1, 1, {0, 0, 10, 10}, 0.9)};
  EvalResult alone = eval(gt, dets);
  dets.push_back(det(1, 2, {0, 0, 10, 10}, 0.95));
  dets.push_back(det(1, 2, {20, 20, 10, 10}, 0.3));
  EvalResult with_other = eval(gt, dets);
  EXPECT_EQ(alone.stats, with_other.stats);
  EXPECT_NEAR(with_other.stats[kAP], kFirstTp, kTol);
  ASSERT_EQ(with_other.per_category.size(), 2u);
  EXPECT_EQ(with_other.per_category[1].id, 2);
  EXPECT_EQ(with_other.per_category[1].ap, -1);
  EXPECT_EQ(with_other.per_category[1].num_detections, 2);
  EXPECT_EQ(with_other.precision_at(0, 0, 1, 0, 2), -1);
}

// An image without annotations still counts its detections as false positives.
TEST(EvalRules, ImageWithoutGroundTruth) {
  Dataset gt = make_gt({ann(1, 1, 1, {0, 0, 10, 10})}, {1, 2});
  std::vector<Detection> dets = {det(1, 1, {0, 0, 10, 10}, 0.9), det(2, 1, {0, 0, 10, 10}, 0.95)};
  EvalResult r = eval(gt, dets);  // fp, tp
  EXPECT_NEAR(r.stats[kAP], 0.5, kTol);
  // ... unless the evaluation is limited to image 1 (pycocotools' params.imgIds).
  EvalOptions only1;
  only1.image_ids = {1};
  EXPECT_NEAR(eval(gt, dets, only1).stats[kAP], kFirstTp, kTol);
}

// A small detection on an image without annotations is a false positive among small objects
// only: outside a range, unmatched detections are ignored.
TEST(EvalRules, UnmatchedDetectionsOutsideTheRangeAreIgnored) {
  Dataset gt = make_gt({ann(1, 1, 1, {0, 0, 100, 100})}, {1, 2});
  EvalResult r = eval(gt, {det(1, 1, {0, 0, 100, 100}, 0.9), det(2, 1, {0, 0, 10, 10}, 0.95)});
  EXPECT_NEAR(r.stats[kAPLarge], kFirstTp, kTol);  // the small fp is ignored here
  EXPECT_NEAR(r.stats[kAP], 0.5, kTol);            // but not over all areas
  EXPECT_EQ(r.stats[kAPSmall], -1);
}

// pycocotools records a match by the annotation's id, so a match with id 0 reads as no match.
TEST(EvalRules, AnnotationIdZeroMatchesLikePycocotools) {
  Dataset gt = make_gt({ann(0, 1, 1, {0, 0, 10, 10})});
  EvalResult r = eval(gt, {det(1, 1, {0, 0, 10, 10}, 0.9)});
  EXPECT_NEAR(r.stats[kAP], 0.0, kTol);
  EXPECT_NEAR(r.stats[kAR100], 0.0, kTol);
}

TEST(EvalRules, NoDetectionsAtAll) {
  Dataset gt = make_gt({ann(1, 1, 1, {0, 0, 10, 10})});
  EvalResult r = eval(gt, {});
  EXPECT_EQ(r.stats[kAP], 0);
  EXPECT_EQ(r.stats[kAR100], 0);
  EXPECT_EQ(r.stats[kAPSmall], 0);
  EXPECT_EQ(r.stats[kAPMedium], -1);
}

TEST(EvalErrors, DetectionOnAnUnknownImage) {
  Dataset gt = make_gt({ann(1, 1, 1, {0, 0, 10, 10})});
  auto r = evaluate_detections(gt, std::vector<Detection>{det(1, 1, {0, 0, 1, 1}, 1), det(7, 1, {0, 0, 1, 1}, 1)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "detection 1: image_id 7 is not an image of the ground truth (pycocotools: Results do "
            "not correspond to current coco set)");
}

TEST(EvalErrors, DetectionOfAnUnknownCategory) {
  Dataset gt = make_gt({ann(1, 1, 1, {0, 0, 10, 10})});
  std::vector<Detection> dets = {det(1, 1, {0, 0, 10, 10}, 0.5), det(1, 3, {0, 0, 10, 10}, 0.9)};
  auto r = evaluate_detections(gt, dets);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "detection 1: category_id 3 is not a category of the ground truth (are the model's "
            "class indexes mapped to the dataset's category ids?)");
  EvalOptions drop;
  drop.unknown_categories = UnknownCategory::kDrop;
  auto dropped = evaluate_detections(gt, dets, drop);
  ASSERT_TRUE(dropped.ok());
  EXPECT_NEAR(dropped->stats[kAP], kFirstTp, kTol);
}

TEST(EvalErrors, BadBoxesAndScores) {
  Dataset gt = make_gt({ann(1, 1, 1, {0, 0, 10, 10})});
  auto nan = evaluate_detections(gt, std::vector<Detection>{det(1, 1, {0, std::nan(""), 1, 1}, 1)});
  ASSERT_FALSE(nan.ok());
  EXPECT_EQ(nan.status().message(), "detection 0: bbox [0, nan, 1, 1] is not finite");
  auto negative = evaluate_detections(gt, std::vector<Detection>{det(1, 1, {0, 0, 1, -1}, 1)});
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.status().message(), "detection 0: bbox [0, 0, 1, -1] has a negative size");
  auto score = evaluate_detections(gt, std::vector<Detection>{det(1, 1, {0, 0, 1, 1}, INFINITY)});
  ASSERT_FALSE(score.ok());
  EXPECT_EQ(score.status().message(), "detection 0: score is inf");
}

TEST(EvalErrors, UnknownImageInOptions) {
  Dataset gt = make_gt({ann(1, 1, 1, {0, 0, 10, 10})});
  EvalOptions options;
  options.image_ids = {1, 5};
  auto r = evaluate_detections(gt, {}, options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "eval options: image_id 5 is not an image of the ground truth");
}

TEST(Evaluator, AddImageByImageEqualsAllAtOnce) {
  Dataset gt = make_gt({ann(1, 1, 1, {0, 0, 10, 10}), ann(2, 2, 1, {5, 5, 20, 20}),
                        ann(3, 2, 2, {0, 0, 50, 50}), ann(4, 3, 2, {10, 10, 5, 5}, -1, true)},
                       {1, 2, 3}, {1, 2});
  std::vector<Detection> dets = {det(2, 1, {5, 6, 20, 20}, 0.7), det(1, 1, {0, 0, 9, 10}, 0.7),
                                 det(2, 2, {1, 0, 50, 50}, 0.6), det(3, 2, {10, 10, 4, 4}, 0.9),
                                 det(2, 1, {60, 60, 20, 20}, 0.8)};
  EvalResult all = eval(gt, dets);
  auto ev = CocoEvaluator::create(gt);
  ASSERT_TRUE(ev.ok());
  for (int64_t image : {3, 1, 2}) {
    std::vector<Detection> mine;
    for (const Detection& d : dets)
      if (d.image_id == image) mine.push_back(d);
    ASSERT_TRUE(ev->add_image(image, mine).ok());
  }
  EXPECT_EQ(ev->processed_images(), (std::vector<int64_t>{3, 1, 2}));
  EXPECT_EQ(ev->num_detections(), dets.size());
  auto inc = ev->evaluate();
  ASSERT_TRUE(inc.ok());
  EXPECT_EQ(inc->stats, all.stats);
  EXPECT_EQ(inc->precision, all.precision);
  EXPECT_EQ(inc->recall, all.recall);
  // An image's detections must carry its id; a failed add changes nothing.
  Status bad = ev->add_image(1, std::vector<Detection>{det(2, 1, {0, 0, 1, 1}, 1)});
  EXPECT_EQ(bad.message(), "add_image(1): detection 0 has image_id 2");
  EXPECT_EQ(ev->num_detections(), dets.size());
  EXPECT_EQ(ev->processed_images().size(), 3u);
}

TEST(Evaluator, ArraysHavePycocotoolsShapes) {
  Dataset gt = make_gt({ann(1, 1, 1, {0, 0, 10, 10})}, {1}, {1, 2, 3});
  EvalResult r = eval(gt, {det(1, 1, {0, 0, 10, 10}, 0.9)});
  EXPECT_EQ(r.precision.size(), 10u * 101 * 3 * 4 * 3);
  EXPECT_EQ(r.recall.size(), 10u * 3 * 4 * 3);
  EXPECT_EQ(r.scores.size(), r.precision.size());
  EXPECT_NEAR(r.precision_at(0, 100, 0, 0, 2), kFirstTp, kTol);
  EXPECT_EQ(r.recall_at(9, 0, 0, 0), 1.0);
  EXPECT_EQ(r.scores[0], 0.9);
  EXPECT_EQ(r.precision_at(0, 0, 2, 0, 2), -1);
}

}  // namespace
}  // namespace qdet::coco
