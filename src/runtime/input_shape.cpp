#include "runtime/input_shape.h"

#include <charconv>

namespace qdet::rt {
namespace {

bool parse_dim(std::string_view s, int& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && out >= 1 && out <= 65536;
}

bool is_channels(int32_t d) { return d == 1 || d == 3 || d == 4; }

}  // namespace

Result<InputShapeRequest> parse_input_size(std::string_view text) {
  InputShapeRequest r;
  const size_t x = text.find('x');
  const std::string_view w = text.substr(0, x);
  const std::string_view h = x == std::string_view::npos ? w : text.substr(x + 1);
  if (!parse_dim(w, r.width) || !parse_dim(h, r.height))
    return invalid_argument("input size '{}': expected N or WxH with each in 1..65536", text);
  return r;
}

Result<Shape> resolve_input_shape(const InputShapeRequest& r, const Shape& model_shape) {
  Shape s = r.shape.empty() ? model_shape : r.shape;
  if (r.width > 0 || r.height > 0) {
    if (s.size() != 4 || !(is_channels(s[3]) || is_channels(s[1])))
      return invalid_argument(
          "an input size needs an image input ([N,H,W,C] or [N,C,H,W], C 1, 3 or 4); the input "
          "is {}: give the whole shape instead",
          shape_to_string(s));
    const bool nhwc = is_channels(s[3]);
    if (r.height > 0) s[nhwc ? 1 : 2] = r.height;
    if (r.width > 0) s[nhwc ? 2 : 3] = r.width;
  }
  if (r.batch > 0) {
    if (s.empty()) return invalid_argument("a batch needs an input with dims; the input is a scalar");
    s[0] = r.batch;
  }
  return s;
}

Status apply_input_shape(Interpreter& interpreter, const InputShapeRequest& r) {
  if (r.empty()) return ok_status();
  if (interpreter.num_inputs() == 0) return invalid_argument("the model has no input to resize");
  const Shape& current = interpreter.input(0).shape;
  QDET_ASSIGN_OR_RETURN(Shape shape, resolve_input_shape(r, current));
  if (shape == current) return ok_status();
  QDET_TRY(interpreter.resize_input(0, shape));
  return interpreter.allocate_tensors();
}

}  // namespace qdet::rt
