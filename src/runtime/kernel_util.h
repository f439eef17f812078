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

// A zero PAD of `pad` around H and W folded into a convolution prepared on the padded input:
// `g` reads the unpadded input `unpadded` with that much more leading padding (the trailing
// padding follows from the output size). False, with `g` unchanged, when `unpadded` plus `pad`
// is not the prepared input.
bool add_input_pad(ConvGeometry& g, const Shape& unpadded, const SpatialPad& pad);

// One filter tap of an output pixel: the input row and column it reads, the filter row and
// column it weighs them with.
struct WindowTap {
  int32_t iy, ix, ky, kx;
};

// The filter taps of output pixel (oy, ox) that fall inside the input, in (ky, kx) order, as a
// range: `for (const WindowTap t : WindowTaps(g, oy, ox))`. Padded positions are skipped, as if
// they held zeros (or, quantized, the input's zero point). The window walk every direct
// convolution kernel shares; plain inline code without a callback, so that functions compiled
// for another target (the SIMD kernels' AVX-512 bodies) inline it too.
class WindowTaps {
 public:
  WindowTaps(const ConvGeometry& g, int32_t oy, int32_t ox)
      : iy0_(oy * g.stride_h - g.pad_top), ix0_(ox * g.stride_w - g.pad_left), dil_h_(g.dil_h), dil_w_(g.dil_w) {
    ky_begin_ = first_inside(iy0_, dil_h_);
    ky_end_ = std::max(ky_begin_, std::min(g.k_h, first_inside(iy0_ - g.in_h, dil_h_)));
    kx_begin_ = first_inside(ix0_, dil_w_);
    kx_end_ = std::min(g.k_w, first_inside(ix0_ - g.in_w, dil_w_));
    if (kx_end_ <= kx_begin_) ky_end_ = ky_begin_;  // no column inside: no tap at all
  }

  class Iterator {
   public:
    Iterator(const WindowTaps* w, int32_t ky, int32_t kx) : w_(w), ky_(ky), kx_(kx) {}
    WindowTap operator*() const { return {w_->iy0_ + ky_ * w_->dil_h_, w_->ix0_ + kx_ * w_->dil_w_, ky_, kx_}; }
    Iterator& operator++() {
      if (++kx_ == w_->kx_end_) {
        kx_ = w_->kx_begin_;
        ++ky_;
      }
      return *this;
    }
    bool operator!=(const Iterator& o) const { return ky_ != o.ky_ || kx_ != o.kx_; }

   private:
    const WindowTaps* w_;
    int32_t ky_, kx_;
  };
  Iterator begin() const { return {this, ky_begin_, kx_begin_}; }
  Iterator end() const { return {this, ky_end_, kx_begin_}; }

 private:
  // The first k >= 0 with start + k * dilation >= 0.
  static int32_t first_inside(int32_t start, int32_t dilation) {
    return start >= 0 ? 0 : (-start + dilation - 1) / dilation;
  }
  int32_t iy0_, ix0_, dil_h_, dil_w_;
  int32_t ky_begin_ = 0, ky_end_ = 0, kx_begin_ = 0, kx_end_ = 0;
};

// FULLY_CONNECTED's output shape: with keep_num_dims the input's shape with its last dim
// (which must be `depth`) made `units`, else [batch, units].
Result<Shape> fully_connected_output_shape(bool keep_num_dims, const Shape& in, int64_t batch,
                                           int64_t depth, int64_t units);

// NumPy broadcasting of two shapes; error when a dim pair is neither equal nor 1.
Result<Shape> broadcast_shapes(const Shape& a, const Shape& b);

}  // namespace qdet::rt
