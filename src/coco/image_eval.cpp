#include "coco/image_eval.h"

#include <algorithm>

namespace qdet::coco::detail {
namespace {

// maskApi.c bbIou, operation for operation: IoU of detection d and ground truth g; a crowd's
// union is the detection's own area.
void compute_ious(std::span<const GtBox> gts, std::span<const DtBox> dts, double* iou,
                  double* max_iou) {
  const size_t G = gts.size();
  for (size_t d = 0; d < dts.size(); ++d) {
    const DtBox& D = dts[d];
    double best = 0;
    for (size_t g = 0; g < G; ++g) {
      const GtBox& Gt = gts[g];
      double o = 0;
      double w = std::min(D.x2, Gt.x2) - std::max(D.x1, Gt.x1);
      if (w > 0) {
        double h = std::min(D.y2, Gt.y2) - std::max(D.y1, Gt.y1);
        if (h > 0) {
          double i = w * h;
          double u = Gt.crowd ? D.area : D.area + Gt.box_area - i;
          o = i / u;
        }
      }
      iou[d * G + g] = o;
      best = std::max(best, o);
    }
    max_iou[d] = best;
  }
}

}  // namespace

void evaluate_image_category(std::span<const GtBox> gts, std::span<const DtBox> dts,
                             const MatchConfig& config, ImageEvalScratch& s, uint16_t* masks) {
  const size_t G = gts.size(), D = dts.size(), A = config.areas.size();
  const size_t T = config.thresholds.size();
  const uint16_t all_t = static_cast<uint16_t>((1u << T) - 1);
  if (D == 0) return;

  if (G == 0) {
    // No ground truth: every detection is a false positive where its own area is in range
    // (pycocotools: unmatched detections outside the area range are ignored).
    for (size_t d = 0; d < D; ++d) {
      for (size_t a = 0; a < A; ++a) {
        const AreaRange& r = config.areas[a];
        bool out_of_range = dts[d].area < r.lo || dts[d].area > r.hi;
        masks[d * 2 * A + 2 * a] = 0;
        masks[d * 2 * A + 2 * a + 1] = out_of_range ? 0 : all_t;
      }
    }
    return;
  }

  s.iou.resize(D * G);
  s.iou_sorted.resize(D * G);
  s.max_iou.resize(D);
  s.order.resize(G);
  s.gt_ignore.resize(G);
  s.gt_crowd.resize(G);
  s.gt_id_nonzero.resize(G);
  s.gt_matched.resize(G);
  compute_ious(gts, dts, s.iou.data(), s.max_iou.data());

  for (size_t a = 0; a < A; ++a) {
    const AreaRange& range = config.areas[a];
    // Ground truth ignored last, otherwise in file order (numpy's stable argsort of _ignore).
    size_t n = 0;
    for (int pass = 0; pass < 2; ++pass) {
      for (size_t g = 0; g < G; ++g) {
        bool ig = gts[g].ignore || gts[g].area < range.lo || gts[g].area > range.hi;
        if (ig == (pass == 1)) s.order[n++] = static_cast<uint32_t>(g);
      }
    }
    for (size_t i = 0; i < G; ++i) {
      const GtBox& g = gts[s.order[i]];
      s.gt_ignore[i] = g.ignore || g.area < range.lo || g.area > range.hi;
      s.gt_crowd[i] = g.crowd;
      s.gt_id_nonzero[i] = g.id_nonzero;
    }
    for (size_t d = 0; d < D; ++d)
      for (size_t i = 0; i < G; ++i) s.iou_sorted[d * G + i] = s.iou[d * G + s.order[i]];

    uint16_t* out = masks + 2 * a;
    for (size_t d = 0; d < D; ++d) out[d * 2 * A] = out[d * 2 * A + 1] = 0;

    for (size_t t = 0; t < T; ++t) {
      const double threshold = config.thresholds[t];
      const uint16_t bit = static_cast<uint16_t>(1u << t);
      std::fill(s.gt_matched.begin(), s.gt_matched.end(), 0);
      for (size_t d = 0; d < D; ++d) {
        const bool out_of_range = dts[d].area < range.lo || dts[d].area > range.hi;
        int m = -1;
        if (s.max_iou[d] >= threshold) {
          // Greedy match in pycocotools' order: the best IoU so far wins, later equal IoUs
          // replace earlier ones; stop at the first ignored gt once a regular gt matched.
          double best = threshold;
          const double* row = &s.iou_sorted[d * G];
          for (size_t i = 0; i < G; ++i) {
            if (s.gt_matched[i] && !s.gt_crowd[i]) continue;
            if (m > -1 && !s.gt_ignore[m] && s.gt_ignore[i]) break;
            if (row[i] < best) continue;
            best = row[i];
            m = static_cast<int>(i);
          }
        }
        bool matched_id = false;  // pycocotools' dtm != 0
        bool ignored = false;     // pycocotools' dtIg
        if (m >= 0) {
          s.gt_matched[m] = 1;
          ignored = s.gt_ignore[m];
          matched_id = s.gt_id_nonzero[m];
        }
        if (!matched_id && out_of_range) ignored = true;
        if (!ignored) out[d * 2 * A + (matched_id ? 0 : 1)] |= bit;
      }
    }
  }
}

}  // namespace qdet::coco::detail
