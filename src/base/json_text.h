// JSON text of a value whose strings may hold untrusted bytes (tensor and node names come from
// model files and are not always valid UTF-8): invalid sequences become U+FFFD instead of the
// exception nlohmann::json's dump() throws. Every JSON qdet writes or prints goes through here.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace qdet {

inline std::string json_text(const nlohmann::json& j, int indent = -1) {
  return j.dump(indent, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
}

}  // namespace qdet
