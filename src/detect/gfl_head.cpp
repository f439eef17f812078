// The GFL head of NanoDet (head.h): per level a class-score tensor and a box-distribution
// tensor -> candidates in input pixels.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "detect/head.h"
#include "detect/head_common.h"

namespace qdet::detect {
namespace {

// NanoDet keeps the best 1000 cells of a level (by their best class score) before NMS.
constexpr int64_t kCellsPerLevel = 1000;

// [1, N, K] or [N, K] -> {N, K}.
Result<std::array<int64_t, 2>> rows_and_width(const OutputView& v) {
  QDET_TRY(internal::check_view(v));
  const Shape& s = v.shape;
  if ((s.size() == 3 && s[0] == 1) || s.size() == 2) return std::array<int64_t, 2>{s[s.size() - 2], s.back()};
  return invalid_argument("gfl head: output '{}' has shape {}, expected [1, cells, K]", v.name, shape_to_string(s));
}

// The expected value of one side's distance distribution, in bins: softmax over `bins` logits,
// weighted by the bin index (NanoDet's Integral layer).
template <typename Read>
float expected_bin(Read& read, size_t base, int64_t bins) {
  float mx = read(base);
  for (int64_t i = 1; i < bins; ++i) mx = std::max(mx, read(base + i));
  float sum = 0.f, weighted = 0.f;
  for (int64_t i = 0; i < bins; ++i) {
    const float e = std::exp(read(base + i) - mx);
    sum += e;
    weighted += e * static_cast<float>(i);
  }
  return weighted / sum;
}

}  // namespace

Result<std::vector<Detection>> decode_gfl(std::span<const OutputView> outputs, const HeadOptions& opt) {
  if (outputs.empty() || outputs.size() % 2 != 0)
    return invalid_argument("gfl head expects a (class scores, box distribution) pair per level, got {} outputs",
                            outputs.size());
  const size_t levels = outputs.size() / 2;
  if (opt.strides.size() != levels)
    return invalid_argument("gfl head: {} levels but {} strides", levels, opt.strides.size());
  if (opt.input_width < 1 || opt.input_height < 1)
    return invalid_argument("gfl head needs the model input size (got {}x{})", opt.input_width, opt.input_height);
  std::vector<std::array<int64_t, 2>> dims;
  for (const OutputView& v : outputs) {
    QDET_ASSIGN_OR_RETURN(auto d, rows_and_width(v));
    dims.push_back(d);
  }
  const float in_w = static_cast<float>(opt.input_width), in_h = static_cast<float>(opt.input_height);
  const float thr = opt.score_threshold;
  std::vector<Detection> out;
  std::vector<bool> used(outputs.size(), false);
  for (size_t l = 0; l < levels; ++l) {
    const int stride = opt.strides[l];
    if (stride < 1) return invalid_argument("gfl head: stride {} must be positive", stride);
    const int64_t gw = (opt.input_width + stride - 1) / stride, gh = (opt.input_height + stride - 1) / stride;
    // The level's two outputs: the first with its cell count holds the class scores, the
    // second the box distributions.
    std::vector<size_t> pair;
    for (size_t i = 0; i < outputs.size(); ++i)
      if (!used[i] && dims[i][0] == gw * gh && pair.size() < 2) pair.push_back(i);
    if (pair.size() != 2)
      return invalid_argument("gfl head: a {}x{} input at stride {} has {} cells, and {} outputs have that many rows "
                              "(expected class scores and box distributions)",
                              opt.input_width, opt.input_height, stride, gw * gh, pair.size());
    used[pair[0]] = used[pair[1]] = true;
    const OutputView& cls = outputs[pair[0]];
    const OutputView& box = outputs[pair[1]];
    const auto cs = dims[pair[0]], bs = dims[pair[1]];
    if (bs[1] % 4 != 0 || bs[1] < 8)
      return invalid_argument("gfl head: box output '{}' has {} values per cell, expected 4 x bins", box.name, bs[1]);
    const int64_t cells = cs[0], classes = cs[1], bins = bs[1] / 4;

    Status box_status = ok_status();
    Status st = internal::with_reader(cls, [&](auto score) {
      // Each cell's best class score; the best kCellsPerLevel cells are decoded.
      std::vector<float> best(static_cast<size_t>(cells));
      for (int64_t r = 0; r < cells; ++r) {
        float m = score(static_cast<size_t>(r * classes));
        for (int64_t k = 1; k < classes; ++k) m = std::max(m, score(static_cast<size_t>(r * classes + k)));
        best[static_cast<size_t>(r)] = m;
      }
      std::vector<int64_t> order(static_cast<size_t>(cells));
      std::iota(order.begin(), order.end(), 0);
      if (cells > kCellsPerLevel) {
        std::partial_sort(order.begin(), order.begin() + kCellsPerLevel, order.end(), [&](int64_t a, int64_t b) {
          const float ba = best[static_cast<size_t>(a)], bb = best[static_cast<size_t>(b)];
          return ba > bb || (ba == bb && a < b);
        });
        order.resize(kCellsPerLevel);
      }
      box_status = internal::with_reader(box, [&](auto dist) {
        for (int64_t r : order) {
          if (!(best[static_cast<size_t>(r)] > thr)) continue;
          const float cx = (static_cast<float>(r % gw) + 0.5f) * static_cast<float>(stride);
          const float cy = (static_cast<float>(r / gw) + 0.5f) * static_cast<float>(stride);
          float d[4];
          for (int j = 0; j < 4; ++j)
            d[j] = expected_bin(dist, static_cast<size_t>(r * bs[1] + j * bins), bins) * static_cast<float>(stride);
          Detection det;
          det.x0 = std::clamp(cx - d[0], 0.f, in_w);
          det.y0 = std::clamp(cy - d[1], 0.f, in_h);
          det.x1 = std::clamp(cx + d[2], 0.f, in_w);
          det.y1 = std::clamp(cy + d[3], 0.f, in_h);
          const size_t base = static_cast<size_t>(r * classes);
          if (opt.multi_label) {
            for (int64_t k = 0; k < classes; ++k) {
              const float s = score(base + k);
              if (!(s > thr)) continue;
              det.class_id = static_cast<int>(k);
              det.score = s;
              out.push_back(det);
            }
          } else {
            int64_t k_best = 0;
            for (int64_t k = 1; k < classes; ++k)
              if (score(base + k) > score(base + k_best)) k_best = k;
            det.class_id = static_cast<int>(k_best);
            det.score = score(base + k_best);
            out.push_back(det);
          }
        }
      });
    });
    QDET_TRY(st);
    QDET_TRY(box_status);
  }
  return out;
}

}  // namespace qdet::detect
