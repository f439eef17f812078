// The FastestDet head (head.h): one grid of objectness, box and class scores -> candidates in
// input pixels.
#include <cmath>

#include "detect/head.h"
#include "detect/head_common.h"

namespace qdet::detect {
namespace {

float sigmoid(float x) { return 1.f / (1.f + std::exp(-x)); }

}  // namespace

Result<std::vector<Detection>> decode_fastestdet(std::span<const OutputView> outputs, const HeadOptions& opt) {
  if (outputs.size() != 1)
    return invalid_argument("fastestdet head expects 1 output tensor, got {}", outputs.size());
  const OutputView& v = outputs[0];
  QDET_TRY(internal::check_view(v));
  const Shape& s = v.shape;
  if (s.size() != 4 || s[0] != 1 || s[3] < 6)
    return invalid_argument("fastestdet head: output '{}' has shape {}, expected [1, H, W, 5 + classes]", v.name,
                            shape_to_string(s));
  if (opt.input_width < 1 || opt.input_height < 1)
    return invalid_argument("fastestdet head needs the model input size (got {}x{})", opt.input_width,
                            opt.input_height);
  const int64_t gh = s[1], gw = s[2], width = s[3], classes = width - 5;
  const float thr = opt.score_threshold;
  const float in_w = static_cast<float>(opt.input_width), in_h = static_cast<float>(opt.input_height);
  std::vector<Detection> out;
  Status st = internal::with_reader(v, [&](auto read) {
    for (int64_t y = 0; y < gh; ++y)
      for (int64_t x = 0; x < gw; ++x) {
        const size_t base = static_cast<size_t>((y * gw + x) * width);
        const float obj = read(base);
        const float cx = (std::tanh(read(base + 1)) + static_cast<float>(x)) / static_cast<float>(gw) * in_w;
        const float cy = (std::tanh(read(base + 2)) + static_cast<float>(y)) / static_cast<float>(gh) * in_h;
        const float w = sigmoid(read(base + 3)) * in_w, h = sigmoid(read(base + 4)) * in_h;
        Detection d;
        d.x0 = cx - 0.5f * w;
        d.y0 = cy - 0.5f * h;
        d.x1 = cx + 0.5f * w;
        d.y1 = cy + 0.5f * h;
        auto emit = [&](int64_t k, float p) {
          const float score = std::pow(obj, 0.6f) * std::pow(p, 0.4f);
          if (!(score > thr)) return;
          d.class_id = static_cast<int>(k);
          d.score = score;
          out.push_back(d);
        };
        if (opt.multi_label) {
          for (int64_t k = 0; k < classes; ++k) emit(k, read(base + 5 + k));
        } else {
          int64_t best = 0;
          for (int64_t k = 1; k < classes; ++k)
            if (read(base + 5 + k) > read(base + 5 + best)) best = k;
          emit(best, read(base + 5 + best));
        }
      }
  });
  QDET_TRY(st);
  return out;
}

}  // namespace qdet::detect
