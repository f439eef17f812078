#include "runtime/kernel_util.h"

#include <fmt/format.h>

namespace qdet::rt {

Result<ActivationRange> activation_range(graph::Activation a) {
  switch (a) {
    case graph::Activation::kNone: return ActivationRange{};
    case graph::Activation::kRelu: return ActivationRange{0.0f, ActivationRange{}.max};
    case graph::Activation::kReluN1To1: return ActivationRange{-1.0f, 1.0f};
    case graph::Activation::kRelu6: return ActivationRange{0.0f, 6.0f};
    default: break;
  }
  return unsupported("fused activation {} is not supported", graph::activation_name(a));
}

Result<Shape> broadcast_shapes(const Shape& a, const Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int32_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int32_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      return invalid_argument("shapes {} and {} do not broadcast", shape_to_string(a),
                              shape_to_string(b));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Result<Padding1d> compute_padding(graph::Padding padding, int32_t in, int32_t filter,
                                  int32_t stride, int32_t dilation, const char* dim) {
  if (stride < 1 || dilation < 1 || filter < 1)
    return invalid_argument("{}: stride {}, dilation {} and filter size {} must be positive", dim,
                            stride, dilation, filter);
  const int64_t dilated = static_cast<int64_t>(filter - 1) * dilation + 1;
  int64_t out = padding == graph::Padding::kSame ? (in + stride - 1) / stride
                                                 : (in - dilated + stride) / stride;
  if (out < 0) out = 0;
  const int64_t total = std::max<int64_t>((out - 1) * stride + dilated - in, 0);
  return Padding1d{static_cast<int32_t>(out), static_cast<int32_t>(total / 2),
                   static_cast<int32_t>(total - total / 2)};
}

bool add_input_pad(ConvGeometry& g, const Shape& unpadded, const SpatialPad& pad) {
  if (unpadded.size() != 4 || unpadded[0] != g.batches || unpadded[3] != g.in_c || unpadded[1] <= 0 ||
      unpadded[2] <= 0 || unpadded[1] + pad.top + pad.bottom != g.in_h || unpadded[2] + pad.left + pad.right != g.in_w)
    return false;
  g.in_h = unpadded[1];
  g.in_w = unpadded[2];
  g.pad_top += pad.top;
  g.pad_left += pad.left;
  return true;
}

Status fill_conv_geometry(const TensorRef& in, int32_t k_h, int32_t k_w, int32_t out_c,
                          const TensorRef* bias, const graph::OpAttrs& a, ConvGeometry* g) {
  g->batches = in.shape[0];
  g->in_h = in.shape[1];
  g->in_w = in.shape[2];
  g->in_c = in.shape[3];
  g->k_h = k_h;
  g->k_w = k_w;
  g->out_c = out_c;
  if (bias) {
    if (bias->dtype != DType::kFloat32)
      return invalid_argument("bias must be {}, got {}", dtype_name(DType::kFloat32), dtype_name(bias->dtype));
    if (bias->num_elements() != out_c)
      return invalid_argument("bias has {} elements, expected {}", bias->num_elements(), out_c);
  }
  QDET_ASSIGN_OR_RETURN(auto ph, compute_padding(a.padding, g->in_h, k_h, a.stride_h,
                                                 a.dilation_h, "height"));
  QDET_ASSIGN_OR_RETURN(auto pw, compute_padding(a.padding, g->in_w, k_w, a.stride_w,
                                                 a.dilation_w, "width"));
  g->out_h = ph.out;
  g->out_w = pw.out;
  g->pad_top = ph.before;
  g->pad_left = pw.before;
  g->stride_h = a.stride_h;
  g->stride_w = a.stride_w;
  g->dil_h = a.dilation_h;
  g->dil_w = a.dilation_w;
  QDET_ASSIGN_OR_RETURN(g->act, activation_range(a.activation));
  return ok_status();
}

Result<Shape> fully_connected_output_shape(bool keep_num_dims, const Shape& in, int64_t batch,
                                           int64_t depth, int64_t units) {
  if (!keep_num_dims) return Shape{static_cast<int32_t>(batch), static_cast<int32_t>(units)};
  if (in.empty() || in.back() != depth)
    return invalid_argument("keep_num_dims: input's last dim {} is not {}",
                            in.empty() ? 0 : in.back(), depth);
  Shape out = in;
  out.back() = static_cast<int32_t>(units);
  return out;
}

}  // namespace qdet::rt
