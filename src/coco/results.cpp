#include "coco/results.h"

#include <fmt/format.h>

#include <cmath>

#include "base/file.h"
#include "coco/json_input.h"

namespace qdet::coco {
namespace {

namespace od = simdjson::ondemand;

using json::ElementReader;

Status read_detection(ElementReader& r, od::value element, Detection* out) {
  od::object obj;
  QDET_TRY(r.object(element, &obj));
  enum : unsigned { kImage = 1, kCategory = 2, kBox = 4, kScore = 8, kSegm = 16 };
  unsigned seen = 0;
  QDET_TRY(json::for_each_field(r, obj, [&](std::string_view key, od::value v) -> Status {
    if (key == "image_id") {
      seen |= kImage;
      return r.integer(v, key, &out->image_id);
    }
    if (key == "category_id") {
      seen |= kCategory;
      return r.integer(v, key, &out->category_id);
    }
    if (key == "bbox") {
      seen |= kBox;
      double b[4];
      QDET_TRY(r.check(json::read_box(v, b, &r.why), key, "an array of 4 numbers [x,y,w,h]"));
      out->bbox = {b[0], b[1], b[2], b[3]};
      return ok_status();
    }
    if (key == "score") {
      seen |= kScore;
      return r.check(json::read_number(v, &out->score, &r.why), key, "a number");
    }
    if (key == "segmentation") seen |= kSegm;
    return ok_status();
  }));
  const size_t i = r.index;
  if (!(seen & kImage)) return r.missing("image_id");
  if (!(seen & kCategory)) return r.missing("category_id");
  if (!(seen & kBox)) {
    if (seen & kSegm)
      return unsupported("{}: detection {}: segmentation results without 'bbox' are not supported "
                         "(qdet evaluates boxes)", r.source, i);
    return r.missing("bbox");
  }
  if (!(seen & kScore)) return r.missing("score");
  Status s = validate_detection(*out, i);
  if (!s.ok()) return s.with_context(r.source);
  return ok_status();
}

Status read_list(ElementReader& r, od::array list, std::vector<Detection>* out) {
  for (auto result : list) {
    od::value element;
    if (auto e = std::move(result).get(element)) return json::json_error(r.source, r.text, e);
    out->emplace_back();
    QDET_TRY(read_detection(r, element, &out->back()));
    ++r.index;
  }
  return ok_status();
}

Result<std::vector<Detection>> parse_document(const simdjson::padded_string& text,
                                              std::string_view source) {
  od::parser parser;
  od::document doc;
  if (auto e = parser.iterate(text).get(doc)) return json::json_error(source, text, e);
  od::json_type type;
  if (auto e = doc.type().get(type)) return json::json_error(source, text, e);
  ElementReader r{source, text, nullptr, "detection"};
  std::vector<Detection> out;
  out.reserve(text.size() / 100);
  bool found = false;
  if (type == od::json_type::array) {
    od::array list;
    if (auto e = doc.get_array().get(list)) return json::json_error(source, text, e);
    QDET_TRY(read_list(r, list, &out));
    found = true;
  } else if (type == od::json_type::object) {
    od::object root;
    if (auto e = doc.get_object().get(root)) return json::json_error(source, text, e);
    for (auto result : root) {
      od::field field;
      if (auto e = std::move(result).get(field)) return json::json_error(source, text, e);
      std::string_view key;
      if (auto e = field.unescaped_key().get(key)) return json::json_error(source, text, e);
      if (key != "annotations") continue;
      od::value value = field.value();
      od::json_type t;
      if (auto e = value.type().get(t)) return json::json_error(source, text, e);
      if (t != od::json_type::array) break;
      od::array list;
      if (auto e = value.get_array().get(list)) return json::json_error(source, text, e);
      QDET_TRY(read_list(r, list, &out));
      found = true;
    }
  }
  if (!found) {
    return invalid_argument("{}: not a COCO results file: expected a list of detections or an "
                            "object with an 'annotations' list, found {}",
                            source, type == od::json_type::object ? "an object" : json::describe(doc));
  }
  if (!json::at_end(doc)) return json::json_error(source, text, simdjson::TRAILING_CONTENT);
  return out;
}

}  // namespace

Status validate_detection(const Detection& d, size_t index) {
  const BoxXywh& b = d.bbox;
  if (!std::isfinite(d.score)) return invalid_argument("detection {}: score is {}", index, d.score);
  if (!std::isfinite(b.x) || !std::isfinite(b.y) || !std::isfinite(b.w) || !std::isfinite(b.h))
    return invalid_argument("detection {}: bbox [{}, {}, {}, {}] is not finite", index, b.x, b.y,
                            b.w, b.h);
  if (b.w < 0 || b.h < 0)
    return invalid_argument("detection {}: bbox [{}, {}, {}, {}] has a negative size", index, b.x,
                            b.y, b.w, b.h);
  if (!std::isfinite(b.w * b.h) || !std::isfinite(b.x + b.w) || !std::isfinite(b.y + b.h))
    return invalid_argument("detection {}: bbox [{}, {}, {}, {}] is too large", index, b.x, b.y,
                            b.w, b.h);
  return ok_status();
}

Result<std::vector<Detection>> load_results(const std::filesystem::path& path) {
  QDET_ASSIGN_OR_RETURN(simdjson::padded_string text, json::read_padded_file(path));
  return parse_document(text, path.string());
}

Result<std::vector<Detection>> parse_results(std::string_view json, std::string_view source) {
  return parse_document(simdjson::padded_string(json), source);
}

void append_detection_json(const Detection& d, std::string* out) {
  // {} prints the shortest decimal that reads back to the same double (fmt's Dragonbox).
  fmt::format_to(std::back_inserter(*out),
                 "{{\"image_id\":{},\"category_id\":{},\"bbox\":[{},{},{},{}],\"score\":{}}}",
                 d.image_id, d.category_id, d.bbox.x, d.bbox.y, d.bbox.w, d.bbox.h, d.score);
}

std::string results_to_json(std::span<const Detection> detections) {
  std::string out;
  out.reserve(detections.size() * 96 + 4);
  out += "[";
  for (size_t i = 0; i < detections.size(); ++i) {
    out += i == 0 ? "\n" : ",\n";
    append_detection_json(detections[i], &out);
  }
  out += "\n]\n";
  return out;
}

Status write_results(const std::filesystem::path& path, std::span<const Detection> detections) {
  for (size_t i = 0; i < detections.size(); ++i) QDET_TRY(validate_detection(detections[i], i));
  return write_file_atomic(path, results_to_json(detections));
}

}  // namespace qdet::coco
