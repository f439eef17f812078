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

// Kernel::fold_input_pad for the float and quantized convolutions: `d` (an XnnOpData with the
// input's batch, height and width and the `params` its operator was created from) re-creates its
// operator through `create(params, &op)` with `pad` added to its padding, reading the unpadded
// input. XNNPACK reads padding through the same indirection as input pixels (from a buffer of
// zeros, or of the input zero point), so every product and sum is the one it computed over the
// padded copy. A 1x1 convolution without padding runs as a GEMM and with padding through the
// indirection buffer: it keeps the path whose bits were checked. False, with nothing changed,
// when the shapes do not fit or XNNPACK refuses the operator.
template <typename Data, typename Params>
bool fold_pad_into_operator(Data* d, const Shape& unpadded, const SpatialPad& pad,
                            xnn_status (*create)(const Params&, xnn_operator_t*)) {
  if (d == nullptr || d->params.kernel_h * d->params.kernel_w == 1 || unpadded.size() != 4 ||
      static_cast<size_t>(unpadded[0]) != d->batch || static_cast<size_t>(unpadded[3]) != d->params.in_stride ||
      unpadded[1] <= 0 || unpadded[2] <= 0 || static_cast<size_t>(unpadded[1]) + pad.top + pad.bottom != d->height ||
      static_cast<size_t>(unpadded[2]) + pad.left + pad.right != d->width)
    return false;
  Params p = d->params;
  p.pad_top += static_cast<uint32_t>(pad.top);
  p.pad_bottom += static_cast<uint32_t>(pad.bottom);
  p.pad_left += static_cast<uint32_t>(pad.left);
  p.pad_right += static_cast<uint32_t>(pad.right);
  xnn_operator_t op = nullptr;
  if (create(p, &op) != xnn_status_success) return false;
  xnn_delete_operator(d->op);
  d->op = op;
  d->params = p;
  d->height = static_cast<size_t>(unpadded[1]);
  d->width = static_cast<size_t>(unpadded[2]);
  return true;
}

}  // namespace qdet::rt::xnn
