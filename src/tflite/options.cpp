#include "tflite/options.h"

namespace qdet::tflite {
namespace {

using graph::Activation;
using graph::OpKind;
using graph::Padding;
using Opt = tfl::BuiltinOptions;

Activation activation(tfl::ActivationFunctionType a) { return static_cast<Activation>(a); }
tfl::ActivationFunctionType activation(Activation a) {
  return static_cast<tfl::ActivationFunctionType>(a);
}
Padding padding(tfl::Padding p) { return static_cast<Padding>(p); }
tfl::Padding padding(Padding p) { return static_cast<tfl::Padding>(p); }

std::vector<int32_t> ints(const flatbuffers::Vector<int32_t>* v) {
  return v ? std::vector<int32_t>(v->begin(), v->end()) : std::vector<int32_t>{};
}

Status check_enums(const graph::OpAttrs& a) {
  if (static_cast<uint8_t>(a.activation) > static_cast<uint8_t>(Activation::kSignBit))
    return invalid_argument("unknown fused activation {}", static_cast<int>(a.activation));
  if (static_cast<uint8_t>(a.padding) > static_cast<uint8_t>(Padding::kValid))
    return invalid_argument("unknown padding {}", static_cast<int>(a.padding));
  return ok_status();
}

// Convolutions, pools and FULLY_CONNECTED: windows, strides, fused activations.
void read_window_options(const tfl::Operator& src, graph::OpAttrs& a) {
  switch (src.builtin_options_type()) {
    case Opt::Conv2DOptions: {
      const auto* o = src.builtin_options_as_Conv2DOptions();
      a.padding = padding(o->padding());
      a.stride_w = o->stride_w();
      a.stride_h = o->stride_h();
      a.activation = activation(o->fused_activation_function());
      a.dilation_w = o->dilation_w_factor();
      a.dilation_h = o->dilation_h_factor();
      break;
    }
    case Opt::DepthwiseConv2DOptions: {
      const auto* o = src.builtin_options_as_DepthwiseConv2DOptions();
      a.padding = padding(o->padding());
      a.stride_w = o->stride_w();
      a.stride_h = o->stride_h();
      a.depth_multiplier = o->depth_multiplier();
      a.activation = activation(o->fused_activation_function());
      a.dilation_w = o->dilation_w_factor();
      a.dilation_h = o->dilation_h_factor();
      break;
    }
    case Opt::Pool2DOptions: {
      const auto* o = src.builtin_options_as_Pool2DOptions();
      a.padding = padding(o->padding());
      a.stride_w = o->stride_w();
      a.stride_h = o->stride_h();
      a.filter_w = o->filter_width();
      a.filter_h = o->filter_height();
      a.activation = activation(o->fused_activation_function());
      break;
    }
    case Opt::TransposeConvOptions: {
      const auto* o = src.builtin_options_as_TransposeConvOptions();
      a.padding = padding(o->padding());
      a.stride_w = o->stride_w();
      a.stride_h = o->stride_h();
      a.activation = activation(o->fused_activation_function());
      break;
    }
    case Opt::FullyConnectedOptions: {
      const auto* o = src.builtin_options_as_FullyConnectedOptions();
      a.activation = activation(o->fused_activation_function());
      a.keep_num_dims = o->keep_num_dims();
      a.asymmetric_quantize_inputs = o->asymmetric_quantize_inputs();
      break;
    }
    case Opt::BatchMatMulOptions: {
      const auto* o = src.builtin_options_as_BatchMatMulOptions();
      a.adj_x = o->adj_x();
      a.adj_y = o->adj_y();
      a.asymmetric_quantize_inputs = o->asymmetric_quantize_inputs();
      break;
    }
    default:  // another family's table
      break;
  }
}

// Elementwise ops and SOFTMAX: fused activations and their parameters.
void read_elementwise_options(const tfl::Operator& src, graph::OpAttrs& a) {
  switch (src.builtin_options_type()) {
    case Opt::AddOptions: {
      const auto* o = src.builtin_options_as_AddOptions();
      a.activation = activation(o->fused_activation_function());
      a.pot_scale_int16 = o->pot_scale_int16();
      break;
    }
    case Opt::SubOptions: {
      const auto* o = src.builtin_options_as_SubOptions();
      a.activation = activation(o->fused_activation_function());
      a.pot_scale_int16 = o->pot_scale_int16();
      break;
    }
    case Opt::MulOptions:
      a.activation = activation(src.builtin_options_as_MulOptions()->fused_activation_function());
      break;
    case Opt::DivOptions:
      a.activation = activation(src.builtin_options_as_DivOptions()->fused_activation_function());
      break;
    case Opt::SoftmaxOptions:
      a.beta = src.builtin_options_as_SoftmaxOptions()->beta();
      break;
    case Opt::LeakyReluOptions:
      a.alpha = src.builtin_options_as_LeakyReluOptions()->alpha();
      break;
    case Opt::ConcatenationOptions: {
      const auto* o = src.builtin_options_as_ConcatenationOptions();
      a.axis = o->axis();
      a.activation = activation(o->fused_activation_function());
      break;
    }
    default:  // another family's table
      break;
  }
}

// Ops that move or reduce data: shapes, axes, masks.
void read_shape_options(const tfl::Operator& src, graph::OpAttrs& a) {
  switch (src.builtin_options_type()) {
    case Opt::ReshapeOptions: {
      const auto* o = src.builtin_options_as_ReshapeOptions();
      a.has_new_shape = o->new_shape() != nullptr;
      a.new_shape = ints(o->new_shape());
      break;
    }
    case Opt::SqueezeOptions:
      a.squeeze_dims = ints(src.builtin_options_as_SqueezeOptions()->squeeze_dims());
      break;
    case Opt::StridedSliceOptions: {
      const auto* o = src.builtin_options_as_StridedSliceOptions();
      a.begin_mask = o->begin_mask();
      a.end_mask = o->end_mask();
      a.ellipsis_mask = o->ellipsis_mask();
      a.new_axis_mask = o->new_axis_mask();
      a.shrink_axis_mask = o->shrink_axis_mask();
      a.offset = o->offset();
      break;
    }
    case Opt::SplitOptions:
      a.num_splits = src.builtin_options_as_SplitOptions()->num_splits();
      break;
    case Opt::SplitVOptions:
      a.num_splits = src.builtin_options_as_SplitVOptions()->num_splits();
      break;
    case Opt::PackOptions: {
      const auto* o = src.builtin_options_as_PackOptions();
      a.values_count = o->values_count();
      a.axis = o->axis();
      break;
    }
    case Opt::UnpackOptions: {
      const auto* o = src.builtin_options_as_UnpackOptions();
      a.values_count = o->num();
      a.axis = o->axis();
      break;
    }
    case Opt::GatherOptions: {
      const auto* o = src.builtin_options_as_GatherOptions();
      a.axis = o->axis();
      a.batch_dims = o->batch_dims();
      break;
    }
    case Opt::ReducerOptions:
      a.keep_dims = src.builtin_options_as_ReducerOptions()->keep_dims();
      break;
    case Opt::ArgMaxOptions:
      a.output_type = static_cast<int32_t>(src.builtin_options_as_ArgMaxOptions()->output_type());
      break;
    case Opt::ArgMinOptions:
      a.output_type = static_cast<int32_t>(src.builtin_options_as_ArgMinOptions()->output_type());
      break;
    case Opt::SpaceToDepthOptions:
      a.block_size = src.builtin_options_as_SpaceToDepthOptions()->block_size();
      break;
    case Opt::DepthToSpaceOptions:
      a.block_size = src.builtin_options_as_DepthToSpaceOptions()->block_size();
      break;
    case Opt::ResizeBilinearOptions: {
      const auto* o = src.builtin_options_as_ResizeBilinearOptions();
      a.align_corners = o->align_corners();
      a.half_pixel_centers = o->half_pixel_centers();
      break;
    }
    case Opt::ResizeNearestNeighborOptions: {
      const auto* o = src.builtin_options_as_ResizeNearestNeighborOptions();
      a.align_corners = o->align_corners();
      a.half_pixel_centers = o->half_pixel_centers();
      break;
    }
    case Opt::MirrorPadOptions:
      a.mirror_symmetric = src.builtin_options_as_MirrorPadOptions()->mode() == tfl::MirrorPadMode::SYMMETRIC;
      break;
    default:  // another family's table
      break;
  }
}

}  // namespace

tfl::BuiltinOptions options_type_for(OpKind kind) {
  switch (kind) {
    case OpKind::kAdd: return Opt::AddOptions;
    case OpKind::kAveragePool2d:
    case OpKind::kMaxPool2d: return Opt::Pool2DOptions;
    case OpKind::kConcatenation: return Opt::ConcatenationOptions;
    case OpKind::kConv2d: return Opt::Conv2DOptions;
    case OpKind::kDepthwiseConv2d: return Opt::DepthwiseConv2DOptions;
    case OpKind::kDepthToSpace: return Opt::DepthToSpaceOptions;
    case OpKind::kDequantize: return Opt::DequantizeOptions;
    case OpKind::kFullyConnected: return Opt::FullyConnectedOptions;
    case OpKind::kMul: return Opt::MulOptions;
    case OpKind::kReshape: return Opt::ReshapeOptions;
    case OpKind::kResizeBilinear: return Opt::ResizeBilinearOptions;
    case OpKind::kSoftmax: return Opt::SoftmaxOptions;
    case OpKind::kSpaceToDepth: return Opt::SpaceToDepthOptions;
    case OpKind::kPad: return Opt::PadOptions;
    case OpKind::kGather: return Opt::GatherOptions;
    case OpKind::kTranspose: return Opt::TransposeOptions;
    case OpKind::kMean:
    case OpKind::kSum:
    case OpKind::kReduceMax: return Opt::ReducerOptions;
    case OpKind::kSub: return Opt::SubOptions;
    case OpKind::kDiv: return Opt::DivOptions;
    case OpKind::kSqueeze: return Opt::SqueezeOptions;
    case OpKind::kStridedSlice: return Opt::StridedSliceOptions;
    case OpKind::kExp: return Opt::ExpOptions;
    case OpKind::kSplit: return Opt::SplitOptions;
    case OpKind::kCast: return Opt::CastOptions;
    case OpKind::kMaximum:
    case OpKind::kMinimum: return Opt::MaximumMinimumOptions;
    case OpKind::kPadV2: return Opt::PadV2Options;
    case OpKind::kSlice: return Opt::SliceOptions;
    case OpKind::kTransposeConv: return Opt::TransposeConvOptions;
    case OpKind::kExpandDims: return Opt::ExpandDimsOptions;
    case OpKind::kPow: return Opt::PowOptions;
    case OpKind::kPack: return Opt::PackOptions;
    case OpKind::kResizeNearestNeighbor: return Opt::ResizeNearestNeighborOptions;
    case OpKind::kLeakyRelu: return Opt::LeakyReluOptions;
    case OpKind::kSplitV: return Opt::SplitVOptions;
    case OpKind::kQuantize: return Opt::QuantizeOptions;
    case OpKind::kHardSwish: return Opt::HardSwishOptions;
    case OpKind::kScatterNd: return Opt::ScatterNdOptions;
    case OpKind::kBroadcastTo: return Opt::BroadcastToOptions;
    case OpKind::kArgMax: return Opt::ArgMaxOptions;
    case OpKind::kArgMin: return Opt::ArgMinOptions;
    case OpKind::kTile: return Opt::TileOptions;
    case OpKind::kUnpack: return Opt::UnpackOptions;
    case OpKind::kSquaredDifference: return Opt::SquaredDifferenceOptions;
    case OpKind::kMirrorPad: return Opt::MirrorPadOptions;
    case OpKind::kBatchMatmul: return Opt::BatchMatMulOptions;
    default: return Opt::NONE;  // FLOOR, LOGISTIC, RELU*, TANH, PRELU, SQRT, RSQRT, ELU, custom ops
  }
}

Status read_builtin_options(const tfl::Operator& src, graph::Op& op) {
  graph::OpAttrs& a = op.attrs;
  const Opt expected = options_type_for(op.kind);
  const Opt type = src.builtin_options_type();
  if (type != Opt::NONE && type != expected)
    return invalid_argument("builtin options have type {} ({}), expected {}",
                            tfl::EnumNameBuiltinOptions(type), static_cast<int>(type),
                            expected == Opt::NONE ? "none" : tfl::EnumNameBuiltinOptions(expected));
  // TFLite's runtime zero-initializes the parameters of an op whose options table is absent;
  // the only field where that differs from qdet's defaults in a way kernels see is
  // pot_scale_int16 (ADD/SUB int16). A value without a type is not verified and not read.
  if (type == Opt::NONE || !src.builtin_options()) {
    if (op.kind == OpKind::kAdd || op.kind == OpKind::kSub) a.pot_scale_int16 = false;
    return ok_status();
  }
  // A table of another type was refused above, so each family reads only its own.
  if (const auto* fc = src.builtin_options_as_FullyConnectedOptions();
      fc && fc->weights_format() != tfl::FullyConnectedOptionsWeightsFormat::DEFAULT)
    return unsupported("shuffled FULLY_CONNECTED weights are not supported");
  read_window_options(src, a);
  read_elementwise_options(src, a);
  read_shape_options(src, a);  // tables without fields (PadOptions, TransposeOptions, ...): none reads them
  return check_enums(a);
}

WrittenOptions write_builtin_options(flatbuffers::FlatBufferBuilder& fbb, const graph::Op& op) {
  const graph::OpAttrs& a = op.attrs;
  const Opt type = options_type_for(op.kind);
  flatbuffers::Offset<void> t;
  switch (type) {
    case Opt::NONE: return {};
    case Opt::Conv2DOptions:
      t = tfl::CreateConv2DOptions(fbb, padding(a.padding), a.stride_w, a.stride_h,
                                   activation(a.activation), a.dilation_w, a.dilation_h)
              .Union();
      break;
    case Opt::DepthwiseConv2DOptions:
      t = tfl::CreateDepthwiseConv2DOptions(fbb, padding(a.padding), a.stride_w, a.stride_h,
                                            a.depth_multiplier, activation(a.activation),
                                            a.dilation_w, a.dilation_h)
              .Union();
      break;
    case Opt::Pool2DOptions:
      t = tfl::CreatePool2DOptions(fbb, padding(a.padding), a.stride_w, a.stride_h, a.filter_w,
                                   a.filter_h, activation(a.activation))
              .Union();
      break;
    case Opt::FullyConnectedOptions:
      t = tfl::CreateFullyConnectedOptions(fbb, activation(a.activation),
                                           tfl::FullyConnectedOptionsWeightsFormat::DEFAULT,
                                           a.keep_num_dims, a.asymmetric_quantize_inputs)
              .Union();
      break;
    case Opt::SoftmaxOptions: t = tfl::CreateSoftmaxOptions(fbb, a.beta).Union(); break;
    case Opt::ConcatenationOptions:
      t = tfl::CreateConcatenationOptions(fbb, a.axis, activation(a.activation)).Union();
      break;
    case Opt::AddOptions:
      t = tfl::CreateAddOptions(fbb, activation(a.activation), a.pot_scale_int16).Union();
      break;
    case Opt::SubOptions:
      t = tfl::CreateSubOptions(fbb, activation(a.activation), a.pot_scale_int16).Union();
      break;
    case Opt::MulOptions: t = tfl::CreateMulOptions(fbb, activation(a.activation)).Union(); break;
    case Opt::DivOptions: t = tfl::CreateDivOptions(fbb, activation(a.activation)).Union(); break;
    case Opt::ResizeBilinearOptions:
      t = tfl::CreateResizeBilinearOptions(fbb, a.align_corners, a.half_pixel_centers).Union();
      break;
    case Opt::ResizeNearestNeighborOptions:
      t = tfl::CreateResizeNearestNeighborOptions(fbb, a.align_corners, a.half_pixel_centers)
              .Union();
      break;
    case Opt::ReshapeOptions:
      t = tfl::CreateReshapeOptions(fbb, a.has_new_shape ? fbb.CreateVector(a.new_shape) : 0)
              .Union();
      break;
    case Opt::SpaceToDepthOptions:
      t = tfl::CreateSpaceToDepthOptions(fbb, a.block_size).Union();
      break;
    case Opt::DepthToSpaceOptions:
      t = tfl::CreateDepthToSpaceOptions(fbb, a.block_size).Union();
      break;
    case Opt::GatherOptions: t = tfl::CreateGatherOptions(fbb, a.axis, a.batch_dims).Union(); break;
    case Opt::ReducerOptions: t = tfl::CreateReducerOptions(fbb, a.keep_dims).Union(); break;
    case Opt::SqueezeOptions:
      t = tfl::CreateSqueezeOptions(fbb, fbb.CreateVector(a.squeeze_dims)).Union();
      break;
    case Opt::StridedSliceOptions:
      t = tfl::CreateStridedSliceOptions(fbb, a.begin_mask, a.end_mask, a.ellipsis_mask,
                                         a.new_axis_mask, a.shrink_axis_mask, a.offset)
              .Union();
      break;
    case Opt::SplitOptions: t = tfl::CreateSplitOptions(fbb, a.num_splits).Union(); break;
    case Opt::SplitVOptions: t = tfl::CreateSplitVOptions(fbb, a.num_splits).Union(); break;
    case Opt::TransposeConvOptions:
      t = tfl::CreateTransposeConvOptions(fbb, padding(a.padding), a.stride_w, a.stride_h,
                                          activation(a.activation))
              .Union();
      break;
    case Opt::PackOptions: t = tfl::CreatePackOptions(fbb, a.values_count, a.axis).Union(); break;
    case Opt::LeakyReluOptions: t = tfl::CreateLeakyReluOptions(fbb, a.alpha).Union(); break;
    case Opt::PadOptions: t = tfl::CreatePadOptions(fbb).Union(); break;
    case Opt::PadV2Options: t = tfl::CreatePadV2Options(fbb).Union(); break;
    case Opt::TransposeOptions: t = tfl::CreateTransposeOptions(fbb).Union(); break;
    case Opt::ExpOptions: t = tfl::CreateExpOptions(fbb).Union(); break;
    case Opt::CastOptions: t = tfl::CreateCastOptions(fbb).Union(); break;
    case Opt::DequantizeOptions: t = tfl::CreateDequantizeOptions(fbb).Union(); break;
    case Opt::MaximumMinimumOptions: t = tfl::CreateMaximumMinimumOptions(fbb).Union(); break;
    case Opt::SliceOptions: t = tfl::CreateSliceOptions(fbb).Union(); break;
    case Opt::ExpandDimsOptions: t = tfl::CreateExpandDimsOptions(fbb).Union(); break;
    case Opt::PowOptions: t = tfl::CreatePowOptions(fbb).Union(); break;
    case Opt::QuantizeOptions: t = tfl::CreateQuantizeOptions(fbb).Union(); break;
    case Opt::HardSwishOptions: t = tfl::CreateHardSwishOptions(fbb).Union(); break;
    case Opt::ScatterNdOptions: t = tfl::CreateScatterNdOptions(fbb).Union(); break;
    case Opt::BroadcastToOptions: t = tfl::CreateBroadcastToOptions(fbb).Union(); break;
    case Opt::ArgMaxOptions:
      t = tfl::CreateArgMaxOptions(fbb, static_cast<tfl::TensorType>(a.output_type)).Union();
      break;
    case Opt::ArgMinOptions:
      t = tfl::CreateArgMinOptions(fbb, static_cast<tfl::TensorType>(a.output_type)).Union();
      break;
    case Opt::TileOptions: t = tfl::CreateTileOptions(fbb).Union(); break;
    case Opt::UnpackOptions: t = tfl::CreateUnpackOptions(fbb, a.values_count, a.axis).Union(); break;
    case Opt::SquaredDifferenceOptions: t = tfl::CreateSquaredDifferenceOptions(fbb).Union(); break;
    case Opt::MirrorPadOptions:
      t = tfl::CreateMirrorPadOptions(fbb, a.mirror_symmetric ? tfl::MirrorPadMode::SYMMETRIC
                                                              : tfl::MirrorPadMode::REFLECT)
              .Union();
      break;
    case Opt::BatchMatMulOptions:
      t = tfl::CreateBatchMatMulOptions(fbb, a.adj_x, a.adj_y, a.asymmetric_quantize_inputs).Union();
      break;
  }
  return {type, t};
}

}  // namespace qdet::tflite
