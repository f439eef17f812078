// TFLite_Detection_PostProcess (the SSD head), exactly as TFLite's detection_postprocess.cc:
//   inputs  box encodings [1, N, >=4] (y, x, h, w per anchor), class predictions [1, N, C]
//           (C = num_classes, or num_classes + 1 with a leading background class), anchors
//           [N, 4] (y, x, h, w); each float32, or uint8/int8 dequantized with its own params;
//   outputs boxes [1, D, 4] (ymin, xmin, ymax, xmax), classes [1, D], scores [1, D], count [1],
//           all float32, D = max_detections * max_classes_per_detection.
// Decoding: yc = y / y_scale * ha + ya, xc = x / x_scale * wa + xa, half_h = 0.5 exp(h / h_scale)
// ha, half_w = 0.5 exp(w / w_scale) wa (in double, as TFLite). NMS: candidates have score >=
// nms_score_threshold, taken in decreasing score order (ties: lower anchor first, as TFLite's
// stable sort), a candidate is dropped when its IoU with a kept box is > nms_iou_threshold.
// Fast NMS (use_regular_nms false) ranks each anchor by its best class and reports its top
// max_classes_per_detection classes; regular NMS runs per class (detections_per_class each) and
// keeps the max_detections best over all classes. TFLite leaves rows past the count unwritten;
// here they are zero. Everything eval needs lives in scratch memory: no allocation.
#include <cmath>
#include <cstring>
#include <numeric>

#include "runtime/detection_postprocess_params.h"
#include "runtime/kernels/reference/common.h"

