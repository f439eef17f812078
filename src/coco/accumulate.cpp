#include "coco/accumulate.h"

#include <algorithm>
#include <bit>
#include <limits>

namespace qdet::coco::detail {
namespace {

// np.spacing(1): pycocotools adds it to the precision's denominator.
constexpr double kSpacing1 = std::numeric_limits<double>::epsilon();

double pairwise_sum(const double* a, size_t n) {
  if (n < 8) {
    double res = 0.;
    for (size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    size_t i = 8;
    for (; i < n - (n % 8); i += 8)
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  size_t n2 = n / 2;
  n2 -= n2 % 8;
  return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

}  // namespace

double numpy_sum(std::span<const double> values) {
  constexpr size_t kBlock = 8192;
  double sum = 0.;
  for (size_t start = 0; start < values.size(); start += kBlock)
    sum += pairwise_sum(values.data() + start, std::min(kBlock, values.size() - start));
  return sum;
}

void accumulate_category(const SortedDetections& dets, std::span<const int64_t> npig,
                         const EvalParams& p, size_t k, size_t K, double* precision,
                         double* recall, double* scores, AccumulateScratch& s) {
  const size_t T = p.iou_thresholds.size(), R = p.recall_thresholds.size();
  const size_t A = p.area_ranges.size(), M = p.max_dets.size();
  const uint16_t all_t = static_cast<uint16_t>((1u << T) - 1);
  const size_t N = dets.scores.size();

  for (size_t a = 0; a < A; ++a) {
    if (npig[a] == 0) continue;  // no ground truth to recall: stays -1
    const double n_gt = static_cast<double>(npig[a]);
    for (size_t m = 0; m < M; ++m) {
      const size_t max_det = static_cast<size_t>(p.max_dets[m]);
      int64_t tp[kMaxIouThresholds] = {}, fp_partial[kMaxIouThresholds] = {};
      int64_t fp_all = 0;  // detections that are false positives at every threshold
      for (size_t t = 0; t < T; ++t) {
        s.pr[t].clear();
        s.score[t].clear();
      }
      size_t nd = 0;
      uint16_t first_tp = 0;
      double first_score = 0;
      // tp_sum / fp_sum of pycocotools, walked once; precision is only needed where a true
      // positive raises it: in between it only falls, so the right-to-left maximum and the
      // recall search (rc only rises at true positives) see the same values.
      for (size_t i = 0; i < N; ++i) {
        if (dets.ranks[i] >= max_det) continue;
        const uint16_t tp_mask = dets.masks[i * 2 * A + 2 * a];
        const uint16_t fp_mask = dets.masks[i * 2 * A + 2 * a + 1];
        if (nd == 0) {
          first_tp = tp_mask;
          first_score = dets.scores[i];
        }
        ++nd;
        if (fp_mask == all_t) {
          ++fp_all;
        } else {
          for (unsigned bits = fp_mask; bits; bits &= bits - 1) ++fp_partial[std::countr_zero(bits)];
        }
        for (unsigned bits = tp_mask; bits; bits &= bits - 1) {
          const int t = std::countr_zero(bits);
          const double tps = static_cast<double>(++tp[t]);
          const double fps = static_cast<double>(fp_partial[t] + fp_all);
          s.pr[t].push_back(tps / (fps + tps + kSpacing1));
          s.score[t].push_back(dets.scores[i]);
        }
      }
      for (size_t t = 0; t < T; ++t) {
        std::vector<double>& pr = s.pr[t];
        const size_t n = pr.size();
        recall[((t * K + k) * A + a) * M + m] = nd ? static_cast<double>(n) / n_gt : 0.0;
        for (size_t i = n; i-- > 1;)
          if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
        auto at = [&](size_t r) { return (((t * R + r) * K + k) * A + a) * M + m; };
        for (size_t r = 0; r < R; ++r) precision[at(r)] = scores[at(r)] = 0.0;
        if (nd == 0) continue;
        // np.searchsorted(rc, recThrs, side='left'): the first position whose recall reaches
        // the threshold; past the end the remaining thresholds keep 0.
        const double rc0 = (first_tp >> t) & 1 ? 1.0 / n_gt : 0.0;
        size_t j = 0;
        for (size_t r = 0; r < R; ++r) {
          const double thr = p.recall_thresholds[r];
          if (rc0 >= thr) {
            precision[at(r)] = n ? pr[0] : 0.0;
            scores[at(r)] = first_score;
            continue;
          }
          while (j < n && static_cast<double>(j + 1) / n_gt < thr) ++j;
          if (j == n) break;
          precision[at(r)] = pr[j];
          scores[at(r)] = s.score[t][j];
        }
      }
    }
  }
}

}  // namespace qdet::coco::detail
