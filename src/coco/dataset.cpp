#include "coco/dataset.h"

#include <cmath>

#include "coco/json_input.h"

namespace qdet::coco {
namespace {

namespace dom = simdjson::dom;

// One element of a top-level array, named for messages: "annotations[17]".
struct Where {
  std::string_view source;
  const char* array;
  size_t index;
};

Status field_error(const Where& w, std::string_view field, std::string_view expected,
                   std::string_view found) {
  return invalid_argument("{}: {}[{}]: '{}' must be {}, not {}", w.source, w.array, w.index,
                          field, expected, found);
}

Status missing_field(const Where& w, std::string_view field) {
  return invalid_argument("{}: {}[{}]: missing '{}'", w.source, w.array, w.index, field);
}

Status read_image(dom::element e, const Where& w, ImageInfo* out) {
  dom::object obj;
  if (e.get_object().get(obj)) return field_error(w, "element", "an object", json::type_name(e));
  bool has_id = false;
  std::string why;
  for (dom::key_value_pair field : obj) {
    if (field.key == "id") {
      if (!json::read_int(field.value, &out->id, &why)) return field_error(w, "id", "an integer", why);
      has_id = true;
    } else if (field.key == "width" || field.key == "height") {
      int64_t v = 0;
      if (!json::read_int(field.value, &v, &why))
        return field_error(w, field.key, "an integer", why);
      (field.key == "width" ? out->width : out->height) = v;
    } else if (field.key == "file_name") {
      std::string_view s;
      if (field.value.get_string().get(s))
        return field_error(w, "file_name", "a string", json::type_name(field.value));
      out->file_name = s;
    }
  }
  if (!has_id) return missing_field(w, "id");
  return ok_status();
}

Status read_category(dom::element e, const Where& w, CategoryInfo* out) {
  dom::object obj;
  if (e.get_object().get(obj)) return field_error(w, "element", "an object", json::type_name(e));
  bool has_id = false;
  std::string why;
  for (dom::key_value_pair field : obj) {
    if (field.key == "id") {
      if (!json::read_int(field.value, &out->id, &why)) return field_error(w, "id", "an integer", why);
      has_id = true;
    } else if (field.key == "name" || field.key == "supercategory") {
      std::string_view s;
      if (field.value.get_string().get(s))
        return field_error(w, field.key, "a string", json::type_name(field.value));
      (field.key == "name" ? out->name : out->supercategory) = s;
    }
  }
  if (!has_id) return missing_field(w, "id");
  return ok_status();
}

Status read_annotation(dom::element e, const Where& w, Annotation* out) {
  dom::object obj;
  if (e.get_object().get(obj)) return field_error(w, "element", "an object", json::type_name(e));
  enum : unsigned { kId = 1, kImage = 2, kCategory = 4, kBox = 8, kArea = 16 };
  unsigned seen = 0;
  std::string why;
  for (dom::key_value_pair field : obj) {
    std::string_view key = field.key;
    if (key == "id") {
      if (!json::read_int(field.value, &out->id, &why)) return field_error(w, key, "an integer", why);
      seen |= kId;
    } else if (key == "image_id") {
      if (!json::read_int(field.value, &out->image_id, &why))
        return field_error(w, key, "an integer", why);
      seen |= kImage;
    } else if (key == "category_id") {
      if (!json::read_int(field.value, &out->category_id, &why))
        return field_error(w, key, "an integer", why);
      seen |= kCategory;
    } else if (key == "bbox") {
      double b[4];
      if (!json::read_box(field.value, b, &why))
        return field_error(w, key, "an array of 4 numbers [x,y,w,h]", why);
      if (b[2] < 0 || b[3] < 0)
        return invalid_argument("{}: {}[{}]: 'bbox' has a negative size (w={}, h={})", w.source,
                                w.array, w.index, b[2], b[3]);
      if (!std::isfinite(b[2] * b[3]) || !std::isfinite(b[0] + b[2]) || !std::isfinite(b[1] + b[3]))
        return invalid_argument("{}: {}[{}]: 'bbox' is too large", w.source, w.array, w.index);
      out->bbox = {b[0], b[1], b[2], b[3]};
      seen |= kBox;
    } else if (key == "area") {
      if (!json::read_number(field.value, &out->area, &why)) return field_error(w, key, "a number", why);
      seen |= kArea;
    } else if (key == "iscrowd") {
      if (!json::read_flag(field.value, &out->iscrowd, &why))
        return field_error(w, key, "0 or 1", why);
    } else if (key == "ignore") {
      if (!json::read_flag(field.value, &out->ignore, &why))
        return field_error(w, key, "0 or 1", why);
    }
  }
  if (!(seen & kId)) return missing_field(w, "id");
  if (!(seen & kImage)) return missing_field(w, "image_id");
  if (!(seen & kCategory)) return missing_field(w, "category_id");
  if (!(seen & kBox)) return missing_field(w, "bbox");
  if (!(seen & kArea)) return missing_field(w, "area");
  return ok_status();
}

template <typename T, typename ReadFn>
Status read_array(dom::object root, std::string_view source, const char* name, ReadFn read,
                  std::vector<T>* out) {
  dom::element value;
  if (root.at_key(name).get(value))
    return invalid_argument("{}: not a COCO instances file: no '{}' array", source, name);
  dom::array array;
  if (value.get_array().get(array))
    return invalid_argument("{}: '{}' must be an array, not {}", source, name, json::type_name(value));
  out->resize(array.size());
  size_t i = 0;
  for (dom::element e : array) {
    QDET_TRY(read(e, Where{source, name, i}, &(*out)[i]));
    ++i;
  }
  return ok_status();
}

Result<Dataset> parse_document(const simdjson::padded_string& text, std::string_view source) {
  dom::parser parser;
  QDET_ASSIGN_OR_RETURN(dom::element root, json::parse_document(parser, text, source));
  dom::object obj;
  if (root.get_object().get(obj))
    return invalid_argument("{}: not a COCO instances file: the top level is {}, not an object",
                            source, json::type_name(root));
  Dataset ds;
  QDET_TRY(read_array(obj, source, "images", read_image, &ds.images));
  QDET_TRY(read_array(obj, source, "categories", read_category, &ds.categories));
  QDET_TRY(read_array(obj, source, "annotations", read_annotation, &ds.annotations));
  Status s = ds.build_index();
  if (!s.ok()) return s.with_context(source);
  return ds;
}

}  // namespace

Status Dataset::build_index() {
  image_index_.clear();
  category_index_.clear();
  image_index_.reserve(images.size());
  for (size_t i = 0; i < images.size(); ++i) {
    if (!image_index_.emplace(images[i].id, i).second)
      return invalid_argument("images[{}]: duplicate image id {}", i, images[i].id);
  }
  for (size_t i = 0; i < categories.size(); ++i) {
    if (!category_index_.emplace(categories[i].id, i).second)
      return invalid_argument("categories[{}]: duplicate category id {}", i, categories[i].id);
  }
  std::unordered_map<int64_t, size_t> seen;
  seen.reserve(annotations.size());
  for (size_t i = 0; i < annotations.size(); ++i) {
    auto [it, inserted] = seen.emplace(annotations[i].id, i);
    if (!inserted)
      return invalid_argument("annotations[{}]: duplicate annotation id {} (also annotations[{}])",
                              i, annotations[i].id, it->second);
  }
  return ok_status();
}

const ImageInfo* Dataset::find_image(int64_t id) const {
  auto it = image_index_.find(id);
  return it == image_index_.end() ? nullptr : &images[it->second];
}

const CategoryInfo* Dataset::find_category(int64_t id) const {
  auto it = category_index_.find(id);
  return it == category_index_.end() ? nullptr : &categories[it->second];
}

Result<Dataset> load_instances(const std::filesystem::path& path) {
  QDET_ASSIGN_OR_RETURN(simdjson::padded_string text, json::read_padded_file(path));
  return parse_document(text, path.string());
}

Result<Dataset> parse_instances(std::string_view json, std::string_view source) {
  return parse_document(simdjson::padded_string(json), source);
}

}  // namespace qdet::coco
