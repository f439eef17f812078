// Gemm and MatMul with constant weights -> FULLY_CONNECTED (weights [N, K], bias [N]).
#include "convert/onnx/lower.h"

namespace qdet::convert::onnx {

using graph::OpAttrs;
using graph::OpKind;

Status lower_gemm(Context& ctx, const Node& node) {
  QDET_ASSIGN_OR_RETURN(const ActivationIn a, float_activation_in(ctx, node, 0));
  QDET_ASSIGN_OR_RETURN(const HostTensor* b, ctx.constant_input(node, 1, "B"));
  const bool is_gemm = node.op_type == "Gemm";
  if (b->shape.size() != 2)
    return ctx.node_error(StatusCode::kUnsupported, node, "B {} must be a 2-D constant", shape_to_string(b->shape));
  const bool trans_a = is_gemm && node.get_int("transA", 0) != 0;
  const bool trans_b = is_gemm && node.get_int("transB", 0) != 0;
  if (trans_a) return ctx.node_error(StatusCode::kUnsupported, node, "transA is not supported");
  if (is_gemm && a.shape.size() != 2)
    return ctx.node_error(StatusCode::kInvalidArgument, node, "A {} must be 2-D", shape_to_string(a.shape));
  if (a.shape.size() < 2)
    return ctx.node_error(StatusCode::kUnsupported, node, "A {} must have 2 dims or more", shape_to_string(a.shape));
  const int32_t k = a.shape.back();
  const int32_t n = trans_b ? b->shape[0] : b->shape[1];
  if ((trans_b ? b->shape[1] : b->shape[0]) != k)
    return ctx.node_error(StatusCode::kInvalidArgument, node, "A {} and B {} do not multiply", shape_to_string(a.shape),
                          shape_to_string(b->shape));
  auto bf = cast(*b, DType::kFloat32);
  if (!bf.ok()) return ctx.node_error(StatusCode::kUnsupported, node, "B: {}", bf.status().message());
  HostTensor w = trans_b ? *bf : transpose(*bf, Perm{1, 0});  // [N, K]
  const float alpha = is_gemm ? node.get_float("alpha", 1.f) : 1.f;
  const float beta = is_gemm ? node.get_float("beta", 1.f) : 1.f;
  if (alpha != 1.f) {
    auto v = *w.as_floats();
    for (float& x : v) x *= alpha;
    w = HostTensor::from_floats(w.shape, v);
  }
  std::vector<float> bias(n, 0.f);
  if (is_gemm && ctx.has_input(node, 2)) {
    QDET_ASSIGN_OR_RETURN(const HostTensor* c, ctx.constant_input(node, 2, "C"));
    auto cv = c->as_floats();
    const int64_t cn = c->num_elements();
    if (!cv.ok() || (cn != 1 && cn != n) || (c->shape.size() == 2 && c->shape[0] != 1))
      return ctx.node_error(StatusCode::kUnsupported, node, "C {} must broadcast along the rows", shape_to_string(c->shape));
    for (int32_t i = 0; i < n; ++i) bias[i] = beta * (*cv)[cn == 1 ? 0 : i];
  }
  // The contraction dim must be the last one in the TFLite tensor.
  const size_t rank = a.shape.size();
  Perm perm = a.perm;
  if (tflite_axis(perm, static_cast<int32_t>(rank) - 1) != static_cast<int32_t>(rank) - 1) perm = identity_perm(rank);
  Shape out_shape = a.shape;
  out_shape.back() = n;
  QDET_ASSIGN_OR_RETURN(int32_t in, ctx.tensor_in(node.input(0), perm));
  const std::string& out = node.outputs.at(0);
  const int32_t w_id = ctx.add_constant(w, node.input(1));
  const int32_t b_id = ctx.add_constant(HostTensor::from_floats({n}, bias), out + "/bias");
  const int32_t out_id = new_output_tensor(ctx, node, 0, DType::kFloat32, apply_perm(out_shape, perm));
  OpAttrs attrs;
  attrs.keep_num_dims = rank > 2;
  ctx.add_op(OpKind::kFullyConnected, {in, w_id, b_id}, {out_id}, attrs);
  set_output(ctx, node, 0, out_id, perm, out_shape, DType::kFloat32);
  return ok_status();
}

}  // namespace qdet::convert::onnx
