// The study report as one self-contained HTML page: the table, inline SVG charts (svg_charts.h)
// and detection pictures embedded as base64 PNG. No external resource (no font, script or
// stylesheet is fetched), so the file can be mailed or opened offline. A short inline script
// marks the page `data-rendered="N"` once the N charts have a non-empty layout box (what the
// headless-browser test checks).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "report/record.h"

namespace qdet::report {

struct Picture {
  std::string variant;
  std::vector<uint8_t> png;
  std::string caption;  // e.g. "7 detections"
};

struct PictureRow {
  std::string image_name;
  std::vector<Picture> pictures;  // fp32 first, then each variant
};

struct HtmlReport {
  std::string title;
  std::vector<std::string> facts;  // lines under the title (model, data, machine, date)
  std::vector<Record> records;
  std::vector<PictureRow> pictures;
};

std::string base64_encode(std::span<const uint8_t> bytes);
std::string to_html(const HtmlReport& report);

}  // namespace qdet::report
