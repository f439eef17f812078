// YOLOX (decoded and raw grid) and YOLOv5 heads: rows of cx, cy, w, h, objectness, classes.
#include <algorithm>
#include <array>
#include <cmath>

#include "detect/head.h"
#include "detect/head_common.h"

namespace qdet::detect {
namespace {

struct RowsShape {
  int64_t rows = 0;
  int64_t width = 0;  // 5 + classes
};

Result<RowsShape> rows_shape(std::span<const OutputView> outputs, const char* head) {
  if (outputs.size() != 1)
    return invalid_argument("{} head expects 1 output tensor, got {}", head, outputs.size());
  const OutputView& v = outputs[0];
  QDET_TRY(internal::check_view(v));
  const Shape& s = v.shape;
  const bool ok3 = s.size() == 3 && s[0] == 1;
  const bool ok2 = s.size() == 2;
  if (!(ok3 || ok2) || s.back() < 6)
    return invalid_argument("{} head: output '{}' has shape {}, expected [1, N, 5 + classes]", head,
                            v.name, shape_to_string(s));
  return RowsShape{s[s.size() - 2], s.back()};
}

// Largest value a class score can dequantize to (1 for float outputs): lets the objectness
// pre-filter (score = obj x cls <= obj x this) skip rows exactly.
float max_class_value(const OutputView& v) {
  switch (v.dtype) {
    case DType::kUInt8: return std::max(1.f, v.scale * static_cast<float>(255 - v.zero_point));
    case DType::kInt8: return std::max(1.f, v.scale * static_cast<float>(127 - v.zero_point));
    default: return 1.f;
  }
}

// Decodes every row; `box(row, t0, t1, t2, t3)` returns {cx, cy, w, h} in input pixels.
template <typename BoxFn>
Result<std::vector<Detection>> decode_rows(const OutputView& v, RowsShape rs, const HeadOptions& opt,
                                           BoxFn box) {
  std::vector<Detection> out;
  const float thr = opt.score_threshold;
  const float cls_max = max_class_value(v);
  const int64_t classes = rs.width - 5;
  Status st = internal::with_reader(v, [&](auto read) {
    for (int64_t r = 0; r < rs.rows; ++r) {
      const size_t base = static_cast<size_t>(r * rs.width);
      const float obj = read(base + 4);
      if (!(obj * cls_max > thr)) continue;
      const std::array<float, 4> b = box(r, read(base), read(base + 1), read(base + 2), read(base + 3));
      auto emit = [&](int64_t k, float score) {
        Detection d;
        d.x0 = b[0] - 0.5f * b[2];
        d.y0 = b[1] - 0.5f * b[3];
        d.x1 = b[0] + 0.5f * b[2];
        d.y1 = b[1] + 0.5f * b[3];
        d.class_id = static_cast<int>(k);
        d.score = score;
        out.push_back(d);
      };
      if (opt.multi_label) {
        for (int64_t k = 0; k < classes; ++k) {
          const float score = obj * read(base + 5 + k);
          if (score > thr) emit(k, score);
        }
      } else {
        int64_t best = 0;
        float best_p = read(base + 5);
        for (int64_t k = 1; k < classes; ++k) {
          const float p = read(base + 5 + k);
          if (p > best_p) best_p = p, best = k;
        }
        const float score = obj * best_p;
        if (score > thr) emit(best, score);
      }
    }
  });
  QDET_TRY(st);
  return out;
}

Status check_input_size(const HeadOptions& opt, const char* head) {
  if (opt.input_width < 1 || opt.input_height < 1)
    return invalid_argument("{} head needs the model input size (got {}x{})", head, opt.input_width,
                            opt.input_height);
  return ok_status();
}

}  // namespace

Result<std::vector<Detection>> decode_yolox(std::span<const OutputView> outputs, const HeadOptions& opt) {
  QDET_ASSIGN_OR_RETURN(RowsShape rs, rows_shape(outputs, "yolox"));
  return decode_rows(outputs[0], rs, opt, [](int64_t, float cx, float cy, float w, float h) {
    return std::array<float, 4>{cx, cy, w, h};
  });
}

Result<std::vector<Detection>> decode_yolox_raw(std::span<const OutputView> outputs,
                                                const HeadOptions& opt) {
  QDET_ASSIGN_OR_RETURN(RowsShape rs, rows_shape(outputs, "yolox_raw"));
  QDET_TRY(check_input_size(opt, "yolox_raw"));
  // Grid cell and stride of every row: the stride-8 grid first, then 16, 32 (YOLOX order).
  struct Cell {
    float gx, gy, stride;
  };
  std::vector<Cell> cells;
  for (int s : opt.strides) {
    if (s < 1) return invalid_argument("yolox_raw head: stride {} must be positive", s);
    const int gw = opt.input_width / s, gh = opt.input_height / s;
    for (int y = 0; y < gh; ++y)
      for (int x = 0; x < gw; ++x)
        cells.push_back({static_cast<float>(x), static_cast<float>(y), static_cast<float>(s)});
  }
  if (static_cast<int64_t>(cells.size()) != rs.rows)
    return invalid_argument("yolox_raw head: output '{}' has {} rows but a {}x{} input with strides {} gives {}",
                            outputs[0].name, rs.rows, opt.input_width, opt.input_height,
                            fmt::join(opt.strides, "/"), cells.size());
  return decode_rows(outputs[0], rs, opt, [&](int64_t r, float t0, float t1, float t2, float t3) {
    const Cell& c = cells[static_cast<size_t>(r)];
    return std::array<float, 4>{(t0 + c.gx) * c.stride, (t1 + c.gy) * c.stride,
                                std::exp(t2) * c.stride, std::exp(t3) * c.stride};
  });
}

Result<std::vector<Detection>> decode_yolov5(std::span<const OutputView> outputs, const HeadOptions& opt) {
  QDET_ASSIGN_OR_RETURN(RowsShape rs, rows_shape(outputs, "yolov5"));
  QDET_TRY(check_input_size(opt, "yolov5"));
  const float w = static_cast<float>(opt.input_width), h = static_cast<float>(opt.input_height);
  return decode_rows(outputs[0], rs, opt, [w, h](int64_t, float cx, float cy, float bw, float bh) {
    return std::array<float, 4>{cx * w, cy * h, bw * w, bh * h};
  });
}

}  // namespace qdet::detect
