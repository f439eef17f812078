#include "runtime/detection_postprocess_params.h"

#include <flatbuffers/flexbuffers.h>

#include <cmath>
#include <limits>

namespace qdet::rt {

namespace {

constexpr const char* kInterpreted[] = {
    "max_detections", "max_classes_per_detection", "detections_per_class", "use_regular_nms",
    "nms_score_threshold", "nms_iou_threshold", "num_classes", "y_scale", "x_scale",
    "h_scale", "w_scale"};

bool is_number(const flexbuffers::Reference& r) {
  return r.IsNumeric() || r.IsBool();
}

}  // namespace

Result<DetectionPostProcessParams> DetectionPostProcessParams::parse(
    std::span<const uint8_t> options) {
  if (options.empty()) return parse_error("TFLite_Detection_PostProcess has no custom options");
  if (!flexbuffers::VerifyBuffer(options.data(), options.size()))
    return parse_error("TFLite_Detection_PostProcess: custom options are not a valid flexbuffer");
  const auto root = flexbuffers::GetRoot(options.data(), options.size());
  if (!root.IsMap())
    return parse_error("TFLite_Detection_PostProcess: custom options are not a flexbuffer map");
  const auto map = root.AsMap();
  DetectionPostProcessParams p;
  auto get = [&](const char* key, bool required) -> Result<flexbuffers::Reference> {
    auto r = map[key];
    if (r.IsNull()) {
      if (required) return parse_error("TFLite_Detection_PostProcess: option '{}' is missing", key);
      return r;
    }
    if (!is_number(r))
      return parse_error("TFLite_Detection_PostProcess: option '{}' is not a number", key);
    return r;
  };
  auto get_int = [&](const char* key, bool required, int32_t* out) -> Status {
    QDET_ASSIGN_OR_RETURN(auto r, get(key, required));
    if (r.IsNull()) return ok_status();
    const int64_t v = r.AsInt64();
    if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
      return parse_error("TFLite_Detection_PostProcess: option '{}' = {} is out of range", key, v);
    *out = static_cast<int32_t>(v);
    return ok_status();
  };
  auto get_float = [&](const char* key, float* out) -> Status {
    QDET_ASSIGN_OR_RETURN(auto r, get(key, true));
    *out = r.AsFloat();
    return ok_status();
  };
  QDET_TRY(get_int("max_detections", true, &p.max_detections));
  QDET_TRY(get_int("max_classes_per_detection", true, &p.max_classes_per_detection));
  QDET_TRY(get_int("detections_per_class", false, &p.detections_per_class));
  {
    QDET_ASSIGN_OR_RETURN(auto r, get("use_regular_nms", false));
    if (!r.IsNull()) p.use_regular_nms = r.AsBool();
  }
  QDET_TRY(get_float("nms_score_threshold", &p.nms_score_threshold));
  QDET_TRY(get_float("nms_iou_threshold", &p.nms_iou_threshold));
  QDET_TRY(get_int("num_classes", true, &p.num_classes));
  QDET_TRY(get_float("y_scale", &p.y_scale));
  QDET_TRY(get_float("x_scale", &p.x_scale));
  QDET_TRY(get_float("h_scale", &p.h_scale));
  QDET_TRY(get_float("w_scale", &p.w_scale));

  const auto keys = map.Keys();
  const auto values = map.Values();
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string key = keys[i].AsKey();
    bool known = false;
    for (const char* k : kInterpreted) known = known || key == k;
    if (known) continue;
    const auto v = values[i];
    if (v.IsBool())
      p.extra.emplace_back(key, v.AsBool());
    else if (v.IsUInt())
      p.extra.emplace_back(key, v.AsUInt64());
    else if (v.IsInt())
      p.extra.emplace_back(key, v.AsInt64());
    else if (v.IsFloat())
      p.extra.emplace_back(key, v.AsDouble());
    else if (v.IsString())
      p.extra.emplace_back(key, v.AsString().str());
    else
      return unsupported("TFLite_Detection_PostProcess: option '{}' has a type qdet cannot keep", key);
  }

