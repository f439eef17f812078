// darknet's image resize, reproduced for darknet models (the "letterbox_darknet" resize mode).
//
// darknet (pjreddie's, as Debian ships it; src/image.c) works on float images with values 0..1
// and resizes them with its own separable bilinear filter, resize_image():
//   - w_scale = float(src_w - 1) / (dst_w - 1), h_scale likewise (corners map to corners);
//   - horizontal pass into a dst_w x src_h image: column c reads sx = c * w_scale,
//     ix = int(sx), dx = sx - ix, value (1 - dx) * p[ix] + dx * p[ix + 1]; the last column
//     (or a 1-pixel-wide source) copies the source's last column;
//   - vertical pass: row r reads sy = r * h_scale, iy = int(sy), dy = sy - iy, value
//     (1 - dy) * q[iy], plus dy * q[iy + 1] except on the last row (or a 1-pixel-high source).
// All in float, in that order of operations. letterbox_image() keeps the aspect ratio with
// integer sizes (new_w = w, new_h = src_h * w / src_w when w / src_w < h / src_h, else the other
// way round), embeds the resized image at ((w - new_w) / 2, (h - new_h) / 2) and fills the rest
// with 0.5. This differs from OpenCV's pixel-centre bilinear (resize.h) by up to a few levels per
// pixel, enough to move a Yolo-Fastest score by several points.
#pragma once

#include <vector>

namespace qdet::image {

// Resizes an interleaved float image (rows of src_width * channels values) to dst_width x
// dst_height, darknet's resize_image() arithmetic per channel. `scratch` holds the intermediate
// image between calls. Sizes >= 1; dst must hold dst_width * dst_height * channels floats.
void resize_darknet_into(const float* src, int src_width, int src_height, float* dst, int dst_width,
                         int dst_height, int channels, std::vector<float>& scratch);

// letterbox_image()'s size for a source in a w x h input: (new_w, new_h).
void darknet_letterbox_size(int src_width, int src_height, int w, int h, int* new_w, int* new_h);

}  // namespace qdet::image
