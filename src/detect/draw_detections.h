// Annotated images: each detection's box in its class colour and a "name score" label on a
// filled background. Line width and text size grow with the image (about 0.3% and 3% of the
// mean side).
#pragma once

#include <span>
#include <string>

#include "base/status.h"
#include "detect/detection.h"
#include "image/draw.h"
#include "image/image.h"

namespace qdet::detect {

// Box line width and label font size for an image of this size.
int box_thickness(int width, int height);
int label_font_size(int width, int height);

// "dog 0.86"
std::string detection_label(const Detection& d, std::span<const std::string> labels);

// Draws in order, best score last (on top). Loads image::Font::default_path() at
// label_font_size(): an error when the font is missing.
Status draw_detections(image::Image& img, std::span<const Detection> detections,
                       std::span<const std::string> labels);
// With a font already loaded (its size is used as is).
void draw_detections(image::Image& img, std::span<const Detection> detections,
                     std::span<const std::string> labels, const image::Font& font);

}  // namespace qdet::detect
