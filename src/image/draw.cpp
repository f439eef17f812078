#include "image/draw.h"

#include <ft2build.h>
#include FT_FREETYPE_H

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <unordered_map>
#include <vector>

namespace qdet::image {

Color class_color(int class_id) {
  // Hue steps of the golden ratio keep consecutive classes far apart on the colour wheel.
  const double h = std::fmod(0.07 + 0.6180339887498949 * (class_id < 0 ? 0 : class_id), 1.0) * 6.0;
  const double s = class_id % 2 ? 0.65 : 0.85, v = 0.95;
  const int i = static_cast<int>(h);
  const double f = h - i, p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  double r = v, g = t, b = p;
  switch (i) {
    case 1: r = q, g = v, b = p; break;
    case 2: r = p, g = v, b = t; break;
    case 3: r = p, g = q, b = v; break;
    case 4: r = t, g = p, b = v; break;
    case 5: r = v, g = p, b = q; break;
    default: break;
  }
  auto to8 = [](double x) { return static_cast<uint8_t>(std::lround(x * 255.0)); };
  return {to8(r), to8(g), to8(b)};
}

Color text_color_on(Color bg) {
  const int luma = 299 * bg.r + 587 * bg.g + 114 * bg.b;  // Rec. 601, x1000
  return luma > 150000 ? Color{0, 0, 0} : Color{255, 255, 255};
}

void fill_rect(Image& img, int x0, int y0, int x1, int y1, Color color) {
  if (img.channels != 3) return;
  x0 = std::max(x0, 0), y0 = std::max(y0, 0);
  x1 = std::min(x1, img.width), y1 = std::min(y1, img.height);
  for (int y = y0; y < y1; ++y) {
    uint8_t* p = img.at(0, y);
    for (int x = x0; x < x1; ++x) {
      p[3 * x] = color.r;
      p[3 * x + 1] = color.g;
      p[3 * x + 2] = color.b;
    }
  }
}

void draw_rect(Image& img, int x0, int y0, int x1, int y1, Color color, int t) {
  if (x1 <= x0 || y1 <= y0 || t < 1) return;
  t = std::min({t, (x1 - x0 + 1) / 2, (y1 - y0 + 1) / 2});
  fill_rect(img, x0, y0, x1, y0 + t, color);
  fill_rect(img, x0, y1 - t, x1, y1, color);
  fill_rect(img, x0, y0, x0 + t, y1, color);
  fill_rect(img, x1 - t, y0, x1, y1, color);
}

namespace {

struct Glyph {
  int left = 0, top = 0, width = 0, rows = 0, advance = 0;
  std::vector<uint8_t> coverage;
};

// Decodes one UTF-8 code point; malformed bytes become U+FFFD and advance by one byte.
char32_t next_code_point(std::string_view s, size_t& i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) {
    ++i;
    return c;
  }
  int n = 0;
  char32_t cp = 0;
  if ((c >> 5) == 6) n = 1, cp = c & 0x1F;
  else if ((c >> 4) == 14) n = 2, cp = c & 0x0F;
  else if ((c >> 3) == 30) n = 3, cp = c & 0x07;
  if (n == 0 || i + n >= s.size()) {
    ++i;
    return 0xFFFD;
  }
  for (int k = 1; k <= n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  i += n + 1;
  return cp;
}

}  // namespace

struct Font::Impl {
  FT_Library library = nullptr;
  FT_Face face = nullptr;
  int pixel_size = 0;
  std::unordered_map<char32_t, Glyph> cache;

  ~Impl() {
    if (face) FT_Done_Face(face);
    if (library) FT_Done_FreeType(library);
  }