  auto bad = [](const char* what, auto v) {
    return invalid_argument("TFLite_Detection_PostProcess: invalid {} {}", what, v);
  };
  if (p.max_detections < 0 || p.max_detections > (1 << 20)) return bad("max_detections", p.max_detections);
  if (p.max_classes_per_detection < 1 || p.max_classes_per_detection > (1 << 16))
    return bad("max_classes_per_detection", p.max_classes_per_detection);
  if (p.detections_per_class < 1) return bad("detections_per_class", p.detections_per_class);
  if (p.num_classes < 1) return bad("num_classes", p.num_classes);
  if (!(p.nms_iou_threshold > 0.0f && p.nms_iou_threshold <= 1.0f))
    return bad("nms_iou_threshold", p.nms_iou_threshold);
  if (std::isnan(p.nms_score_threshold)) return bad("nms_score_threshold", p.nms_score_threshold);
  for (float s : {p.y_scale, p.x_scale, p.h_scale, p.w_scale})
    if (!(std::isfinite(s) && s != 0.0f)) return bad("scale", s);
  if (static_cast<int64_t>(p.max_detections) * p.max_classes_per_detection > (1 << 24))
    return bad("max_detections x max_classes_per_detection", int64_t{p.max_detections} * p.max_classes_per_detection);
  return p;
}

std::vector<uint8_t> DetectionPostProcessParams::build() const {
  flexbuffers::Builder b;
  const size_t start = b.StartMap();
  b.Int("max_detections", max_detections);
  b.Int("max_classes_per_detection", max_classes_per_detection);
  b.Int("detections_per_class", detections_per_class);
  b.Bool("use_regular_nms", use_regular_nms);
  b.Float("nms_score_threshold", nms_score_threshold);
  b.Float("nms_iou_threshold", nms_iou_threshold);
  b.Int("num_classes", num_classes);
  b.Float("y_scale", y_scale);
  b.Float("x_scale", x_scale);
  b.Float("h_scale", h_scale);
  b.Float("w_scale", w_scale);
  for (const auto& entry : extra) {
    const std::string& key = entry.first;  // not a structured binding: clang 14 cannot capture one
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, bool>) b.Bool(key.c_str(), v);
          else if constexpr (std::is_same_v<T, int64_t>) b.Int(key.c_str(), v);
          else if constexpr (std::is_same_v<T, uint64_t>) b.UInt(key.c_str(), v);
          else if constexpr (std::is_same_v<T, double>) b.Double(key.c_str(), v);
          else b.String(key.c_str(), v);
        },
        entry.second);
  }
  b.EndMap(start);
  b.Finish();
  return b.GetBuffer();
}

Status set_detection_postprocess_params(graph::Graph& graph, size_t op_index,
                                        const DetectionPostProcessParams& params) {
  if (op_index >= graph.ops.size())
    return out_of_range("op {} of {}", op_index, graph.ops.size());
  graph::Op& op = graph.ops[op_index];
  if (op.kind != graph::OpKind::kDetectionPostProcess)
    return invalid_argument("op {} is {}, not TFLite_Detection_PostProcess", op_index, op.name());
  if (op.outputs.size() != 4)
    return invalid_argument("op {} (TFLite_Detection_PostProcess) has {} outputs, expected 4",
                            op_index, op.outputs.size());
  for (int32_t id : op.outputs)
    if (id < 0 || static_cast<size_t>(id) >= graph.tensors.size())
      return out_of_range("op {} output refers to tensor {} of {}", op_index, id, graph.tensors.size());
  op.custom_options = params.build();
  const int32_t n = params.num_detected_boxes();
  const Shape shapes[4] = {{1, n, 4}, {1, n}, {1, n}, {1}};
  for (int k = 0; k < 4; ++k) {
    graph::Tensor& t = graph.tensors[op.outputs[k]];
    t.shape = shapes[k];
    if (!t.shape_signature.empty()) t.shape_signature = shapes[k];
  }
  return ok_status();
}

}  // namespace qdet::rt
