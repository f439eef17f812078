// The darknet [yolo] head (head.h): raw per-layer grids -> candidates in input pixels.
#include <cmath>

#include "detect/head.h"
#include "detect/head_common.h"

namespace qdet::detect {
namespace {

float sigmoid(float x) { return 1.f / (1.f + std::exp(-x)); }

}  // namespace

Result<std::vector<Detection>> decode_yolo(std::span<const OutputView> outputs, const HeadOptions& opt) {
  if (outputs.empty()) return invalid_argument("yolo head expects one output per [yolo] layer, got none");
  if (opt.anchors.size() != outputs.size())
    return invalid_argument("yolo head: {} outputs but anchors for {} (a sidecar gives them per output)",
                            outputs.size(), opt.anchors.size());
  if (opt.input_width < 1 || opt.input_height < 1)
    return invalid_argument("yolo head needs the model input size (got {}x{})", opt.input_width, opt.input_height);
  std::vector<Detection> out;
  const float thr = opt.score_threshold;
  for (size_t o = 0; o < outputs.size(); ++o) {
    const OutputView& v = outputs[o];
    QDET_TRY(internal::check_view(v));
    const auto& anchors = opt.anchors[o];
    const int64_t na = static_cast<int64_t>(anchors.size());
    const Shape& s = v.shape;
    if (s.size() != 4 || s[0] != 1 || s[3] % na != 0 || s[3] / na < 6)
      return invalid_argument("yolo head: output '{}' has shape {}, expected [1, H, W, {} x (5 + classes)]", v.name,
                              shape_to_string(s), na);
    const int64_t gh = s[1], gw = s[2], width = s[3] / na, classes = width - 5;
    Status st = internal::with_reader(v, [&](auto read) {
      for (int64_t y = 0; y < gh; ++y)
        for (int64_t x = 0; x < gw; ++x)
          for (int64_t a = 0; a < na; ++a) {
            const size_t base = static_cast<size_t>(((y * gw + x) * na + a) * width);
            const float obj = sigmoid(read(base + 4));
            if (!(obj > thr)) continue;
            const float cx = (static_cast<float>(x) + sigmoid(read(base))) / static_cast<float>(gw) *
                             static_cast<float>(opt.input_width);
            const float cy = (static_cast<float>(y) + sigmoid(read(base + 1))) / static_cast<float>(gh) *
                             static_cast<float>(opt.input_height);
            const float w = std::exp(read(base + 2)) * anchors[a][0];
            const float h = std::exp(read(base + 3)) * anchors[a][1];
            auto emit = [&](int64_t k, float score) {
              Detection d;
              d.x0 = cx - 0.5f * w;
              d.y0 = cy - 0.5f * h;
              d.x1 = cx + 0.5f * w;
              d.y1 = cy + 0.5f * h;
              d.class_id = static_cast<int>(k);
              d.score = score;
              out.push_back(d);
            };
            if (opt.multi_label) {
              for (int64_t k = 0; k < classes; ++k) {
                const float score = obj * sigmoid(read(base + 5 + k));
                if (score > thr) emit(k, score);
              }
            } else {
              int64_t best = 0;
              float best_t = read(base + 5);
              for (int64_t k = 1; k < classes; ++k)
                if (read(base + 5 + k) > best_t) best_t = read(base + 5 + k), best = k;
              const float score = obj * sigmoid(best_t);
              if (score > thr) emit(best, score);
            }
          }
    });
    QDET_TRY(st);
  }
  return out;
}

}  // namespace qdet::detect
