// MODEL.qdet.json: a JSON object whose keys override a preset's fields (preset.h lists them).
#include <nlohmann/json.hpp>

#include <cmath>
#include <string>

#include "base/file.h"
#include "detect/preset.h"

namespace qdet::detect {
namespace {

using nlohmann::json;

struct Ctx {
  std::string_view source;
  Status type_error(const std::string& key, const char* want) const {
    return invalid_argument("{}: '{}' must be {}", source, key, want);
  }
};

Result<float> get_number(const Ctx& c, const std::string& key, const json& v) {
  if (!v.is_number()) return c.type_error(key, "a number");
  const double d = v.get<double>();
  if (!std::isfinite(d)) return c.type_error(key, "a finite number");
  return static_cast<float>(d);
}

Result<int> get_int(const Ctx& c, const std::string& key, const json& v, int lo, int hi) {
  if (!v.is_number_integer()) return c.type_error(key, "an integer");
  const int64_t i = v.get<int64_t>();
  if (i < lo || i > hi) return invalid_argument("{}: '{}' = {} is not in {}..{}", c.source, key, i, lo, hi);
  return static_cast<int>(i);
}

Result<std::string> get_string(const Ctx& c, const std::string& key, const json& v) {
  if (!v.is_string()) return c.type_error(key, "a string");
  return v.get<std::string>();
}

Result<std::array<float, 3>> get_triple(const Ctx& c, const std::string& key, const json& v) {
  if (v.is_number()) {
    QDET_ASSIGN_OR_RETURN(float x, get_number(c, key, v));
    return std::array<float, 3>{x, x, x};
  }
  if (!v.is_array() || v.size() != 3) return c.type_error(key, "a number or an array of 3 numbers");
  std::array<float, 3> out{};
  for (size_t i = 0; i < 3; ++i) {
    QDET_ASSIGN_OR_RETURN(out[i], get_number(c, key, v[i]));
  }
  return out;
}

template <typename T>
Result<T> with_source(Result<T> r, const Ctx& c, const std::string& key) {
  if (!r.ok()) return r.status().with_context(fmt::format("{}: '{}'", c.source, key));
  return r;
}

Status apply_eval_key(EvalSettings& e, const Ctx& c, const std::string& name, const json& v) {
  const std::string key = "eval." + name;
  if (name == "score_threshold") {
    QDET_ASSIGN_OR_RETURN(e.score_threshold, get_number(c, key, v));
  } else if (name == "iou_threshold") {
    QDET_ASSIGN_OR_RETURN(e.iou_threshold, get_number(c, key, v));
  } else if (name == "max_detections") {
    QDET_ASSIGN_OR_RETURN(e.max_detections, get_int(c, key, v, 0, 1000000));
  } else if (name == "postprocess_max_detections") {
    QDET_ASSIGN_OR_RETURN(e.postprocess_max_detections, get_int(c, key, v, 0, 1000000));
  } else if (name == "multi_label" || name == "clip_boxes") {
    if (!v.is_boolean()) return c.type_error(key, "true or false");
    (name == "multi_label" ? e.multi_label : e.clip_boxes) = v.get<bool>();
  } else if (name == "source") {
    QDET_ASSIGN_OR_RETURN(e.source, get_string(c, key, v));
  } else {
    return invalid_argument("{}: unknown key '{}'", c.source, key);
  }
  return ok_status();
}

Status apply_key(Preset& p, const Ctx& c, const std::string& key, const json& v) {
  if (key == "description") {
    QDET_ASSIGN_OR_RETURN(p.description, get_string(c, key, v));
  } else if (key == "input_size") {
    if (v.is_number_integer()) {
      QDET_ASSIGN_OR_RETURN(p.input_width, get_int(c, key, v, 1, 8192));
      p.input_height = p.input_width;
    } else if (v.is_array() && v.size() == 2) {
      QDET_ASSIGN_OR_RETURN(p.input_width, get_int(c, key, v[0], 1, 8192));
      QDET_ASSIGN_OR_RETURN(p.input_height, get_int(c, key, v[1], 1, 8192));
    } else {
      return c.type_error(key, "an integer or [width, height]");
    }
  } else if (key == "resize") {
    QDET_ASSIGN_OR_RETURN(std::string s, get_string(c, key, v));
    QDET_ASSIGN_OR_RETURN(p.resize, with_source(image::parse_resize_mode(s), c, key));
  } else if (key == "pad_value") {
    QDET_ASSIGN_OR_RETURN(int pad, get_int(c, key, v, 0, 255));
    p.pad_value = static_cast<uint8_t>(pad);
  } else if (key == "channel_order") {
    QDET_ASSIGN_OR_RETURN(std::string s, get_string(c, key, v));
    QDET_ASSIGN_OR_RETURN(p.order, with_source(image::parse_channel_order(s), c, key));
  } else if (key == "mean") {
    QDET_ASSIGN_OR_RETURN(p.mean, get_triple(c, key, v));
  } else if (key == "std") {
    QDET_ASSIGN_OR_RETURN(p.std, get_triple(c, key, v));
    for (float s : p.std)
      if (s == 0.f) return invalid_argument("{}: 'std' must not contain 0", c.source);
  } else if (key == "layout") {
    QDET_ASSIGN_OR_RETURN(std::string s, get_string(c, key, v));
    QDET_ASSIGN_OR_RETURN(p.layout, with_source(image::parse_layout(s), c, key));
  } else if (key == "head") {
    QDET_ASSIGN_OR_RETURN(std::string s, get_string(c, key, v));
    QDET_TRY(with_source(find_head(s), c, key));
    p.head = s;
  } else if (key == "class_map") {
    QDET_ASSIGN_OR_RETURN(std::string s, get_string(c, key, v));
    QDET_ASSIGN_OR_RETURN(p.class_map, with_source(parse_class_map(s), c, key));
  } else if (key == "strides") {
    if (!v.is_array() || v.empty()) return c.type_error(key, "a non-empty array of integers");
    p.strides.clear();
    for (const json& s : v) {
      QDET_ASSIGN_OR_RETURN(int stride, get_int(c, key, s, 1, 1024));
      p.strides.push_back(stride);
    }
  } else if (key == "anchors") {
    // [[[w, h], ...] for output 0, [...] for output 1, ...]
    if (!v.is_array() || v.empty()) return c.type_error(key, "an array (one per output) of [w, h] arrays");
    p.anchors.clear();
    for (const json& out : v) {
      if (!out.is_array() || out.empty()) return c.type_error(key, "an array (one per output) of [w, h] arrays");
      std::vector<std::array<float, 2>> list;
      for (const json& a : out) {
        if (!a.is_array() || a.size() != 2) return c.type_error(key, "an array (one per output) of [w, h] arrays");
        QDET_ASSIGN_OR_RETURN(float w, get_number(c, key, a[0]));
        QDET_ASSIGN_OR_RETURN(float h, get_number(c, key, a[1]));
        if (!(w > 0.f) || !(h > 0.f)) return invalid_argument("{}: 'anchors' must be positive", c.source);
        list.push_back({w, h});
      }
      p.anchors.push_back(std::move(list));
    }
  } else if (key == "score_threshold") {
    QDET_ASSIGN_OR_RETURN(p.score_threshold, get_number(c, key, v));
  } else if (key == "iou_threshold") {
    QDET_ASSIGN_OR_RETURN(p.iou_threshold, get_number(c, key, v));
  } else if (key == "max_detections") {
    QDET_ASSIGN_OR_RETURN(p.max_detections, get_int(c, key, v, 1, 1000000));
  } else if (key == "multi_label") {
    if (!v.is_boolean()) return c.type_error(key, "true or false");
    p.multi_label = v.get<bool>();
  } else if (key == "clip_boxes") {
    if (!v.is_boolean()) return c.type_error(key, "true or false");
    p.clip_boxes = v.get<bool>();
  } else if (key == "eval") {
    if (!v.is_object()) return c.type_error(key, "an object");
    for (auto it = v.begin(); it != v.end(); ++it) QDET_TRY(apply_eval_key(p.eval, c, it.key(), it.value()));
  } else if (key == "labels") {
    QDET_ASSIGN_OR_RETURN(p.labels, get_string(c, key, v));
  } else {
    return invalid_argument("{}: unknown key '{}'", c.source, key);
  }
  return ok_status();
}

}  // namespace

Result<Preset> apply_sidecar(const Preset& base, std::string_view text, std::string_view source) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    // e.what(): "[json.exception.parse_error.101] parse error at line 3, column 5: ...", or
    // out_of_range.406 for a number too large for a double ("1e999").
    std::string what = e.what();
    if (auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
    return parse_error("{}: invalid JSON: {}", source, what);
  }
  if (!doc.is_object()) return parse_error("{}: expected a JSON object", source);
  const Ctx c{source};
  Preset p = base;
  if (auto it = doc.find("preset"); it != doc.end()) {
    QDET_ASSIGN_OR_RETURN(std::string name, get_string(c, "preset", *it));
    QDET_ASSIGN_OR_RETURN(p, with_source(find_preset(name), c, "preset"));
  }
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (it.key() == "preset") continue;
    QDET_TRY(apply_key(p, c, it.key(), it.value()));
  }
  return p;
}

Result<Preset> load_sidecar(const Preset& base, const std::filesystem::path& path) {
  QDET_ASSIGN_OR_RETURN(std::string text, read_text_file(path));
  return apply_sidecar(base, text, path.string());
}

}  // namespace qdet::detect
