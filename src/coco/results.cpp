#include "coco/results.h"

#include <fmt/format.h>

#include <cmath>

#include "base/file.h"
#include "coco/json_input.h"

namespace qdet::coco {
namespace {

namespace dom = simdjson::dom;

Status field_error(std::string_view source, size_t i, std::string_view field,
                   std::string_view expected, std::string_view found) {
  return invalid_argument("{}: detection {}: '{}' must be {}, not {}", source, i, field, expected,
                          found);
}

Status read_detection(dom::element e, std::string_view source, size_t i, Detection* out) {
  dom::object obj;
  if (e.get_object().get(obj))
    return invalid_argument("{}: detection {} must be an object, not {}", source, i,
                            json::type_name(e));
  enum : unsigned { kImage = 1, kCategory = 2, kBox = 4, kScore = 8, kSegm = 16 };
  unsigned seen = 0;
  std::string why;
  for (dom::key_value_pair field : obj) {
    std::string_view key = field.key;
    if (key == "image_id") {
      if (!json::read_int(field.value, &out->image_id, &why))
        return field_error(source, i, key, "an integer", why);
      seen |= kImage;
    } else if (key == "category_id") {
      if (!json::read_int(field.value, &out->category_id, &why))
        return field_error(source, i, key, "an integer", why);
      seen |= kCategory;
    } else if (key == "bbox") {
      double b[4];
      if (!json::read_box(field.value, b, &why))
        return field_error(source, i, key, "an array of 4 numbers [x,y,w,h]", why);
      out->bbox = {b[0], b[1], b[2], b[3]};
      seen |= kBox;
    } else if (key == "score") {
      if (!json::read_number(field.value, &out->score, &why))
        return field_error(source, i, key, "a number", why);
      seen |= kScore;
    } else if (key == "segmentation") {
      seen |= kSegm;
    }
  }
  if (!(seen & kImage))
    return invalid_argument("{}: detection {}: missing 'image_id'", source, i);
  if (!(seen & kCategory))
    return invalid_argument("{}: detection {}: missing 'category_id'", source, i);
  if (!(seen & kBox)) {
    if (seen & kSegm)
      return unsupported("{}: detection {}: segmentation results without 'bbox' are not supported "
                         "(qdet evaluates boxes)", source, i);
    return invalid_argument("{}: detection {}: missing 'bbox'", source, i);
  }
  if (!(seen & kScore)) return invalid_argument("{}: detection {}: missing 'score'", source, i);
  Status s = validate_detection(*out, i);
  if (!s.ok()) return s.with_context(source);
  return ok_status();
}

Result<std::vector<Detection>> parse_document(const simdjson::padded_string& text,
                                              std::string_view source) {
  dom::parser parser;
  QDET_ASSIGN_OR_RETURN(dom::element root, json::parse_document(parser, text, source));
  dom::array list;
  if (root.get_array().get(list)) {
    dom::element anns;
    if (root.type() != dom::element_type::OBJECT || root.at_key("annotations").get(anns) ||
        anns.get_array().get(list))
      return invalid_argument("{}: not a COCO results file: expected a list of detections or an "
                              "object with an 'annotations' list, found {}",
                              source, json::type_name(root));
  }
  std::vector<Detection> out(list.size());
  size_t i = 0;
  for (dom::element e : list) {
    QDET_TRY(read_detection(e, source, i, &out[i]));
    ++i;
  }
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
