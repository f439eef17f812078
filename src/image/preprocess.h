// From a decoded image to a model's input tensor: resize (stretch or letterbox), pad, channel
// order, normalization, layout and element type, plus the geometry that maps boxes back.
//
// Arithmetic, chosen to reproduce the reference pipelines exactly:
//   - letterbox: r = min(in_w / src_w, in_h / src_h) (double); the image is resized to
//       top-left: (int(src_w * r), int(src_h * r)) placed at (0, 0)             (YOLOX demo)
//       centre:   (round(src_w * r), round(src_h * r)) (half to even, as Python's round),
//                 placed at ((in_w - w) / 2, (in_h - h) / 2) rounded down       (YOLOv5)
//     and the rest is filled with `pad_value`;
//   - stretch: resized to the input size, aspect ratio not kept (TF object detection);
//   - resize is resize_bilinear (OpenCV INTER_LINEAR exact);
//   - float value of a pixel p in tensor channel c: (float(p) - mean[c]) / std[c], in float32;
//   - uint8 / int8 tensors: q = round(value / quant_scale) + quant_zero_point, clamped to the
//     type's range (the model's input quantization; with the defaults mean 0, std 1, scale 1,
//     zero point 0 a uint8 tensor gets the raw pixels).
// Everything per pixel goes through a 256-entry table per channel: no per-pixel branching on
// the format.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "image/image.h"
#include "tensor/dtype.h"

namespace qdet::image {

// kLetterboxDarknet: darknet's letterbox_image() (darknet_resize.h): its integer sizes, its float
// bilinear on the normalized values, the border filled with 0.5 of a 0..1 image (the value
// (127.5 - mean) / std; pad_value is not used).
// kLetterboxCenterArea: the NanoDet ONNX demo's letterbox: the longer side fills the input, the
// other is int(input side x aspect ratio), centred (offsets rounded down), resized with OpenCV's
// INTER_AREA (resize.h), the border pad_value.
enum class ResizeMode { kStretch, kLetterboxTopLeft, kLetterboxCenter, kLetterboxDarknet, kLetterboxCenterArea };
enum class ChannelOrder { kRgb, kBgr };
enum class Layout { kNhwc, kNchw };

// Names used by presets, sidecars and the CLI: "stretch", "letterbox_topleft",
// "letterbox_center", "letterbox_darknet", "letterbox_center_area"; "rgb", "bgr"; "nhwc", "nchw".
const char* resize_mode_name(ResizeMode mode);
const char* channel_order_name(ChannelOrder order);
const char* layout_name(Layout layout);
Result<ResizeMode> parse_resize_mode(std::string_view name);
Result<ChannelOrder> parse_channel_order(std::string_view name);
Result<Layout> parse_layout(std::string_view name);

// Where the source image sits inside the model input. Coordinates are continuous pixel
// coordinates (pixel i covers [i, i+1)).
struct Geometry {
  int source_width = 0, source_height = 0;    // the decoded image
  int input_width = 0, input_height = 0;      // the model input
  int resized_width = 0, resized_height = 0;  // the image's extent inside the input
  int pad_left = 0, pad_top = 0;
  double scale_x = 1.0, scale_y = 1.0;  // resized / source, per axis (what the resize really did)

  double to_source_x(double x) const { return (x - pad_left) / scale_x; }
  double to_source_y(double y) const { return (y - pad_top) / scale_y; }
};

// The geometry a mode gives for these sizes (no pixels touched).
Result<Geometry> plan_geometry(int source_width, int source_height, int input_width,
                               int input_height, ResizeMode mode);

// Resizes and pads `src` into an input_width x input_height image (same channels). For
// kLetterboxDarknet the float resize is rounded back to 8 bits and the border is `pad_value`.
Result<Image> fit_image(const Image& src, int input_width, int input_height, ResizeMode mode,
                        uint8_t pad_value, Geometry* geometry = nullptr);

struct TensorFormat {
  int width = 0, height = 0;
  ResizeMode resize = ResizeMode::kStretch;
  uint8_t pad_value = 114;
  ChannelOrder order = ChannelOrder::kRgb;
  Layout layout = Layout::kNhwc;
  DType dtype = DType::kFloat32;  // kFloat32, kUInt8 or kInt8
  std::array<float, 3> mean{0.f, 0.f, 0.f};  // per tensor channel (after `order`)
  std::array<float, 3> std{1.f, 1.f, 1.f};
  float quant_scale = 1.f;  // uint8 / int8 only
  int32_t quant_zero_point = 0;

  // Bytes of the [1, h, w, 3] / [1, 3, h, w] tensor.
  size_t byte_size() const;
};

// Builds tensors of one format again and again (the evaluation loop): the value tables and the
// resize buffer are kept between calls.
class TensorBuilder {
 public:
  static Result<TensorBuilder> create(const TensorFormat& format);

  // Writes the tensor for `img` (3 channels) into `out` (exactly format().byte_size() bytes).
  Result<Geometry> build(const Image& img, std::span<uint8_t> out);

  const TensorFormat& format() const { return format_; }

 private:
  void build_darknet(const Image& img, const Geometry& g, std::span<uint8_t> out);

  TensorFormat format_;
  std::array<std::array<float, 256>, 3> float_table_{};
  std::array<std::array<uint8_t, 256>, 3> byte_table_{};  // uint8, or int8 bits
  Image resized_;
  std::vector<float> float_source_, float_resized_, float_scratch_;  // kLetterboxDarknet
};

// One-shot convenience: a new buffer of format.byte_size() bytes.
Result<std::vector<uint8_t>> build_tensor(const Image& img, const TensorFormat& format,
                                          Geometry* geometry = nullptr);

}  // namespace qdet::image
