// FULLY_CONNECTED, quantized (TFLite reference_ops::FullyConnected for uint8,
// reference_integer_ops::FullyConnected / FullyConnectedPerChannel for int8 and int16x8).
// Input [..., depth] seen as [batches, depth], weights [units, depth], output [batches, units]
// (or the input's leading dims with `units` last when keep_num_dims is set).
//   acc = bias[u] + sum (w + filter_offset) * (x + input_offset)
//   out = clamp(multiply_by_quantized_multiplier(acc, M[u]) + output_offset)
#include <memory>

#include "runtime/kernels/reference/common.h"
#include "runtime/kernels/reference/quantized/conv_params.h"
#include "runtime/kernels/reference/quantized/quantized_common.h"
#include "runtime/kernels/reference/quantized/quantized_kernels.h"

namespace qdet::rt::quantized {
namespace {

struct FullyConnectedData : OpData {
  ConvQuant quant;
  int64_t batches = 0;
  int32_t depth = 0;
  int32_t units = 0;
};

template <typename T>
void fully_connected_kernel(const FullyConnectedData& d, const ConvOperands<T>& o) {
  using Acc = typename T::Acc;
  const ConvQuant& q = d.quant;
  const Acc in_off = q.input_offset, w_off = q.filter_offset;
  for (int64_t n = 0; n < d.batches; ++n) {
    const auto* x = o.in + n * d.depth;
    for (int32_t u = 0; u < d.units; ++u) {
      const auto* row = o.filter + static_cast<int64_t>(u) * d.depth;
      Acc acc = 0;
      for (int32_t k = 0; k < d.depth; ++k)
        acc += (static_cast<Acc>(row[k]) + w_off) * (static_cast<Acc>(x[k]) + in_off);
      o.out[n * d.units + u] = requantize_accumulator<typename T::Out>(q, acc, o.bias, u);
    }
  }
}

}  // namespace

Status fully_connected_prepare(PrepareContext& ctx) {
  const std::string op = "FULLY_CONNECTED";
  QDET_ASSIGN_OR_RETURN(const WeightedTensors t, weighted_tensors(ctx, op));
  if (t.filter.shape.size() != 2)
    return invalid_argument("{}: weights {} must be 2-D [units, depth]", op,
                            shape_to_string(t.filter.shape));
  const int32_t units = t.filter.shape[0], depth = t.filter.shape[1];
  QDET_ASSIGN_OR_RETURN(ConvQuant quant, prepare_conv_quant(op, t.input, t.filter, t.bias, t.output, units, 0,
                                                            ctx.op.attrs.activation,
                                                            /*int8_weight_zero_point=*/true));
  const int64_t elements = t.input.num_elements();
  if (t.input.shape.empty() || depth <= 0 || elements % depth != 0)
    return invalid_argument("{}: input {} does not split into rows of depth {}", op,
                            shape_to_string(t.input.shape), depth);
  auto d = std::make_unique<FullyConnectedData>();
  d->quant = std::move(quant);
  d->batches = elements / depth;
  d->depth = depth;
  d->units = units;
  auto shape = ref::fully_connected_output_shape(ctx.op.attrs.keep_num_dims, t.input.shape,
                                                 d->batches, depth, units);
  if (!shape.ok()) return shape.status().with_context(op);
  t.output.shape = std::move(*shape);
  return keep_op_data(ctx, std::move(d));
}

Status fully_connected_eval(EvalContext& ctx) {
  const auto& d = *op_data_as<FullyConnectedData>(ctx);
  return run_conv_kernel(ctx, d.quant, [&](const auto& operands) { fully_connected_kernel(d, operands); });
}

}  // namespace qdet::rt::quantized
