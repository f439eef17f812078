// SSD: the outputs of TFLite_Detection_PostProcess (boxes, classes, scores, count).
#include <cmath>

#include "detect/head.h"
#include "detect/head_common.h"
#include "detect/labels.h"

namespace qdet::detect {

Result<std::vector<Detection>> decode_ssd(std::span<const OutputView> outputs, const HeadOptions& opt) {
  if (outputs.size() != 4)
    return invalid_argument("ssd head expects 4 outputs (boxes, classes, scores, count), got {}",
                            outputs.size());
  for (const OutputView& v : outputs) QDET_TRY(internal::check_view(v));
  const OutputView &boxes = outputs[0], &classes = outputs[1], &scores = outputs[2], &count = outputs[3];
  if (boxes.shape.size() != 3 || boxes.shape[0] != 1 || boxes.shape[2] != 4)
    return invalid_argument("ssd head: boxes '{}' has shape {}, expected [1, K, 4]", boxes.name,
                            shape_to_string(boxes.shape));
  const int64_t k = boxes.shape[1];
  if (classes.num_elements() < k || scores.num_elements() < k || count.num_elements() < 1)
    return invalid_argument("ssd head: classes {} / scores {} / count {} do not match boxes {}",
                            shape_to_string(classes.shape), shape_to_string(scores.shape),
                            shape_to_string(count.shape), shape_to_string(boxes.shape));
  if (opt.input_width < 1 || opt.input_height < 1)
    return invalid_argument("ssd head needs the model input size");
  float n_valid = 0;
  QDET_TRY(internal::with_reader(count, [&](auto read) { n_valid = read(0); }));
  if (!(n_valid >= 0)) n_valid = 0;
  const int64_t n = std::min<int64_t>(k, static_cast<int64_t>(n_valid));
  std::vector<float> box(static_cast<size_t>(k) * 4), cls(k), score(k);
  QDET_TRY(internal::with_reader(boxes, [&](auto read) {
    for (size_t i = 0; i < box.size(); ++i) box[i] = read(i);
  }));
  QDET_TRY(internal::with_reader(classes, [&](auto read) {
    for (int64_t i = 0; i < k; ++i) cls[i] = read(i);
  }));
  QDET_TRY(internal::with_reader(scores, [&](auto read) {
    for (int64_t i = 0; i < k; ++i) score[i] = read(i);
  }));
  const float w = static_cast<float>(opt.input_width), h = static_cast<float>(opt.input_height);
  std::vector<Detection> out;
  for (int64_t i = 0; i < n; ++i) {
    if (!(score[i] > opt.score_threshold) || !std::isfinite(cls[i])) continue;
    int id = static_cast<int>(std::lround(cls[i]));
    if (opt.class_map == ClassMap::kCoco91) {
      id = coco_id_to_80(id + 1);
      if (id < 0) continue;  // an id COCO does not use
    }
    Detection d;
    d.y0 = box[4 * i] * h;
    d.x0 = box[4 * i + 1] * w;
    d.y1 = box[4 * i + 2] * h;
    d.x1 = box[4 * i + 3] * w;
    d.class_id = id;
    d.score = score[i];
    out.push_back(d);
  }
  return out;
}

}  // namespace qdet::detect