  const Glyph& glyph(char32_t cp) {
    auto it = cache.find(cp);
    if (it != cache.end()) return it->second;
    Glyph g;
    if (FT_Load_Char(face, cp, FT_LOAD_RENDER) == 0) {
      const FT_GlyphSlot slot = face->glyph;
      const FT_Bitmap& bm = slot->bitmap;
      g.left = slot->bitmap_left;
      g.top = slot->bitmap_top;
      g.advance = static_cast<int>((slot->advance.x + 32) >> 6);
      if (bm.pixel_mode == FT_PIXEL_MODE_GRAY) {
        g.width = static_cast<int>(bm.width);
        g.rows = static_cast<int>(bm.rows);
        g.coverage.resize(static_cast<size_t>(g.width) * g.rows);
        for (int y = 0; y < g.rows; ++y)
          std::copy_n(bm.buffer + static_cast<ptrdiff_t>(y) * bm.pitch, g.width,
                      g.coverage.data() + static_cast<size_t>(y) * g.width);
      }
    }
    return cache.emplace(cp, std::move(g)).first->second;
  }
};

std::filesystem::path Font::default_path() {
  if (const char* env = std::getenv("QDET_FONT"); env && *env) return env;
  return "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
}

Result<Font> Font::load(const std::filesystem::path& path, int pixel_size) {
  if (pixel_size < 4 || pixel_size > 512)
    return invalid_argument("font size {} px not in 4..512", pixel_size);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return not_found("font {} not found (install Debian's fonts-dejavu-core, or set QDET_FONT to a .ttf file)",
                     path.string());
  auto impl = std::make_shared<Impl>();
  if (FT_Init_FreeType(&impl->library) != 0) return internal_error("FreeType failed to initialize");
  if (FT_New_Face(impl->library, path.c_str(), 0, &impl->face) != 0)
    return parse_error("{}: not a font FreeType can read", path.string());
  if (FT_Set_Pixel_Sizes(impl->face, 0, static_cast<FT_UInt>(pixel_size)) != 0)
    return unsupported("{}: cannot be rendered at {} px", path.string(), pixel_size);
  impl->pixel_size = pixel_size;
  Font font;
  font.impl_ = std::move(impl);
  return font;
}

int Font::pixel_size() const { return impl_->pixel_size; }

Font::Extent Font::measure(std::string_view text) const {
  Extent e;
  const FT_Size_Metrics& m = impl_->face->size->metrics;
  e.ascent = static_cast<int>((m.ascender + 63) >> 6);
  e.descent = static_cast<int>((-m.descender + 63) >> 6);
  for (size_t i = 0; i < text.size();) e.width += impl_->glyph(next_code_point(text, i)).advance;
  return e;
}

void Font::draw(Image& img, int x, int baseline, std::string_view text, Color color) const {
  if (img.channels != 3) return;
  const uint8_t rgb[3] = {color.r, color.g, color.b};
  for (size_t i = 0; i < text.size();) {
    const Glyph& g = impl_->glyph(next_code_point(text, i));
    const int gx = x + g.left, gy = baseline - g.top;
    for (int r = 0; r < g.rows; ++r) {
      const int y = gy + r;
      if (y < 0 || y >= img.height) continue;
      for (int c = 0; c < g.width; ++c) {
        const int px = gx + c;
        const int a = g.coverage[static_cast<size_t>(r) * g.width + c];
        if (px < 0 || px >= img.width || a == 0) continue;
        uint8_t* p = img.at(px, y);
        for (int k = 0; k < 3; ++k) p[k] = static_cast<uint8_t>((rgb[k] * a + p[k] * (255 - a) + 127) / 255);
      }
    }
    x += g.advance;
  }
}

int draw_label(Image& img, const Font& font, int x, int y, std::string_view text, Color background) {
  const Font::Extent e = font.measure(text);
  const int margin = std::max(1, font.pixel_size() / 6);
  const int h = e.ascent + e.descent + 2 * margin;
  fill_rect(img, x, y, x + e.width + 2 * margin, y + h, background);
  font.draw(img, x + margin, y + margin + e.ascent, text, text_color_on(background));
  return h;
}

}  // namespace qdet::image
