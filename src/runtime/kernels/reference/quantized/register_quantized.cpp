#include "runtime/kernels/reference/quantized/quantized_kernels.h"

namespace qdet::rt {

void register_reference_quantized_kernels(KernelRegistry& registry) {
  using graph::OpKind;
  namespace q = quantized;
  const auto add = [&](OpKind op, Status (*prepare)(PrepareContext&),
                       Status (*eval)(EvalContext&)) {
    registry.add(op, KernelImpl::kReference, Kernel{"reference", prepare, eval});
  };
  add(OpKind::kConv2d, q::conv2d_prepare, q::conv2d_eval);
  add(OpKind::kDepthwiseConv2d, q::depthwise_conv2d_prepare, q::depthwise_conv2d_eval);
  add(OpKind::kFullyConnected, q::fully_connected_prepare, q::fully_connected_eval);
  add(OpKind::kAdd, q::add_prepare, q::add_sub_eval);
  add(OpKind::kSub, q::sub_prepare, q::add_sub_eval);
  add(OpKind::kMul, q::mul_prepare, q::mul_eval);
  add(OpKind::kDiv, q::div_prepare, q::div_eval);
  add(OpKind::kRsqrt, q::rsqrt_prepare, q::rsqrt_eval);
  add(OpKind::kLogistic, q::logistic_prepare, q::lookup_table_eval);
  add(OpKind::kLogistic, q::logistic_int16_prepare, q::logistic_int16_eval);
  add(OpKind::kTanh, q::tanh_prepare, q::lookup_table_eval);
  add(OpKind::kTanh, q::tanh_int16_prepare, q::tanh_int16_eval);
  add(OpKind::kHardSwish, q::hard_swish_prepare, q::lookup_table_eval);
  add(OpKind::kElu, q::elu_prepare, q::lookup_table_eval);
  add(OpKind::kMean, q::mean_prepare, q::reduce_eval);
  add(OpKind::kSum, q::sum_prepare, q::reduce_eval);
  add(OpKind::kSquaredDifference, q::squared_difference_prepare, q::squared_difference_eval);
  add(OpKind::kConcatenation, q::concatenation_prepare, q::concatenation_eval);
  add(OpKind::kQuantize, q::requantize_prepare, q::requantize_eval);
  add(OpKind::kSoftmax, q::softmax_prepare, q::softmax_eval);
  add(OpKind::kSoftmax, q::softmax_int16_prepare, q::softmax_int16_eval);
  add(OpKind::kRelu, q::relu_prepare, q::activation_eval);
  add(OpKind::kRelu6, q::relu6_prepare, q::activation_eval);
  add(OpKind::kReluN1To1, q::relu_n1_to_1_prepare, q::activation_eval);
  add(OpKind::kLeakyRelu, q::leaky_relu_prepare, q::activation_eval);
}

}  // namespace qdet::rt