namespace qdet::rt::ref {
namespace {

struct Box {
  float ymin, xmin, ymax, xmax;
};

struct Layout {
  size_t decoded = 0, scores = 0, work = 0, keep_scores = 0, keep_idx = 0, sorted = 0,
         active = 0, selected = 0, row_work = 0, class_top = 0, after_idx = 0, after_scores = 0,
         sorted2 = 0, sorted_values = 0, total = 0;
};

struct PostData : OpData {
  DetectionPostProcessParams p;
  int32_t num_boxes = 0, box_len = 0, classes_with_bg = 0, label_offset = 0;
  int32_t num_categories = 0;  // min(max_classes_per_detection, num_classes)
  Layout at;
};

struct Dequant {
  float scale = 1.0f, zero_point = 0.0f;
};

Status check_input(const TensorRef& t, const char* role) {
  if (t.dtype == DType::kFloat32) return ok_status();
  if (t.dtype == DType::kUInt8 || t.dtype == DType::kInt8) {
    if (t.quant->empty() || t.quant->per_axis())
      return invalid_argument("{} ({}) needs per-tensor quantization parameters", role,
                              dtype_name(t.dtype));
    return ok_status();
  }
  return unsupported("{} must be float32 or uint8, got {}", role, dtype_name(t.dtype));
}

// Reads element i of a float32/uint8/int8 tensor as float (TFLite's Dequantizer).
inline float value_at(const TensorRef& t, int64_t i) {
  switch (t.dtype) {
    case DType::kUInt8:
      return (static_cast<float>(t.as<const uint8_t>()[i]) - static_cast<float>(t.zero_point())) * t.scale();
    case DType::kInt8:
      return (static_cast<float>(t.as<const int8_t>()[i]) - static_cast<float>(t.zero_point())) * t.scale();
    default:
      return t.as<const float>()[i];
  }
}

Status prepare(PrepareContext& ctx) {
  QDET_TRY(check_arity(ctx, 3, 3, 4));
  auto d = std::make_unique<PostData>();
  QDET_ASSIGN_OR_RETURN(d->p, DetectionPostProcessParams::parse(ctx.op.custom_options));
  const TensorRef& boxes = *ctx.inputs[0];
  const TensorRef& classes = *ctx.inputs[1];
  const TensorRef& anchors = *ctx.inputs[2];
  QDET_TRY(check_input(boxes, "box encodings"));
  QDET_TRY(check_input(classes, "class predictions"));
  QDET_TRY(check_input(anchors, "anchors"));
  if (boxes.shape.size() != 3 || classes.shape.size() != 3 || anchors.shape.size() != 2)
    return invalid_argument("box encodings {} and class predictions {} must be 3-D, anchors {} 2-D",
                            shape_to_string(boxes.shape), shape_to_string(classes.shape),
                            shape_to_string(anchors.shape));
  if (boxes.shape[0] != 1 || classes.shape[0] != 1)
    return unsupported("batch size {} (only 1 is supported, as in TFLite)", boxes.shape[0]);
  d->num_boxes = boxes.shape[1];
  d->box_len = boxes.shape[2];
  d->classes_with_bg = classes.shape[2];
  if (d->box_len < 4) return invalid_argument("box encodings have {} values per box, need >= 4", d->box_len);
  if (classes.shape[1] != d->num_boxes || anchors.shape[0] != d->num_boxes || anchors.shape[1] != 4)
    return invalid_argument("{} boxes, but class predictions {} and anchors {}", d->num_boxes,
                            shape_to_string(classes.shape), shape_to_string(anchors.shape));
  d->label_offset = d->classes_with_bg - d->p.num_classes;
  if (d->label_offset < 0 || d->label_offset > 1)
    return invalid_argument("class predictions have {} classes for num_classes {}",
                            d->classes_with_bg, d->p.num_classes);
  d->num_categories = std::min(d->p.max_classes_per_detection, d->p.num_classes);
  const int32_t det = d->p.num_detected_boxes();
  const Shape shapes[4] = {{1, det, 4}, {1, det}, {1, det}, {1}};
  for (int k = 0; k < 4; ++k) {
    QDET_TRY(expect_dtype(*ctx.outputs[k], DType::kFloat32, "every output"));
    ctx.outputs[k]->shape = shapes[k];
  }

  // Scratch layout (64-byte aligned segments).
  const size_t n = static_cast<size_t>(d->num_boxes);
  const size_t max_det = static_cast<size_t>(d->p.max_detections);
  Layout& L = d->at;
  size_t off = 0;
  auto seg = [&](size_t bytes) {
    const size_t o = off;
    off += (bytes + 63) / 64 * 64;
    return o;
  };
  L.decoded = seg(n * sizeof(Box));
  L.scores = seg(classes.dtype == DType::kFloat32 ? 0 : n * d->classes_with_bg * sizeof(float));
  L.work = seg(n * sizeof(float));
  L.keep_scores = seg(n * sizeof(float));
  L.keep_idx = seg(n * sizeof(int32_t));
  L.sorted = seg(n * sizeof(int32_t));
  L.active = seg(n);
  L.selected = seg(n * sizeof(int32_t));
  if (d->p.use_regular_nms) {
    L.after_idx = seg((n + max_det) * sizeof(int32_t));
    L.after_scores = seg((n + max_det) * sizeof(float));
    L.sorted2 = seg((n + max_det) * sizeof(int32_t));
    L.sorted_values = seg(max_det * sizeof(float));
  } else {
    L.row_work = seg(static_cast<size_t>(d->p.num_classes) * sizeof(int32_t));
    L.class_top = seg(n * d->num_categories * sizeof(int32_t));
  }
  L.total = off;
  ctx.scratch_bytes = off;
  return keep_op_data(ctx, std::move(d));
}

struct Work {
  const PostData& d;
  uint8_t* scratch;
  template <typename T>
  T* at(size_t offset) const { return reinterpret_cast<T*>(scratch + offset); }
  const Box* boxes() const { return at<const Box>(d.at.decoded); }
};

// NaN sorts below everything, so comparisons stay a strict weak order on any input.
inline float key(float v) { return std::isnan(v) ? -std::numeric_limits<float>::infinity() : v; }

// Indices [0, n) sorted by decreasing values[i], ties by increasing i; only the first
// num_to_sort need be ordered (TFLite's DecreasingPartialArgSort; num_to_sort 1 is the first
// maximum, as its ArgMaxVector).
void decreasing_partial_arg_sort(const float* values, int32_t n, int32_t num_to_sort, int32_t* idx) {
  if (n <= 0 || num_to_sort <= 0) return;
  if (num_to_sort == 1) {
    int32_t best = 0;
    for (int32_t i = 1; i < n; ++i)
      if (values[i] > values[best]) best = i;
    idx[0] = best;
    return;
  }
  std::iota(idx, idx + n, 0);
  std::partial_sort(idx, idx + num_to_sort, idx + n, [values](int32_t a, int32_t b) {
    const float ka = key(values[a]), kb = key(values[b]);
    return ka > kb || (ka == kb && a < b);
  });
}

float iou(const Box& a, const Box& b) {
  const float area_a = (a.ymax - a.ymin) * (a.xmax - a.xmin);
  const float area_b = (b.ymax - b.ymin) * (b.xmax - b.xmin);
  if (area_a <= 0 || area_b <= 0) return 0.0f;
  const float ymin = std::max(a.ymin, b.ymin), xmin = std::max(a.xmin, b.xmin);
  const float ymax = std::min(a.ymax, b.ymax), xmax = std::min(a.xmax, b.xmax);
  const float inter = std::max(ymax - ymin, 0.0f) * std::max(xmax - xmin, 0.0f);
  return inter / (area_a + area_b - inter);
}

// TFLite's NonMaxSuppressionSingleClassHelper: writes the selected anchor indices, returns
// how many.
int32_t nms_single_class(const Work& w, const float* scores, int32_t max_detections,
                         int32_t* selected) {
  const PostData& d = w.d;
  float* keep_scores = w.at<float>(d.at.keep_scores);
  int32_t* keep_idx = w.at<int32_t>(d.at.keep_idx);
  int32_t* sorted = w.at<int32_t>(d.at.sorted);
  uint8_t* active = w.at<uint8_t>(d.at.active);
  const Box* boxes = w.boxes();
  int32_t kept = 0;
  for (int32_t i = 0; i < d.num_boxes; ++i)
    if (scores[i] >= d.p.nms_score_threshold) {
      keep_scores[kept] = scores[i];
      keep_idx[kept++] = i;
    }
  // A stable decreasing sort (ties keep anchor order): std::sort with the index as tiebreak
  // gives the same order and allocates nothing.
  std::iota(sorted, sorted + kept, 0);
  std::sort(sorted, sorted + kept, [keep_scores](int32_t a, int32_t b) {
    return keep_scores[a] > keep_scores[b] || (keep_scores[a] == keep_scores[b] && a < b);
  });
  const int32_t output_size = std::min(kept, max_detections);
  int32_t num_selected = 0;
  std::memset(active, 1, static_cast<size_t>(kept));
  int32_t num_active = kept;
  for (int32_t i = 0; i < kept; ++i) {
    if (num_active == 0 || num_selected >= output_size) break;
    if (!active[i]) continue;
    const int32_t anchor_i = keep_idx[sorted[i]];
    selected[num_selected++] = anchor_i;
    active[i] = 0;
    --num_active;
    for (int32_t j = i + 1; j < kept; ++j) {
      if (!active[j]) continue;
      if (iou(boxes[anchor_i], boxes[keep_idx[sorted[j]]]) > d.p.nms_iou_threshold) {
        active[j] = 0;
        --num_active;
      }
    }
  }
  return num_selected;
}

void fast_nms(const Work& w, const float* scores, float* out_boxes, float* out_classes,
              float* out_scores, float* out_count) {
  const PostData& d = w.d;
  float* max_scores = w.at<float>(d.at.work);
  int32_t* row_work = w.at<int32_t>(d.at.row_work);
  int32_t* class_top = w.at<int32_t>(d.at.class_top);
  const int32_t cats = d.num_categories;
  for (int32_t row = 0; row < d.num_boxes; ++row) {
    const float* box_scores = scores + static_cast<size_t>(row) * d.classes_with_bg + d.label_offset;
    decreasing_partial_arg_sort(box_scores, d.p.num_classes, cats, row_work);
    std::memcpy(class_top + static_cast<size_t>(row) * cats, row_work, sizeof(int32_t) * cats);
    max_scores[row] = box_scores[row_work[0]];
  }
  int32_t* selected = w.at<int32_t>(d.at.selected);
  const int32_t n = nms_single_class(w, max_scores, d.p.max_detections, selected);
  const Box* boxes = w.boxes();
  for (int32_t k = 0; k < n; ++k) {
    const int32_t anchor = selected[k];
    const float* box_scores = scores + static_cast<size_t>(anchor) * d.classes_with_bg + d.label_offset;
    for (int32_t col = 0; col < cats; ++col) {
      const int32_t slot = d.p.max_classes_per_detection * k + col;
      const int32_t cls = class_top[static_cast<size_t>(anchor) * cats + col];
      std::memcpy(out_boxes + 4 * slot, &boxes[anchor], sizeof(Box));
      out_classes[slot] = static_cast<float>(cls);
      out_scores[slot] = box_scores[cls];
    }
  }
  *out_count = static_cast<float>(n);
}

void regular_nms(const Work& w, const float* scores, float* out_boxes, float* out_classes,
                 float* out_scores, float* out_count) {
  const PostData& d = w.d;
  const int32_t c_bg = d.classes_with_bg;
  const int32_t max_det = d.p.max_detections;
  float* class_scores = w.at<float>(d.at.work);
  int32_t* selected = w.at<int32_t>(d.at.selected);
  int32_t* after_idx = w.at<int32_t>(d.at.after_idx);
  float* after_scores = w.at<float>(d.at.after_scores);
  int32_t* sorted = w.at<int32_t>(d.at.sorted2);
  float* sorted_values = w.at<float>(d.at.sorted_values);
  int32_t num_sorted = 0;
  for (int32_t col = 0; col < d.p.num_classes; ++col) {
    for (int32_t row = 0; row < d.num_boxes; ++row)
      class_scores[row] = scores[static_cast<size_t>(row) * c_bg + col + d.label_offset];
    const int32_t n = nms_single_class(w, class_scores, d.p.detections_per_class, selected);
    int32_t total = num_sorted;
    for (int32_t k = 0; k < n; ++k) {
      after_idx[total] = selected[k] * c_bg + col + d.label_offset;
      after_scores[total] = class_scores[selected[k]];
      ++total;
    }
    const int32_t to_sort = std::min(total, max_det);
    decreasing_partial_arg_sort(after_scores, total, to_sort, sorted);
    for (int32_t r = 0; r < to_sort; ++r) {
      const int32_t t = sorted[r];
      sorted[r] = after_idx[t];
      sorted_values[r] = after_scores[t];
    }
    for (int32_t r = 0; r < to_sort; ++r) {
      after_idx[r] = sorted[r];
      after_scores[r] = sorted_values[r];
    }
    num_sorted = to_sort;
  }
  const Box* boxes = w.boxes();
  for (int32_t k = 0; k < num_sorted; ++k) {
    const int32_t anchor = after_idx[k] / c_bg;
    const int32_t cls = after_idx[k] - anchor * c_bg - d.label_offset;
    std::memcpy(out_boxes + 4 * k, &boxes[anchor], sizeof(Box));
    out_classes[k] = static_cast<float>(cls);
    out_scores[k] = after_scores[k];
  }
  *out_count = static_cast<float>(num_sorted);
}

Status eval(EvalContext& ctx) {
  const auto& d = *op_data_as<PostData>(ctx);
  const TensorRef& enc = *ctx.inputs[0];
  const TensorRef& cls = *ctx.inputs[1];
  const TensorRef& anchors = *ctx.inputs[2];
  Work w{d, ctx.scratch};
  Box* boxes = w.at<Box>(d.at.decoded);
  const double ys = d.p.y_scale, xs = d.p.x_scale, hs = d.p.h_scale, ws = d.p.w_scale;
  for (int32_t i = 0; i < d.num_boxes; ++i) {
    const int64_t e = static_cast<int64_t>(i) * d.box_len;
    const double y = value_at(enc, e), x = value_at(enc, e + 1), h = value_at(enc, e + 2),
                 wd = value_at(enc, e + 3);
    const double ay = value_at(anchors, 4 * i), ax = value_at(anchors, 4 * i + 1),
                 ah = value_at(anchors, 4 * i + 2), aw = value_at(anchors, 4 * i + 3);
    const float yc = static_cast<float>(y / ys * ah + ay);
    const float xc = static_cast<float>(x / xs * aw + ax);
    const float half_h = static_cast<float>(0.5 * std::exp(h / hs) * ah);
    const float half_w = static_cast<float>(0.5 * std::exp(wd / ws) * aw);
    boxes[i] = {yc - half_h, xc - half_w, yc + half_h, xc + half_w};
    if (boxes[i].ymin > boxes[i].ymax || boxes[i].xmin > boxes[i].xmax)
      return invalid_argument("decoded box {} is inverted (negative anchor size?)", i);
  }
  const float* scores = cls.as<const float>();
  if (cls.dtype != DType::kFloat32) {
    float* s = w.at<float>(d.at.scores);
    const int64_t n = cls.num_elements();
    const int32_t zp = cls.zero_point();
    const float scale = cls.scale();
    if (cls.dtype == DType::kUInt8)
      for (int64_t i = 0; i < n; ++i) s[i] = scale * static_cast<float>(static_cast<int32_t>(cls.as<const uint8_t>()[i]) - zp);
    else
      for (int64_t i = 0; i < n; ++i) s[i] = scale * static_cast<float>(static_cast<int32_t>(cls.as<const int8_t>()[i]) - zp);
    scores = s;
  }
  float* out_boxes = ctx.outputs[0]->as<float>();
  float* out_classes = ctx.outputs[1]->as<float>();
  float* out_scores = ctx.outputs[2]->as<float>();
  float* out_count = ctx.outputs[3]->as<float>();
  std::memset(out_boxes, 0, ctx.outputs[0]->byte_size());
  std::memset(out_classes, 0, ctx.outputs[1]->byte_size());
  std::memset(out_scores, 0, ctx.outputs[2]->byte_size());
  if (d.p.use_regular_nms)
    regular_nms(w, scores, out_boxes, out_classes, out_scores, out_count);
  else
    fast_nms(w, scores, out_boxes, out_classes, out_scores, out_count);
  return ok_status();
}

}  // namespace

const Kernel kDetectionPostProcess = {"reference", prepare, eval};

}  // namespace qdet::rt::ref
