// Bilinear resize that reproduces OpenCV's cv2.resize(..., INTER_LINEAR) on uint8 images bit for
// bit (OpenCV 4.x, imgproc/src/resize.cpp):
//   - source coordinate of output pixel d: f = float((d + 0.5) * (1 / (dsize / ssize)) - 0.5),
//     s = floor(f), f -= s; clamped at the borders (s < 0 -> s = 0, f = 0;
//     s >= ssize - 1 -> s = ssize - 1, f = 0);
//   - weights in fixed point with INTER_RESIZE_COEF_BITS = 11: w0 = round((1 - f) * 2048),
//     w1 = round(f * 2048) (round half to even, in float);
//   - horizontal pass: h = s0 * w0 + s1 * w1 (int32, scale 2^11);
//   - vertical pass as OpenCV's SIMD path computes it (VResizeLinearVec_32s8u):
//     out = ((((h0 >> 4) * b0) >> 16) + (((h1 >> 4) * b1) >> 16) + 2) >> 2;
//   - equal sizes copy; an exact 2x reduction on both axes becomes INTER_AREA, as in OpenCV:
//     out = (a + b + c + d + 2) >> 2.
// Channels 1..4, any sizes >= 1.
#pragma once

#include <cstdint>

#include "base/status.h"
#include "image/image.h"

namespace qdet::image {

// Raw form: rows of `*_stride` bytes. Source and destination must not overlap.
void resize_bilinear_into(const uint8_t* src, int src_width, int src_height, size_t src_stride,
                          uint8_t* dst, int dst_width, int dst_height, size_t dst_stride,
                          int channels);

// New image of width x height; error when a size is < 1 or beyond the image limits.
Result<Image> resize_bilinear(const Image& src, int width, int height);

// OpenCV's cv2.resize(..., INTER_AREA) on uint8 images (OpenCV 4.x resizeArea_): reducing, each
// output value is the area-weighted mean of the source pixels its cell covers (OpenCV's tap
// table and float arithmetic in its order, rounded half to even); an exact 2x reduction on both
// axes is the (a + b + c + d + 2) >> 2 mean; enlarging an axis, the linear path above with
// INTER_AREA's weights (f = (d + 1) - (s + 1) / scale, s = floor(d * scale)).
void resize_area_into(const uint8_t* src, int src_width, int src_height, size_t src_stride, uint8_t* dst,
                      int dst_width, int dst_height, size_t dst_stride, int channels);
Result<Image> resize_area(const Image& src, int width, int height);

// The same arithmetic written per output pixel, slow and obvious: the reference the fast path
// is tested against.
Image resize_bilinear_reference(const Image& src, int width, int height);

}  // namespace qdet::image
