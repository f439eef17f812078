// Geometry shared by the float and quantized XNNPACK convolutions (conv.cpp,
// conv_quantized.cpp): arity, 4-D shapes, constant filter and bias, TFLite's padding rule.
#pragma once

#include "runtime/kernels/xnnpack/xnn_common.h"

namespace qdet::rt::xnn {

struct ConvGeometry {
  int32_t batch, in_h, in_w, in_c;
  int32_t kernel_h, kernel_w;
  Padding1d pad_h, pad_w;
};

// Dtype-agnostic checks of CONV_2D / DEPTHWISE_CONV_2D: input, constant filter, optional
// constant bias with one value per output channel (filter dim `filter_out_channels_axis`),
// non-empty 4-D input and filter, strides and dilations >= 1, output size by TFLite's rule.
// Everything it rejects is kUnsupported.
Result<ConvGeometry> conv_geometry(PrepareContext& ctx, int32_t filter_out_channels_axis);

}  // namespace qdet::rt::xnn
