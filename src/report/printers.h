// Printers over records: a terminal table, markdown, JSON (and HTML in html.h).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "report/record.h"

namespace qdet::report {

// Columns: variant, runtime, precision, size MB, AP, AP50, ΔAP, p50 ms, FPS, energy/inference.
// The shared columns, for printers elsewhere (html.cpp): headers, and one row's cells with ΔAP
// against `base` (may be null).
std::vector<std::string> table_headers();
std::vector<std::string> table_cells(const Record& record, const Record* base);
bool column_right_aligned(size_t column);

std::string to_table(const std::vector<Record>& records);
std::string to_markdown(const std::vector<Record>& records, const std::string& title);
nlohmann::json to_json(const Record& record);
nlohmann::json to_json(const std::vector<Record>& records);
// Inverse of to_json (for `--resume`): unknown fields ignored, wrong types rejected.
Result<Record> record_from_json(const nlohmann::json& j);

}  // namespace qdet::report
