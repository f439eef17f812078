// Drawing on RGB images: rectangles and anti-aliased text in a TrueType font (FreeType).
// Coordinates are pixels; everything is clipped to the image, so any box may be passed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>

#include "base/status.h"
#include "image/image.h"

namespace qdet::image {

struct Color {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Color&) const = default;
};

// A colour per class index, well separated for neighbouring indices (golden-ratio hues).
Color class_color(int class_id);
// Black or white, whichever reads better on `background`.
Color text_color_on(Color background);

// Fills [x0, x1) x [y0, y1).
void fill_rect(Image& img, int x0, int y0, int x1, int y1, Color color);
// Outline of the box [x0, x1) x [y0, y1), `thickness` pixels drawn inward from its edges.
void draw_rect(Image& img, int x0, int y0, int x1, int y1, Color color, int thickness);

// A TrueType/OpenType face at one pixel size. Glyphs are rendered on first use and cached.
// Not thread-safe (one Font per thread).
class Font {
 public:
  // $QDET_FONT when set, else /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf (fonts-dejavu-core).
  static std::filesystem::path default_path();
  // Error naming the path (and the package to install) when the file is missing or not a font.
  static Result<Font> load(const std::filesystem::path& path, int pixel_size);

  struct Extent {
    int width = 0;    // advance of the whole string
    int ascent = 0;   // pixels above the baseline (the face's ascender)
    int descent = 0;  // pixels below the baseline (positive)
  };
  Extent measure(std::string_view utf8) const;
  // Draws `utf8` with its baseline at y = baseline, starting at x, blending by glyph coverage.
  void draw(Image& img, int x, int baseline, std::string_view utf8, Color color) const;
  int pixel_size() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// A label box: text on a filled background whose top-left corner is (x, y).
// Returns the label's height. Text colour chosen for contrast with `background`.
int draw_label(Image& img, const Font& font, int x, int y, std::string_view text, Color background);

}  // namespace qdet::image
