// Arithmetic every kernel family shares (reference, quantized, SIMD, XNNPACK, oneDNN) and the
// quantizer reads: fused activation ranges, TFLite's padding and output sizes, convolution
// geometry, broadcasting of shapes, FULLY_CONNECTED's output shape. One home, so every family
// agrees with TFLite's kernels/padding.h and kernel_util.h on the same numbers.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

#include "base/status.h"
#include "graph/op.h"
#include "runtime/kernel.h"
#include "tensor/shape.h"

namespace qdet::rt {

// Fused activation bounds (TFLite's CalculateActivationRange for float).
struct ActivationRange {
  float min = -std::numeric_limits<float>::infinity();
  float max = std::numeric_limits<float>::infinity();
};
Result<ActivationRange> activation_range(graph::Activation a);
inline float clamp_activation(float v, const ActivationRange& r) {
  return std::min(std::max(v, r.min), r.max);
}

// TFLite's padding: SAME gives ceil(in / stride) outputs, VALID (in - dilated + stride) / stride;
// the total padding is split with the smaller half before (TFLite's ComputePaddingWithOffset).
struct Padding1d {
  int32_t out = 0;
  int32_t before = 0;
  int32_t after = 0;
};
Result<Padding1d> compute_padding(graph::Padding padding, int32_t in, int32_t filter,
                                  int32_t stride, int32_t dilation, const char* dim);

// The geometry CONV_2D and DEPTHWISE_CONV_2D kernels (float and hybrid) share, NHWC.
struct ConvGeometry {
  int32_t batches = 0, in_h = 0, in_w = 0, in_c = 0;
  int32_t out_h = 0, out_w = 0, out_c = 0;
  int32_t k_h = 0, k_w = 0;
  int32_t stride_h = 1, stride_w = 1, dil_h = 1, dil_w = 1, pad_top = 0, pad_left = 0;
  ActivationRange act;
};
// Fills `g` for a 4-D input `in`, a k_h x k_w filter with `out_c` output channels and the op's
// padding, strides, dilations and fused activation; checks a float32 bias of out_c values
// when there is one.
Status fill_conv_geometry(const TensorRef& in, int32_t k_h, int32_t k_w, int32_t out_c,
                          const TensorRef* bias, const graph::OpAttrs& a, ConvGeometry* g);

// Calls tap(iy, ix, ky, kx) for every filter tap of output pixel (oy, ox) that falls inside the
// input, in (ky, kx) order: padded positions are skipped, as if they held zeros (or, quantized,
// the input's zero point). The window walk every direct convolution kernel shares.
template <typename Tap>
inline void for_each_window_tap(const ConvGeometry& g, int32_t oy, int32_t ox, Tap&& tap) {
  const int32_t iy0 = oy * g.stride_h - g.pad_top, ix0 = ox * g.stride_w - g.pad_left;
  for (int32_t ky = 0; ky < g.k_h; ++ky) {
    const int32_t iy = iy0 + ky * g.dil_h;
    if (iy < 0 || iy >= g.in_h) continue;
    for (int32_t kx = 0; kx < g.k_w; ++kx) {
      const int32_t ix = ix0 + kx * g.dil_w;
      if (ix < 0 || ix >= g.in_w) continue;
      tap(iy, ix, ky, kx);
    }
  }
}

// FULLY_CONNECTED's output shape: with keep_num_dims the input's shape with its last dim
// (which must be `depth`) made `units`, else [batch, units].
Result<Shape> fully_connected_output_shape(bool keep_num_dims, const Shape& in, int64_t batch,
                                           int64_t depth, int64_t units);

// NumPy broadcasting of two shapes; error when a dim pair is neither equal nor 1.
Result<Shape> broadcast_shapes(const Shape& a, const Shape& b);

}  // namespace qdet::rt
