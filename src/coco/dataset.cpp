#include "coco/dataset.h"

#include <cmath>

#include "coco/json_input.h"

namespace qdet::coco {
namespace {

namespace od = simdjson::ondemand;
using json::ElementReader;
using json::for_each_field;


// Reads an object element with a required integer "id" (into *id); its other fields go to
// other_field(key, value) -> Status.
template <typename Fn>
Status read_object_with_id(ElementReader& r, od::value element, int64_t* id, Fn other_field) {
  od::object obj;
  QDET_TRY(r.object(element, &obj));
  bool has_id = false;
  QDET_TRY(for_each_field(r, obj, [&](std::string_view key, od::value v) -> Status {
    if (key != "id") return other_field(key, v);
    has_id = true;
    return r.integer(v, key, id);
  }));
  if (!has_id) return r.missing("id");
  return ok_status();
}

Status read_image(ElementReader& r, od::value element, ImageInfo* out) {
  return read_object_with_id(r, element, &out->id, [&](std::string_view key, od::value v) -> Status {
    if (key == "width") return r.integer(v, key, &out->width);
    if (key == "height") return r.integer(v, key, &out->height);
    if (key == "file_name") return r.string(v, key, &out->file_name);
    return ok_status();
  });
}

Status read_category(ElementReader& r, od::value element, CategoryInfo* out) {
  return read_object_with_id(r, element, &out->id, [&](std::string_view key, od::value v) -> Status {
    if (key == "name") return r.string(v, key, &out->name);
    if (key == "supercategory") return r.string(v, key, &out->supercategory);
    return ok_status();
  });
}

Status read_annotation(ElementReader& r, od::value element, Annotation* out) {
  od::object obj;
  QDET_TRY(r.object(element, &obj));
  enum : unsigned { kId = 1, kImage = 2, kCategory = 4, kBox = 8, kArea = 16 };
  unsigned seen = 0;
  QDET_TRY(for_each_field(r, obj, [&](std::string_view key, od::value v) -> Status {
    if (key == "id") {
      seen |= kId;
      return r.integer(v, key, &out->id);
    }
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
      if (b[2] < 0 || b[3] < 0)
        return invalid_argument("{}: {}[{}]: 'bbox' has a negative size (w={}, h={})", r.source,
                                r.array, r.index, b[2], b[3]);
      if (!std::isfinite(b[2] * b[3]) || !std::isfinite(b[0] + b[2]) || !std::isfinite(b[1] + b[3]))
        return invalid_argument("{}: {}[{}]: 'bbox' is too large", r.source, r.array, r.index);
      out->bbox = {b[0], b[1], b[2], b[3]};
      return ok_status();
    }
    if (key == "area") {
      seen |= kArea;
      return r.check(json::read_number(v, &out->area, &r.why), key, "a number");
    }
    if (key == "iscrowd") return r.check(json::read_flag(v, &out->iscrowd, &r.why), key, "0 or 1");
    if (key == "ignore") return r.check(json::read_flag(v, &out->ignore, &r.why), key, "0 or 1");
    return ok_status();
  }));
  if (!(seen & kId)) return r.missing("id");
  if (!(seen & kImage)) return r.missing("image_id");
  if (!(seen & kCategory)) return r.missing("category_id");
  if (!(seen & kBox)) return r.missing("bbox");
  if (!(seen & kArea)) return r.missing("area");
  return ok_status();
}

template <typename T, typename ReadFn>
Status read_array(std::string_view source, const simdjson::padded_string& text, const char* name,
                  od::value value, ReadFn read, std::vector<T>* out) {
  od::json_type type;
  if (auto e = value.type().get(type)) return json::json_error(source, text, e);
  if (type != od::json_type::array)
    return invalid_argument("{}: '{}' must be an array, not {}", source, name, json::describe(value));
  od::array array;
  if (auto e = value.get_array().get(array)) return json::json_error(source, text, e);
  ElementReader r{source, text, name};
  for (auto result : array) {
    od::value element;
    if (auto e = std::move(result).get(element)) return json::json_error(source, text, e);
    out->emplace_back();
    QDET_TRY(read(r, element, &out->back()));
    ++r.index;
  }
  return ok_status();
}

Result<Dataset> parse_document(const simdjson::padded_string& text, std::string_view source) {
  od::parser parser;
  od::document doc;
  if (auto e = parser.iterate(text).get(doc)) return json::json_error(source, text, e);
  od::json_type type;
  if (auto e = doc.type().get(type)) return json::json_error(source, text, e);
  if (type != od::json_type::object)
    return invalid_argument("{}: not a COCO instances file: the top level is {}, not an object",
                            source, json::describe(doc));
  od::object root;
  if (auto e = doc.get_object().get(root)) return json::json_error(source, text, e);
  Dataset ds;
  bool images = false, categories = false, annotations = false;
  for (auto result : root) {
    od::field field;
    if (auto e = std::move(result).get(field)) return json::json_error(source, text, e);
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return json::json_error(source, text, e);
    if (key == "images") {
      images = true;
      QDET_TRY(read_array(source, text, "images", field.value(), read_image, &ds.images));
    } else if (key == "categories") {
      categories = true;
      QDET_TRY(read_array(source, text, "categories", field.value(), read_category, &ds.categories));
    } else if (key == "annotations") {
      annotations = true;
      ds.annotations.reserve(text.size() / 512);
      QDET_TRY(read_array(source, text, "annotations", field.value(), read_annotation,
                          &ds.annotations));
    }
  }
  if (!json::at_end(doc)) return json::json_error(source, text, simdjson::TRAILING_CONTENT);
  for (auto [seen, name] : {std::pair{images, "images"}, std::pair{annotations, "annotations"},
                            std::pair{categories, "categories"}}) {
    if (!seen) return invalid_argument("{}: not a COCO instances file: no '{}' array", source, name);
  }
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
