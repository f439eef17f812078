#include "detect/draw_detections.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include <fmt/format.h>

#include "detect/labels.h"

namespace qdet::detect {

int box_thickness(int width, int height) {
  return std::max(2, static_cast<int>(std::lround((width + height) / 2.0 * 0.003)));
}

int label_font_size(int width, int height) {
  // At most 512 px, the largest size the font loader takes (a 32768 x 4096 image asked 553).
  return std::clamp(static_cast<int>(std::lround((width + height) / 2.0 * 0.03)), 12, 512);
}

std::string detection_label(const Detection& d, std::span<const std::string> labels) {
  return fmt::format("{} {:.2f}", label_name(labels, d.class_id), d.score);
}

void draw_detections(image::Image& img, std::span<const Detection> detections,
                     std::span<const std::string> labels, const image::Font& font) {
  const int t = box_thickness(img.width, img.height);
  std::vector<size_t> order(detections.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return detections[a].score < detections[b].score; });
  for (size_t i : order) {
    const Detection& d = detections[i];
    const image::Color color = image::class_color(d.class_id);
    const int x0 = static_cast<int>(std::floor(d.x0)), y0 = static_cast<int>(std::floor(d.y0));
    const int x1 = static_cast<int>(std::ceil(d.x1)), y1 = static_cast<int>(std::ceil(d.y1));
    image::draw_rect(img, x0, y0, x1, y1, color, t);
    const std::string text = detection_label(d, labels);
    const image::Font::Extent e = font.measure(text);
    const int label_h = e.ascent + e.descent + 2 * std::max(1, font.pixel_size() / 6);
    // Above the box when there is room, else inside its top edge; kept inside the image.
    int ly = y0 - label_h >= 0 ? y0 - label_h : std::max(0, y0);
    int lx = std::clamp(x0, 0, std::max(0, img.width - e.width - 2 * std::max(1, font.pixel_size() / 6)));
    image::draw_label(img, font, lx, ly, text, color);
  }
}

Status draw_detections(image::Image& img, std::span<const Detection> detections,
                       std::span<const std::string> labels) {
  QDET_ASSIGN_OR_RETURN(image::Font font, image::Font::load(image::Font::default_path(),
                                                            label_font_size(img.width, img.height)));
  draw_detections(img, detections, labels, font);
  return ok_status();
}

}  // namespace qdet::detect
