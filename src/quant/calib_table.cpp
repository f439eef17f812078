#include "quant/calib_table.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "base/json_text.h"
#include "base/file.h"

namespace qdet::quant {

using nlohmann::json;

std::string table_to_json(const CalibrationTable& table) {
  json j;
  j["format"] = "qdet-calibration";
  j["version"] = 1;
  j["model"] = table.model;
  j["method"] = table.method;
  j["images"] = table.images;
  json tensors = json::object();
  for (const auto& [name, e] : table.tensors) {
    json t;
    t["min"] = e.range.min;
    t["max"] = e.range.max;
    if (!e.method.empty()) t["method"] = e.method;
    if (e.has_observed) {
      t["observed_min"] = e.observed.min;
      t["observed_max"] = e.observed.max;
    }
    if (e.channel_spread > 0) t["channel_spread"] = e.channel_spread;
    tensors[name] = std::move(t);
  }
  j["tensors"] = std::move(tensors);
  if (table.fallback) j["fallback"] = *table.fallback;
  if (table.gptq_images) j["gptq_images"] = *table.gptq_images;
  return json_text(j, 1) + "\n";
}

Result<CalibrationTable> table_from_json(std::string_view text, std::string_view source) {
  json j;
  try {
    j = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {  // parse errors, and numbers too large for a double
    return parse_error("{}: not valid JSON: {}", source, e.what());
  }
  if (!j.is_object()) return parse_error("{}: expected a JSON object", source);
  if (j.contains("format") && j["format"] != "qdet-calibration")
    return parse_error("{}: format is {}, expected \"qdet-calibration\"", source, json_text(j["format"]));
  CalibrationTable table;
  if (j.contains("model") && j["model"].is_string()) table.model = j["model"];
  if (j.contains("method") && j["method"].is_string()) table.method = j["method"];
  if (j.contains("images") && j["images"].is_number_integer()) table.images = j["images"];
  if (!j.contains("tensors") || !j["tensors"].is_object())
    return parse_error("{}: missing object \"tensors\"", source);
  for (const auto& item : j["tensors"].items()) {
    // Named references, not a structured binding: clang 14 (the fuzz build) cannot capture one.
    const std::string& name = item.key();
    const nlohmann::json& t = item.value();
    if (!t.is_object()) return parse_error("{}: tensor '{}': expected an object", source, name);
    auto number = [&](const char* key, float* out) -> Status {
      if (!t.contains(key)) return parse_error("{}: tensor '{}': missing \"{}\"", source, name, key);
      if (!t[key].is_number()) return parse_error("{}: tensor '{}': \"{}\" is not a number", source, name, key);
      const double v = t[key].get<double>();
      if (!std::isfinite(v) || std::fabs(v) > 3.0e38)
        return parse_error("{}: tensor '{}': \"{}\" is not finite", source, name, key);
      *out = static_cast<float>(v);
      return ok_status();
    };
    TableEntry e;
    QDET_TRY(number("min", &e.range.min));
    QDET_TRY(number("max", &e.range.max));
    if (e.range.min > e.range.max)
      return invalid_argument("{}: tensor '{}': min {} > max {}", source, name, e.range.min, e.range.max);
    if (t.contains("method") && t["method"].is_string()) e.method = t["method"];
    if (t.contains("observed_min") && t.contains("observed_max")) {
      QDET_TRY(number("observed_min", &e.observed.min));
      QDET_TRY(number("observed_max", &e.observed.max));
      e.has_observed = true;
    }
    if (t.contains("channel_spread")) {
      float spread = 0;
      QDET_TRY(number("channel_spread", &spread));
      if (spread < 0)
        return invalid_argument("{}: tensor '{}': channel_spread {} is negative", source, name, spread);
      e.channel_spread = spread;
    }
    table.tensors[name] = e;
  }
  if (j.contains("fallback")) {
    const json& f = j["fallback"];
    if (!f.is_array()) return parse_error("{}: \"fallback\" is not an array of names", source);
    table.fallback.emplace();
    for (const auto& n : f) {
      if (!n.is_string()) return parse_error("{}: \"fallback\" holds {}, not a name", source, json_text(n));
      table.fallback->push_back(n.get<std::string>());
    }
  }
  if (j.contains("gptq_images")) {
    const json& n = j["gptq_images"];
    if (!n.is_number_integer() || n.get<int64_t>() < 1 || n.get<int64_t>() > 1000000)
      return parse_error("{}: \"gptq_images\" is {}, not a positive image count", source, json_text(n));
    table.gptq_images = n.get<int>();
  }
  return table;
}

Status save_table(const std::filesystem::path& path, const CalibrationTable& table) {
  return write_file_atomic(path, table_to_json(table));
}

Result<CalibrationTable> load_table(const std::filesystem::path& path) {
  QDET_ASSIGN_OR_RETURN(std::string text, read_text_file(path));
  return table_from_json(text, path.string());
}

RangeMap ranges_of(const CalibrationTable& table) {
  RangeMap m;
  for (const auto& [name, e] : table.tensors) m[name] = e.range;
  return m;
}

}  // namespace qdet::quant
