// The op cases (op_cases.h): what qdet claims to run exactly as TFLite does.
#include "runtime/op_cases.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <tuple>

#include "runtime/interpreter.h"
#include "runtime/quantization_util.h"

namespace qdet::rt {
namespace {

using graph::OpAttrs;
using graph::OpKind;

// Quantization of data tensors per dtype: inputs and outputs deliberately differ, so each row
// requantizes (zero points away from 0 for the asymmetric dtypes; int16 is symmetric).
struct DTypeCase {
  const char* suffix;
  DType dtype;
  Quant in_q, out_q;
};
const DTypeCase kFloat{"f32", DType::kFloat32, {}, {}};
const DTypeCase kInt8{"i8", DType::kInt8, {0.05f, -3}, {0.04f, 5}};
const DTypeCase kUInt8{"u8", DType::kUInt8, {0.05f, 128}, {0.03f, 100}};
const DTypeCase kInt16{"i16", DType::kInt16, {0.0011f, 0}, {0.0008f, 0}};

struct Table {
  std::vector<OpCase> rows;

  OpCase& add(const std::string& name, OpKind op, const DTypeCase& d, std::vector<Shape> inputs,
           OpAttrs attrs = {}) {
    OpCase r;
    r.name = name + "_" + d.suffix;
    r.op = op;
    r.dtype = d.dtype;
    r.inputs = std::move(inputs);
    r.in_q = d.in_q;
    r.out_q = d.out_q;
    r.attrs = std::move(attrs);
    rows.push_back(std::move(r));
    return rows.back();
  }
};

OpAttrs leaky(float alpha) {
  OpAttrs a;
  a.alpha = alpha;
  return a;
}
OpAttrs with_activation(graph::Activation act) {
  OpAttrs a;
  a.activation = act;
  return a;
}
OpAttrs pool(int32_t filter, int32_t stride, graph::Padding padding) {
  OpAttrs a;
  a.filter_h = a.filter_w = filter;
  a.stride_h = a.stride_w = stride;
  a.padding = padding;
  return a;
}
OpAttrs conv(int32_t stride, graph::Padding padding, graph::Activation act, int32_t dilation = 1) {
  OpAttrs a;
  a.stride_h = a.stride_w = stride;
  a.dilation_h = a.dilation_w = dilation;
  a.padding = padding;
  a.activation = act;
  return a;
}
OpAttrs resize(bool align_corners, bool half_pixel_centers) {
  OpAttrs a;
  a.align_corners = align_corners;
  a.half_pixel_centers = half_pixel_centers;
  return a;
}
OpAttrs axis(int32_t value) {
  OpAttrs a;
  a.axis = value;
  return a;
}
OpAttrs softmax(float beta) {
  OpAttrs a;
  a.beta = beta;
  return a;
}

// MEAN (TFLite's three integer paths: over H and W with keep_dims, the same parameters in and
// out, and rescaling), SUM (rescaling) and REDUCE_MAX (the same parameters).
void add_reductions(Table& t, const Shape& nhwc) {
  OpAttrs keep;
  keep.keep_dims = true;
  for (const DTypeCase& d : {kFloat, kInt8, kUInt8, kInt16}) {
    t.add("MEAN_hw_keep_dims", OpKind::kMean, d, {nhwc}, keep).params = {{{2}, {1, 2}}};
    t.add("MEAN_hw_keep_dims_wide", OpKind::kMean, d, {{2, 4, 5, 40}}, keep).params = {{{2}, {2, 1}}};
    t.add("MEAN_axis3", OpKind::kMean, d, {nhwc}).params = {{{1}, {3}}};
    t.add("MEAN_axes_neg_dup", OpKind::kMean, d, {nhwc}, keep).params = {{{3}, {-1, 1, 3}}};
    DTypeCase same = d;
    same.out_q = same.in_q;
    t.add("MEAN_axis1_same_params", OpKind::kMean, same, {nhwc}).params = {{{1}, {1}}};
    t.add("REDUCE_MAX_hw_keep_dims", OpKind::kReduceMax, same, {nhwc}, keep).params = {{{2}, {1, 2}}};
    t.add("REDUCE_MAX_axis_neg1", OpKind::kReduceMax, same, {nhwc}).params = {{{1}, {-1}}};
  }
  for (const DTypeCase& d : {kFloat, kInt8, kUInt8}) {
    DTypeCase wide = d;  // the sum of 7 values stays inside the output's range
    if (d.dtype != DType::kFloat32) wide.out_q.scale = 0.4f;
    t.add("SUM_axis2", OpKind::kSum, wide, {nhwc}).params = {{{1}, {2}}};
    t.add("SUM_axis2_keep_dims", OpKind::kSum, wide, {nhwc}, keep).params = {{{1}, {2}}};
  }
  // The same parameters in and out: TFLite sums the raw values in the narrow type (wrapping).
  for (const DTypeCase& d : {kInt8, kUInt8, kInt16}) {
    DTypeCase same = d;
    same.out_q = same.in_q;
    t.add("SUM_axis2_same_params", OpKind::kSum, same, {nhwc}).params = {{{1}, {2}}};
  }
}

// MAXIMUM, MINIMUM: raw values compared; the quantizer gives inputs and output one scale.
void add_elementwise_max_min(Table& t, const Shape& nhwc) {
  for (const DTypeCase& d : {kFloat, kInt8, kUInt8, kInt16}) {
    DTypeCase same = d;
    same.out_q = same.in_q;
    for (auto [name, op] : {std::pair{"MAXIMUM", OpKind::kMaximum}, std::pair{"MINIMUM", OpKind::kMinimum}}) {
      t.add(std::string(name) + "_same_shape", op, same, {nhwc, nhwc});
      t.add(std::string(name) + "_broadcast", op, same, {nhwc, {1, 1, 7, 6}});
      t.add(std::string(name) + "_scalar", op, same, {nhwc, {}});
    }
  }
}

// Ops added for detectors' backbones and heads: PRELU, SQUARED_DIFFERENCE, SQRT, RSQRT, ELU,
// ARG_MAX, ARG_MIN, CAST.
void add_math_ops(Table& t, const Shape& nhwc) {
  for (const DTypeCase& d : {kFloat, kInt8, kUInt8}) {
    const bool is_float = d.dtype == DType::kFloat32;
    const std::vector<float> alpha_scale = is_float ? std::vector<float>{} : std::vector<float>{0.02f};
    t.add("PRELU_channel", OpKind::kPrelu, d, {nhwc}).consts = {{d.dtype, {6}, alpha_scale, 0}};
    t.add("PRELU_hw", OpKind::kPrelu, d, {nhwc}).consts = {{d.dtype, {1, 7, 6}, alpha_scale, 0}};
    for (auto [name, op] : {std::pair{"ARG_MAX", OpKind::kArgMax}, std::pair{"ARG_MIN", OpKind::kArgMin}}) {
      for (auto [axis_name, axis_value] : {std::pair{"_axis3", 3}, std::pair{"_axis_neg3", -3}}) {
        OpCase& r = t.add(std::string(name) + axis_name, op, d, {nhwc});
        r.params = {{{1}, {axis_value}}};
        r.attrs.output_type = 2;  // TFLite TensorType INT32 (the WebAssembly peer drops int64 data)
        r.out_dtype = DType::kInt32;
        r.out_q = {};
      }
    }
  }
  t.add("SQUARED_DIFFERENCE_same_shape", OpKind::kSquaredDifference, kFloat, {nhwc, nhwc});
  t.add("SQUARED_DIFFERENCE_broadcast", OpKind::kSquaredDifference, kFloat, {nhwc, {1, 1, 7, 6}});
  {
    DTypeCase sq = kInt8;  // squares of differences up to 12.75: an output range of [0, 163]
    sq.out_q = {0.64f, -128};
    t.add("SQUARED_DIFFERENCE_same_shape", OpKind::kSquaredDifference, sq, {nhwc, nhwc});
    t.add("SQUARED_DIFFERENCE_broadcast", OpKind::kSquaredDifference, sq, {nhwc, {1, 1, 7, 6}});
  }
  t.add("SQRT", OpKind::kSqrt, kFloat, {nhwc}).positive_inputs = true;
  t.add("RSQRT", OpKind::kRsqrt, kFloat, {nhwc}).positive_inputs = true;
  {
    // int8 RSQRT takes values >= 0 only (TFLite fails on a value below the zero point): the
    // zero point at the bottom of the range. Outputs saturating (small inputs) and not.
    DTypeCase r = kInt8;
    r.in_q = {0.05f, -128};
    r.out_q = {0.02f, -128};
    t.add("RSQRT_saturating", OpKind::kRsqrt, r, {nhwc});
    r.in_q = {0.3f, -128};
    r.out_q = {0.008f, -128};
    t.add("RSQRT", OpKind::kRsqrt, r, {nhwc});
    r.in_q = {0.02f, 0};  // mid-range zero point: values >= 0 only (no 256-entry table either)
    r.out_q = {0.05f, -100};
    t.add("RSQRT_mid_zero_point", OpKind::kRsqrt, r, {nhwc}).positive_inputs = true;
  }
  t.add("ELU", OpKind::kElu, kFloat, {nhwc});
  t.add("ELU", OpKind::kElu, kInt8, {nhwc});
  // CAST: raw values converted (quantization ignored, as TFLite).
  const DTypeCase kInt32Raw{"i32", DType::kInt32, {}, {}};
  const DTypeCase kInt8Raw{"i8", DType::kInt8, {}, {}};
  const DTypeCase kUInt8Raw{"u8", DType::kUInt8, {}, {}};
  for (auto [d, out] : {std::pair{kFloat, DType::kInt32}, std::pair{kInt32Raw, DType::kFloat32},
                        std::pair{kInt8Raw, DType::kFloat32}, std::pair{kUInt8Raw, DType::kFloat32},
                        std::pair{kInt8Raw, DType::kInt32}, std::pair{kInt32Raw, DType::kInt8}}) {
    t.add(std::string("CAST_to_") + dtype_name(out), OpKind::kCast, d, {nhwc}).out_dtype = out;
  }
  const DTypeCase kInt16Raw{"i16", DType::kInt16, {}, {}};
  for (DType out : {DType::kFloat32, DType::kInt32})
    t.add(std::string("CAST_to_") + dtype_name(out), OpKind::kCast, kInt16Raw, {nhwc}).out_dtype = out;
  t.add("CAST_to_int16", OpKind::kCast, kFloat, {nhwc}).out_dtype = DType::kInt16;
}

// Data movement added with them: DEPTH_TO_SPACE, SPACE_TO_DEPTH, TILE, PACK, UNPACK, MIRROR_PAD.
void add_layout_ops(Table& t, const Shape& nhwc) {
  for (const DTypeCase& d : {kFloat, kInt8, kUInt8, kInt16}) {
    DTypeCase same = d;
    same.out_q = same.in_q;
    if (d.dtype != DType::kInt16) {  // TFLite's DEPTH_TO_SPACE / SPACE_TO_DEPTH have no int16
      OpAttrs block;
      block.block_size = 2;
      t.add("DEPTH_TO_SPACE_b2", OpKind::kDepthToSpace, same, {{1, 3, 4, 12}}, block);
      t.add("SPACE_TO_DEPTH_b2", OpKind::kSpaceToDepth, same, {{1, 6, 4, 3}}, block);
    }
    if (d.dtype != DType::kInt16)  // TFLite's TILE and MIRROR_PAD have no int16
      t.add("TILE", OpKind::kTile, same, {nhwc}).params = {{{4}, {1, 2, 1, 3}}};
    for (auto [name, axis_value] : {std::pair{"PACK_axis1", 1}, std::pair{"PACK_axis_neg1", -1}}) {
      OpCase& pack = t.add(name, OpKind::kPack, same, {{5, 6}, {5, 6}, {5, 6}}, axis(axis_value));
      pack.attrs.values_count = 3;
    }
    for (auto [name, axis_value, count] : {std::tuple{"UNPACK_axis0", 0, 3}, std::tuple{"UNPACK_axis_neg1", -1, 6}}) {
      OpCase& unpack = t.add(name, OpKind::kUnpack, same, {{3, 5, 6}}, axis(axis_value));
      unpack.attrs.values_count = count;
    }
    for (bool symmetric : {false, true}) {
      if (d.dtype == DType::kInt16) break;
      OpCase& pad = t.add(symmetric ? "MIRROR_PAD_symmetric" : "MIRROR_PAD_reflect", OpKind::kMirrorPad, same, {nhwc});
      pad.attrs.mirror_symmetric = symmetric;
      pad.params = {{{4, 2}, {0, 0, 1, 2, 2, symmetric ? 7 : 6, 0, 0}}};
    }
  }
}

// DIV: float32 and uint8 (TFLite has no int8 or int16 DIV). The uint8 inputs hold divisors
// equal to the zero point (a division by zero, which TFLite runs without a check).
void add_div(Table& t, const Shape& nhwc) {
  t.add("DIV_broadcast", OpKind::kDiv, kFloat, {nhwc, {1, 1, 7, 6}});
  t.add("DIV_same_shape", OpKind::kDiv, kUInt8, {nhwc, nhwc});
  t.add("DIV_broadcast", OpKind::kDiv, kUInt8, {nhwc, {1, 1, 7, 6}});
  t.add("DIV_relu6", OpKind::kDiv, kUInt8, {nhwc, {6}}, with_activation(graph::Activation::kRelu6));
  DTypeCase ends = kUInt8;  // zero points at the ends of the range: positive inputs, negative outputs
  ends.in_q = {0.02f, 0};
  ends.out_q = {0.5f, 255};
  t.add("DIV_zero_points_at_ends", OpKind::kDiv, ends, {nhwc, {1, 5, 1, 6}});
  // Every pair of values, for output scales that reach the last rounding's edge cases.
  for (auto [name, out_scale] : {std::pair{"DIV_every_pair", 0.03f}, std::pair{"DIV_every_pair_coarse", 0.002f},
                                 std::pair{"DIV_every_pair_fine", 2.0f}}) {
    DTypeCase d = kUInt8;
    d.out_q.scale = out_scale;
    t.add(name, OpKind::kDiv, d, {{256, 1}, {1, 256}}).every_value = true;
  }
}

// The weights and bias of the convolution rows: int8 per-channel weights (one scale per output
// channel), uint8 per tensor, 16x8 with an int64 bias; float without quantization.
struct ConvConsts {
  DType w_dtype, b_dtype;
  std::vector<float> w_scales, b_scales;  // empty for float
};

ConvConsts conv_consts(const DTypeCase& d, int32_t out_c) {
  const bool is_float = d.dtype == DType::kFloat32;
  ConvConsts c;
  c.w_dtype = is_float ? DType::kFloat32 : d.dtype == DType::kUInt8 ? DType::kUInt8 : DType::kInt8;
  c.b_dtype = is_float ? DType::kFloat32 : d.dtype == DType::kInt16 ? DType::kInt64 : DType::kInt32;
  if (is_float) return c;
  for (int32_t ch = 0; ch < out_c; ++ch) c.w_scales.push_back(0.004f + 0.001f * ch);
  if (d.dtype == DType::kUInt8) c.w_scales = {0.005f};
  for (float w : c.w_scales) c.b_scales.push_back(d.in_q.scale * w);
  return c;
}

// TRANSPOSE_CONV: inputs output shape, weights [out_c, kh, kw, in_c], input, bias; weights as
// for CONV_2D (int8 per channel, uint8 per tensor, 16x8 with an int64 bias).
void add_transpose_conv(Table& t) {
  for (const DTypeCase& d : {kFloat, kInt8, kUInt8, kInt16}) {
    const int32_t out_c = 5, in_c = 6;
    const ConvConsts w = conv_consts(d, out_c);
    for (auto [name, stride, padding, out_hw] :
         {std::tuple{"s2_same", 2, graph::Padding::kSame, std::pair{8, 10}},
          std::tuple{"s2_valid", 2, graph::Padding::kValid, std::pair{9, 11}},
          std::tuple{"s1_same", 1, graph::Padding::kSame, std::pair{4, 5}}}) {
      OpCase& c = t.add(std::string("TRANSPOSE_CONV_") + name, OpKind::kTransposeConv, d, {{1, 4, 5, in_c}},
                        conv(stride, padding, graph::Activation::kNone));
      c.params = {{{4}, {1, out_hw.first, out_hw.second, out_c}}};
      c.params_first = true;
      c.consts = {{w.w_dtype, {out_c, 3, 3, in_c}, w.w_scales, 0}, {w.b_dtype, {out_c}, w.b_scales, 0}};
      c.consts_before_data = 1;
    }
  }
}

// BATCH_MATMUL: both operands are data inputs; output scales wide enough for sums of 5 products.
void add_batch_matmul(Table& t) {
  for (DTypeCase d : {kFloat, kInt8, kInt16}) {
    if (d.dtype == DType::kInt8) d.out_q = {1.0f, 3};
    if (d.dtype == DType::kInt16) d.out_q = {0.25f, 0};
    t.add("BATCH_MATMUL", OpKind::kBatchMatmul, d, {{2, 3, 4, 5}, {2, 3, 5, 6}});
    OpCase& adj_y = t.add("BATCH_MATMUL_broadcast_adj_y", OpKind::kBatchMatmul, d, {{2, 3, 4, 5}, {1, 6, 5}});
    adj_y.attrs.adj_y = true;
    OpCase& adj_x = t.add("BATCH_MATMUL_adj_x", OpKind::kBatchMatmul, d, {{3, 5, 4}, {3, 5, 6}});
    adj_x.attrs.adj_x = true;
  }
}

// The RELU family: requantize + clamp.
void add_relu_family(Table& t, const Shape& nhwc) {
  for (const DTypeCase& d : {kFloat, kInt8, kUInt8, kInt16}) {
    t.add("RELU", OpKind::kRelu, d, {nhwc});
    t.add("RELU6", OpKind::kRelu6, d, {nhwc});
    t.add("LEAKY_RELU_a01", OpKind::kLeakyRelu, d, {nhwc}, leaky(0.1f));
    t.add("LEAKY_RELU_a2", OpKind::kLeakyRelu, d, {{3, 40}}, leaky(2.0f));
  }
  for (OpCase& r : t.rows)
    if (r.op == OpKind::kLeakyRelu && r.dtype == DType::kInt8) {
      r.tolerance = 1;
      r.why = "TFLite's reference LEAKY_RELU (31-bit multipliers, double rounding) vs its XNNPACK "
              "delegate (8-bit multipliers): qdet's reference family is the former, xnnpack-compat "
              "the latter";
    }
  for (const DTypeCase& d : {kFloat, kInt8, kUInt8}) t.add("RELU_N1_TO_1", OpKind::kReluN1To1, d, {nhwc});
  // The same scale on both sides (what the quantizer writes after a fused clamp).
  {
    DTypeCase same = kInt8;
    same.out_q = same.in_q;
    t.add("RELU_same_scale", OpKind::kRelu, same, {nhwc});
  }
}

// ADD, SUB, MUL with broadcasting and fused activations.
void add_elementwise_arithmetic(Table& t, const Shape& nhwc) {
  for (const DTypeCase& d : {kFloat, kInt8, kUInt8, kInt16}) {
    for (auto [name, op] : {std::pair{"ADD", OpKind::kAdd}, std::pair{"SUB", OpKind::kSub},
                            std::pair{"MUL", OpKind::kMul}}) {
      t.add(std::string(name) + "_same_shape", op, d, {nhwc, nhwc});
      t.add(std::string(name) + "_broadcast", op, d, {nhwc, {1, 1, 7, 6}});
      t.add(std::string(name) + "_relu6", op, d, {nhwc, {6}}, with_activation(graph::Activation::kRelu6));
    }
  }
  // What qdet's quantizer writes for int16 ADD / SUB (TFLite's general 16-bit path).
  for (OpCase& r : t.rows)
    if ((r.op == OpKind::kAdd || r.op == OpKind::kSub) && r.dtype == DType::kInt16)
      r.attrs.pot_scale_int16 = false;
}

// LOGISTIC / TANH: fixed output parameters.
void add_logistic_tanh(Table& t, const Shape& nhwc) {
  t.add("LOGISTIC", OpKind::kLogistic, kFloat, {nhwc});
  t.add("TANH", OpKind::kTanh, kFloat, {nhwc});
  DTypeCase i8 = kInt8, u8 = kUInt8, i16 = kInt16;
  i8.out_q = {1.0f / 256, -128};
  u8.out_q = {1.0f / 256, 0};
  i16.out_q = {1.0f / 32768, 0};
  t.add("LOGISTIC", OpKind::kLogistic, i8, {nhwc});
  t.add("LOGISTIC", OpKind::kLogistic, u8, {nhwc});
  t.add("LOGISTIC", OpKind::kLogistic, i16, {nhwc});
  i8.out_q = {1.0f / 128, 0};
  u8.out_q = {1.0f / 128, 128};
  t.add("TANH", OpKind::kTanh, i8, {nhwc});
  t.add("TANH", OpKind::kTanh, u8, {nhwc});
  t.add("TANH", OpKind::kTanh, i16, {nhwc});
  i16.in_q = {0.0003f, 0};  // |x| < 10: the interpolated range only
  t.add("TANH_small_scale", OpKind::kTanh, i16, {nhwc});
}

// Pools: one row per dtype, the integer ones with the same parameters in and out.
void add_pool(Table& t, const std::string& name, OpKind op, const OpAttrs& attrs, const Shape& shape) {
  for (const DTypeCase& d : {kFloat, kInt8, kUInt8, kInt16}) {
    DTypeCase same = d;
    same.out_q = same.in_q;
    t.add(name, op, same, {shape}, attrs);
  }
}

void add_pools(Table& t) {
  const Shape shape = {1, 9, 10, 4};
  add_pool(t, "MAX_POOL_2D_3x3_s2_same", OpKind::kMaxPool2d, pool(3, 2, graph::Padding::kSame), shape);
  add_pool(t, "MAX_POOL_2D_2x2_s2_valid", OpKind::kMaxPool2d, pool(2, 2, graph::Padding::kValid), shape);
  add_pool(t, "AVERAGE_POOL_2D_3x3_s1_same", OpKind::kAveragePool2d, pool(3, 1, graph::Padding::kSame), shape);
  add_pool(t, "AVERAGE_POOL_2D_2x2_s2_valid", OpKind::kAveragePool2d, pool(2, 2, graph::Padding::kValid), shape);
  OpAttrs relu6 = pool(3, 2, graph::Padding::kSame);
  relu6.activation = graph::Activation::kRelu6;
  add_pool(t, "AVERAGE_POOL_2D_3x3_s2_same_relu6", OpKind::kAveragePool2d, relu6, {1, 9, 10, 17});
}

// Data movement: every dtype, the same parameters in and out.
// No row for a uint8 CONCATENATION of differently quantized inputs: qdet requantizes them to
// the output's parameters as TFLite's reference kernel (ConcatenationWithScaling) does, while
// the WebAssembly TFLite returned the inputs' bytes unchanged (up to 68 steps apart). The
// quantizer never writes one (it gives a concatenation's inputs the output's parameters).
void add_data_movement(Table& t, const Shape& nhwc) {
  for (const DTypeCase& d : {kFloat, kInt8, kUInt8, kInt16}) {
    DTypeCase same = d;
    same.out_q = same.in_q;
    t.add("RESHAPE", OpKind::kReshape, same, {nhwc}).params = {{{2}, {35, 6}}};
    t.add("PAD", OpKind::kPad, same, {nhwc}).params = {{{4, 2}, {0, 0, 1, 2, 2, 1, 0, 0}}};
    t.add("TRANSPOSE", OpKind::kTranspose, same, {nhwc}).params = {{{4}, {0, 3, 1, 2}}};
    t.add("CONCATENATION_axis3", OpKind::kConcatenation, same, {nhwc, {1, 5, 7, 2}}, axis(3));
    t.add("RESIZE_NEAREST_NEIGHBOR", OpKind::kResizeNearestNeighbor, same, {nhwc}).params = {{{2}, {10, 14}}};
    t.add("RESIZE_NEAREST_NEIGHBOR_half_pixel", OpKind::kResizeNearestNeighbor, same, {nhwc},
          resize(false, true)).params = {{{2}, {11, 9}}};
    t.add("RESIZE_NEAREST_NEIGHBOR_align_corners", OpKind::kResizeNearestNeighbor, same, {nhwc},
          resize(true, false)).params = {{{2}, {11, 9}}};
    t.add("SLICE", OpKind::kSlice, same, {nhwc}).params = {{{4}, {0, 1, 2, 0}}, {{4}, {1, 3, -1, 4}}};
    OpCase& split = t.add("SPLIT_3", OpKind::kSplit, same, {nhwc});
    split.params = {{{}, {3}}};
    split.params_first = true;
    split.attrs.num_splits = 3;
    OpCase& split_v = t.add("SPLIT_V_123", OpKind::kSplitV, same, {nhwc});
    split_v.params = {{{3}, {1, 2, 3}}, {{}, {3}}};
    split_v.attrs.num_splits = 3;
    t.add("STRIDED_SLICE_strides", OpKind::kStridedSlice, same, {nhwc}).params = {
        {{4}, {0, 1, 0, 1}}, {{4}, {1, 5, 7, 6}}, {{4}, {1, 2, 3, 2}}};
    OpAttrs squeeze;
    squeeze.squeeze_dims = {2};
    t.add("SQUEEZE", OpKind::kSqueeze, same, {{1, 5, 1, 6}}, squeeze);
    t.add("EXPAND_DIMS", OpKind::kExpandDims, same, {nhwc}).params = {{{}, {1}}};
    t.add("GATHER_axis1", OpKind::kGather, same, {nhwc}, axis(1)).params = {{{3}, {2, 0, 4}}};
    OpCase& broadcast = t.add("BROADCAST_TO", OpKind::kBroadcastTo, same, {{1, 5, 1, 6}});
    broadcast.params = {{{4}, {2, 5, 7, 6}}};
    broadcast.peer_lacks_op = true;
    OpCase& padv2 = t.add("PADV2", OpKind::kPadV2, same, {nhwc});
    padv2.params = {{{4, 2}, {0, 0, 1, 2, 2, 1, 0, 0}}};
    padv2.consts = {{d.dtype, {}, {}, 0, /*like_input=*/true}};
    padv2.consts_last = true;
  }
}

// RESIZE_BILINEAR: values move without requantization (the same parameters in and out).
void add_resize_bilinear(Table& t, const Shape& nhwc) {
  for (const DTypeCase& d : {kFloat, kInt8, kUInt8, kInt16}) {
    DTypeCase same = d;
    same.out_q = same.in_q;
    t.add("RESIZE_BILINEAR", OpKind::kResizeBilinear, same, {nhwc}).params = {{{2}, {10, 14}}};
    t.add("RESIZE_BILINEAR_half_pixel", OpKind::kResizeBilinear, same, {nhwc},
          resize(false, true)).params = {{{2}, {11, 9}}};
    t.add("RESIZE_BILINEAR_align_corners", OpKind::kResizeBilinear, same, {nhwc},
          resize(true, false)).params = {{{2}, {11, 9}}};
    t.add("RESIZE_BILINEAR_down", OpKind::kResizeBilinear, same, {nhwc}).params = {{{2}, {3, 4}}};
  }
  // Inputs on which TFLite's two int8 kernels differ by two steps (element 517: 48 and 50),
  // found with QDET_CONFORMANCE_SEED=7777.
  DTypeCase same = kInt8;
  same.out_q = same.in_q;
  OpCase& two_steps = t.add("RESIZE_BILINEAR_half_pixel_two_steps", OpKind::kResizeBilinear, same, {nhwc},
                            resize(false, true));
  two_steps.params = {{{2}, {11, 9}}};
  two_steps.seed = 10395;
}

// The most TFLite's own int8 RESIZE_BILINEAR (reference_ops::ResizeBilinearInteger, which its
// optimized build also calls for int8) and its XNNPACK delegate can differ by on a row's
// geometry. The former places sources in 10-bit fixed point from a rounded scale (the error
// grows with the output coordinate) and rounds half away from zero; the delegate takes float
// sources, 11-bit weights, and rounds half up. Per output pixel, the two sets of four weights
// differ; the most that moves the value is 255 x the weight one set gives to pixels more than
// the other, and the two roundings add one step.
int resize_bilinear_int8_steps(const OpCase& r) {
  struct Tap {
    int32_t lo, hi;
    double frac;
  };
  const bool align = r.attrs.align_corners, half = r.attrs.half_pixel_centers;
  const auto fixed_tap = [&](int32_t x, int32_t in, int32_t out) {
    const int32_t scale = align && out > 1 ? ((1 << 10) * (in - 1) + (out - 1) / 2) / (out - 1)
                                           : ((1 << 10) * in + out / 2) / out;
    const int32_t src = half ? x * scale + scale / 2 - (1 << 9) : x * scale;
    const int32_t lo = std::max(src / (1 << 10), 0);
    return Tap{lo, std::min((src + (1 << 10) - 1) / (1 << 10), in - 1), (src - (1 << 10) * lo) / 1024.0};
  };
  const auto float_tap = [&](int32_t x, int32_t in, int32_t out) {
    const double scale = align && out > 1 ? double(in - 1) / (out - 1) : double(in) / out;
    const double src = half ? std::max((x + 0.5) * scale - 0.5, 0.0) : x * scale;
    const auto lo = static_cast<int32_t>(std::floor(src));
    return Tap{lo, std::min(lo + 1, in - 1), std::nearbyint((src - lo) * 2048) / 2048};
  };
  const auto weights = [](Tap y, Tap x) {
    std::vector<std::pair<std::pair<int32_t, int32_t>, double>> w;
    for (auto [py, wy] : {std::pair{y.lo, 1 - y.frac}, std::pair{y.hi, y.frac}})
      for (auto [px, wx] : {std::pair{x.lo, 1 - x.frac}, std::pair{x.hi, x.frac}}) w.push_back({{py, px}, wy * wx});
    return w;
  };
  const int32_t in_h = static_cast<int32_t>(r.inputs[0][1]), in_w = static_cast<int32_t>(r.inputs[0][2]);
  const int32_t out_h = r.params[0].values[0], out_w = r.params[0].values[1];
  double most = 0;
  for (int32_t y = 0; y < out_h; ++y)
    for (int32_t x = 0; x < out_w; ++x) {
      std::map<std::pair<int32_t, int32_t>, double> moved;
      for (auto [pixel, w] : weights(fixed_tap(y, in_h, out_h), fixed_tap(x, in_w, out_w))) moved[pixel] += w;
      for (auto [pixel, w] : weights(float_tap(y, in_h, out_h), float_tap(x, in_w, out_w))) moved[pixel] -= w;
      double more = 0;
      for (const auto& [pixel, w] : moved) more += std::max(w, 0.0);
      most = std::max(most, 255 * more);
    }
  return static_cast<int>(std::floor(most)) + 1;
}

// HARD_SWISH: int8/uint8 over the saturating and the right-shifting branches.
void add_hard_swish(Table& t, const Shape& nhwc) {
  t.add("HARD_SWISH", OpKind::kHardSwish, kFloat, {nhwc});
  for (const DTypeCase& d : {kInt8, kUInt8}) {
    t.add("HARD_SWISH", OpKind::kHardSwish, d, {nhwc});
    DTypeCase wide = d;  // inputs far beyond +-3: the saturating branches
    wide.in_q.scale = 0.2f;
    wide.out_q.scale = 0.1f;
    t.add("HARD_SWISH_wide", OpKind::kHardSwish, wide, {nhwc});
    DTypeCase narrow = d;  // |x| < 3 only: the right-shifting branch
    narrow.in_q.scale = 0.01f;
    narrow.out_q.scale = 0.008f;
    t.add("HARD_SWISH_narrow", OpKind::kHardSwish, narrow, {nhwc});
  }
}

// Convolutions: int8 per-channel weights, uint8 per-tensor, 16x8, float.
void add_convolutions(Table& t) {
  for (const DTypeCase& d : {kFloat, kInt8, kUInt8, kInt16}) {
    const bool is_float = d.dtype == DType::kFloat32;
    const int32_t out_c = 5, in_c = 6;
    const ConvConsts w = conv_consts(d, out_c);
    for (auto [name, attrs] : {std::pair{"s1_same", conv(1, graph::Padding::kSame, graph::Activation::kNone)},
                               std::pair{"s2_valid_relu", conv(2, graph::Padding::kValid, graph::Activation::kRelu)},
                               std::pair{"dilation2_same_relu6", conv(1, graph::Padding::kSame, graph::Activation::kRelu6, 2)}}) {
      OpCase& c = t.add(std::string("CONV_2D_") + name, OpKind::kConv2d, d, {{1, 9, 8, in_c}}, attrs);
      c.consts = {{w.w_dtype, {out_c, 3, 3, in_c}, w.w_scales, 0}, {w.b_dtype, {out_c}, w.b_scales, 0}};
      OpCase& dw = t.add(std::string("DEPTHWISE_CONV_2D_") + name, OpKind::kDepthwiseConv2d, d,
                      {{1, 9, 8, out_c}}, attrs);
      dw.attrs.depth_multiplier = 1;
      dw.consts = {{w.w_dtype, {1, 3, 3, out_c}, w.w_scales, 3}, {w.b_dtype, {out_c}, w.b_scales, 0}};
    }
    if (is_float) {
      // Detector-sized channel counts: 16 in, 20 out over rows of 33 pixels (qdet's SIMD float
      // convolutions with XNNPACK's bits take these; the 5/6-channel rows above are left to
      // XNNPACK and oneDNN).
      for (auto [name, attrs] : {std::pair{"c16_s1_same", conv(1, graph::Padding::kSame, graph::Activation::kNone)},
                                 std::pair{"c16_s2_same_relu", conv(2, graph::Padding::kSame, graph::Activation::kRelu)}}) {
        OpCase& c = t.add(std::string("CONV_2D_") + name, OpKind::kConv2d, d, {{1, 7, 33, 16}}, attrs);
        c.consts = {{w.w_dtype, {20, 3, 3, 16}, {}, 0}, {w.b_dtype, {20}, {}, 0}};
        OpCase& dw = t.add(std::string("DEPTHWISE_CONV_2D_") + name, OpKind::kDepthwiseConv2d, d, {{1, 7, 33, 16}}, attrs);
        dw.attrs.depth_multiplier = 1;
        dw.consts = {{w.w_dtype, {1, 3, 3, 16}, {}, 3}, {w.b_dtype, {16}, {}, 0}};
      }
      OpCase& pw16 = t.add("CONV_2D_1x1_c16", OpKind::kConv2d, d, {{1, 9, 8, 16}},
                           conv(1, graph::Padding::kSame, graph::Activation::kNone));
      pw16.consts = {{w.w_dtype, {40, 1, 1, 16}, {}, 0}, {w.b_dtype, {40}, {}, 0}};
    }
    // A pointwise convolution over 8 channels (qdet's AMX kernel takes the int8 / uint8 ones).
    OpCase& pw = t.add("CONV_2D_1x1", OpKind::kConv2d, d, {{1, 9, 8, 8}},
                       conv(1, graph::Padding::kSame, graph::Activation::kRelu6));
    pw.consts = {{w.w_dtype, {out_c, 1, 1, 8}, w.w_scales, 0}, {w.b_dtype, {out_c}, w.b_scales, 0}};
    std::vector<float> fc_w = {0.006f}, fc_b = {d.in_q.scale * 0.006f};
    OpCase& fc = t.add("FULLY_CONNECTED", OpKind::kFullyConnected, d, {{2, in_c * 4}});
    fc.consts = {{w.w_dtype, {out_c, in_c * 4}, is_float ? std::vector<float>{} : fc_w, 0},
                 {w.b_dtype, {out_c}, is_float ? std::vector<float>{} : fc_b, 0}};
  }
}

// SOFTMAX: fixed output parameters.
void add_softmax(Table& t) {
  DTypeCase i16 = kInt16;
  i16.out_q = {1.0f / 32768, 0};
  t.add("SOFTMAX_b1", OpKind::kSoftmax, i16, {{2, 3, 17}}, softmax(1.0f));
  t.add("SOFTMAX_b05_wide", OpKind::kSoftmax, i16, {{1, 300}}, softmax(0.5f));
  i16.in_q = {0.0002f, 0};
  t.add("SOFTMAX_small_scale", OpKind::kSoftmax, i16, {{4, 80}}, softmax(1.0f));
  DTypeCase i8 = kInt8;
  i8.out_q = {1.0f / 256, -128};
  t.add("SOFTMAX", OpKind::kSoftmax, i8, {{2, 3, 17}}, softmax(1.0f));
  DTypeCase u8 = kUInt8;
  u8.out_q = {1.0f / 256, 0};
  t.add("SOFTMAX", OpKind::kSoftmax, u8, {{2, 3, 17}}, softmax(1.0f));
  t.add("SOFTMAX", OpKind::kSoftmax, kFloat, {{2, 3, 17}}, softmax(1.0f));
}

// QUANTIZE (float to each integer dtype, and requantizing between integer ones) and DEQUANTIZE:
// what every quantized model starts and ends with. Float inputs hold values beyond the
// output's range (saturating) and 0 / -0.
void add_quantize_dequantize(Table& t, const Shape& nhwc) {
  for (const DTypeCase& out : {kInt8, kUInt8, kInt16}) {
    OpCase& q = t.add(std::string("QUANTIZE_to_") + dtype_name(out.dtype), OpKind::kQuantize, kFloat, {nhwc});
    q.out_dtype = out.dtype;
    q.out_q = out.out_q;
  }
  for (auto [from, to] : {std::pair{kInt8, kInt8}, std::pair{kInt8, kUInt8}, std::pair{kUInt8, kInt8},
                          std::pair{kUInt8, kUInt8}, std::pair{kInt16, kInt16}, std::pair{kInt16, kInt8}}) {
    OpCase& q = t.add(std::string("QUANTIZE_requantize_to_") + dtype_name(to.dtype), OpKind::kQuantize, from, {nhwc});
    q.out_dtype = to.dtype;
    q.out_q = to.out_q;
  }
  // What `qdet quantize --io uint8` writes at the inputs and outputs: the same scale, the zero
  // point moved by 128.
  DTypeCase flip_in = kUInt8, flip_out = kInt8;
  flip_in.out_q = {flip_in.in_q.scale, flip_in.in_q.zero_point - 128};
  flip_out.out_q = {flip_out.in_q.scale, flip_out.in_q.zero_point + 128};
  t.add("QUANTIZE_zero_point_shift_to_int8", OpKind::kQuantize, flip_in, {nhwc}).out_dtype = DType::kInt8;
  t.add("QUANTIZE_zero_point_shift_to_uint8", OpKind::kQuantize, flip_out, {nhwc}).out_dtype = DType::kUInt8;
  for (const DTypeCase& in : {kInt8, kUInt8, kInt16}) {
    OpCase& d = t.add("DEQUANTIZE", OpKind::kDequantize, in, {nhwc});
    d.out_dtype = DType::kFloat32;
    d.out_q = {};
  }
  // No float16 row: the WebAssembly TFLite cannot fill a float16 graph input, and its XNNPACK
  // delegate fails to set up a graph that only dequantizes a constant (the float16 models of
  // `qdet quantize --mode fp16` are compared with it whole, tests/quant/quantize_cli_test.cpp).
}

// One step of tolerance where TFLite's two kernels (qdet's reference and xnnpack families) differ.
void allow_delegate_differences(Table& t) {
  // TFLite's XNNPACK delegate (what the official TFLite runs) requantizes int8 ADD, SUB, MUL and
  // convolutions in fp32 with one rounding; its reference kernels (and qdet's reference family)
  // in double-rounding fixed point: one step apart on some elements. qdet's xnnpack family
  // reproduces the delegate.
  for (OpCase& r : t.rows) {
    const bool delegated = r.op == OpKind::kAdd || r.op == OpKind::kSub || r.op == OpKind::kMul ||
                           r.op == OpKind::kConv2d || r.op == OpKind::kDepthwiseConv2d ||
                           r.op == OpKind::kFullyConnected;
    if (delegated && (r.dtype == DType::kInt8 || r.dtype == DType::kUInt8) && r.tolerance == 0) {
      r.tolerance = 1;
      r.why = "TFLite's reference kernel (double-rounding fixed point, qdet's reference family) vs "
              "its XNNPACK delegate (fp32 requantization, qdet's xnnpack family)";
    }
  }
  // The delegate also takes int8/uint8 RESIZE_BILINEAR, int8 ELU and the MEAN over H and W with
  // keep_dims from TFLite's own kernels (fp32 or 11-bit arithmetic instead of their fixed point
  // and float): qdet's xnnpack family runs the same XNNPACK operators.
  for (OpCase& r : t.rows) {
    const bool mean_hw = r.op == OpKind::kMean && r.attrs.keep_dims && r.inputs[0].size() == 4 &&
                         (r.params[0].values == std::vector<int32_t>{1, 2} ||
                          r.params[0].values == std::vector<int32_t>{2, 1});
    const bool eight_bit = r.dtype == DType::kInt8 || r.dtype == DType::kUInt8;
    if (r.op == OpKind::kResizeBilinear && r.dtype == DType::kInt8) {
      r.tolerance = resize_bilinear_int8_steps(r);
      r.why = "TFLite's own kernel (10-bit fixed-point sources, qdet's reference family) vs its XNNPACK "
              "delegate (float sources, 11-bit weights, qdet's xnnpack family): at most " +
              std::to_string(r.tolerance) + (r.tolerance == 1 ? " step" : " steps") + " on this geometry";
    } else if (eight_bit && r.tolerance == 0 && (r.op == OpKind::kResizeBilinear || r.op == OpKind::kElu || mean_hw)) {
      r.tolerance = 1;
      r.why = "TFLite's own kernel (qdet's reference family) vs its XNNPACK delegate (qdet's xnnpack family)";
    }
    // QUANTIZE: the delegate converts float32 to int8/uint8 as x * (1 / scale) rounded half to
    // even, and requantizes between two int8 (two uint8) tensors with an 8-bit multiplier;
    // TFLite's own kernel divides and rounds half away from zero, and requantizes with a 31-bit
    // multiplier and double rounding.
    const bool to_eight_bit = r.out_dtype == DType::kInt8 || r.out_dtype == DType::kUInt8;
    if (r.op == OpKind::kQuantize && to_eight_bit && (r.dtype == DType::kFloat32 || r.dtype == r.out_dtype)) {
      r.tolerance = 1;
      r.why = "TFLite's own QUANTIZE (division rounded half away from zero, or a 31-bit multiplier with "
              "double rounding: qdet's reference family) vs its XNNPACK delegate (x * (1 / scale) rounded "
              "half to even, or an 8-bit multiplier: qdet's xnnpack family)";
    }
    if (r.op == OpKind::kTransposeConv && r.dtype == DType::kUInt8) {
      r.tolerance = 1;
      r.why = "TFLite's own kernel (double rounding, qdet's reference family) vs its XNNPACK delegate "
              "(fp32 requantization, qdet's xnnpack family)";
    }
  }
}

std::vector<OpCase> build() {
  Table t;
  const Shape nhwc{1, 5, 7, 6};
  add_relu_family(t, nhwc);
  add_elementwise_arithmetic(t, nhwc);
  add_logistic_tanh(t, nhwc);
  add_pools(t);
  add_data_movement(t, nhwc);
  add_resize_bilinear(t, nhwc);
  add_reductions(t, nhwc);
  add_elementwise_max_min(t, nhwc);
  add_math_ops(t, nhwc);
  add_layout_ops(t, nhwc);
  add_transpose_conv(t);
  add_batch_matmul(t);
  add_hard_swish(t, nhwc);
  t.add("EXP", OpKind::kExp, kFloat, {{3, 40}});
  add_div(t, nhwc);
  add_convolutions(t);
  add_softmax(t);
  add_quantize_dequantize(t, nhwc);
  allow_delegate_differences(t);
  return std::move(t.rows);
}

}  // namespace

namespace {

QuantParams quant_of(const Quant& q) {
  QuantParams p;
  if (q.scale > 0) {
    p.scale = {q.scale};
    p.zero_point = {q.zero_point};
  }
  return p;
}

// Seeded values: the edges first, then uniform over the dtype's range (floats: [-8, 8]).
std::vector<uint8_t> make_input(DType dtype, int64_t n, const Quant& q, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> bytes(static_cast<size_t>(n) * dtype_size(dtype));
  if (dtype == DType::kFloat32) {
    std::uniform_real_distribution<float> dist(-8.0f, 8.0f);
    const float edges[] = {0.0f, -0.0f, 1e-7f, -1e-7f, 6.0f, -1.0f, 1.0f, 100.0f, -100.0f};
    for (int64_t i = 0; i < n; ++i) {
      const float v = i < static_cast<int64_t>(std::size(edges)) ? edges[i] : dist(rng);
      std::memcpy(bytes.data() + 4 * i, &v, 4);
    }
    return bytes;
  }
  const int32_t lo = dtype_qmin(dtype), hi = dtype_qmax(dtype);
  const auto zp = static_cast<int32_t>(q.zero_point);
  const int32_t edges[] = {lo, hi, zp, std::max(lo, zp - 1), std::min(hi, zp + 1), lo + 1, hi - 1};
  std::uniform_int_distribution<int32_t> dist(lo, hi);
  for (int64_t i = 0; i < n; ++i) {
    const int32_t v = i < static_cast<int64_t>(std::size(edges)) ? edges[i] : dist(rng);
    store_integer(dtype, v, bytes.data(), static_cast<size_t>(i));
  }
  return bytes;
}

// |x| clamped below at 1e-3: the domain of SQRT and RSQRT without infinities.
void make_positive(std::vector<uint8_t>& bytes) {
  for (size_t i = 0; i + 4 <= bytes.size(); i += 4) {
    float v;
    std::memcpy(&v, bytes.data() + i, 4);
    v = std::max(std::fabs(v), 1e-3f);
    std::memcpy(bytes.data() + i, &v, 4);
  }
}

}  // namespace

CaseGraph build_case(const OpCase& row, uint32_t seed) {
  if (row.seed != 0) seed = row.seed;
  CaseGraph b;
  auto g = std::make_shared<graph::Graph>();
  g->name = row.name;
  graph::Op op;
  op.kind = row.op;
  op.attrs = row.attrs;
  const auto add_data_inputs = [&] {
    for (size_t i = 0; i < row.inputs.size(); ++i) {
      graph::Tensor t;
      t.name = "in" + std::to_string(i);
      t.dtype = row.dtype;
      t.shape = row.inputs[i];
      t.quant = quant_of(row.in_q);
      const int32_t id = g->add_tensor(std::move(t));
      g->inputs.push_back(id);
      op.inputs.push_back(id);
      b.inputs.push_back(make_input(row.dtype, num_elements(row.inputs[i]), row.in_q, seed + i));
      if (row.positive_inputs && row.dtype == DType::kFloat32) make_positive(b.inputs.back());
      if (row.positive_inputs && row.dtype == DType::kInt8)
        for (uint8_t& byte : b.inputs.back()) {
          const int32_t q = static_cast<int8_t>(byte), zp = static_cast<int32_t>(row.in_q.zero_point);
          if (q < zp) byte = static_cast<uint8_t>(static_cast<int8_t>(std::min(2 * zp - q, 127)));
        }
      if (row.every_value && dtype_size(row.dtype) == 1)
        for (size_t k = 0; k < b.inputs.back().size(); ++k) b.inputs.back()[k] = static_cast<uint8_t>(k);
    }
  };
  const auto add_params = [&] {
    for (size_t i = 0; i < row.params.size(); ++i) {
      graph::Tensor t;
      t.name = "param" + std::to_string(i);
      t.dtype = DType::kInt32;
      t.shape = row.params[i].shape;
      t.data.resize(row.params[i].values.size() * 4);
      std::memcpy(t.data.data(), row.params[i].values.data(), t.data.size());
      op.inputs.push_back(g->add_tensor(std::move(t)));
    }
  };
  const auto add_const = [&](size_t i) {
    const ConstInput& c = row.consts[i];
    graph::Tensor t;
    t.name = "const" + std::to_string(i);
    t.dtype = c.dtype;
    t.shape = c.shape;
    if (c.like_input) {
      t.quant = quant_of(row.in_q);
    } else if (!c.scales.empty()) {
      t.quant.scale = c.scales;
      t.quant.zero_point.assign(c.scales.size(), 0);
      t.quant.quantized_dimension = c.axis;
    }
    const int64_t n = num_elements(c.shape);
    if (c.dtype == DType::kFloat32) {
      Quant q;
      t.data = make_input(DType::kFloat32, n, q, seed + 100 + static_cast<uint32_t>(i));
      for (int64_t k = 0; k < n; ++k) {  // [-8, 8] -> [-1, 1]
        float v;
        std::memcpy(&v, t.data.data() + 4 * k, 4);
        v = std::clamp(v / 8.0f, -1.0f, 1.0f);
        std::memcpy(t.data.data() + 4 * k, &v, 4);
      }
    } else if (c.dtype == DType::kInt32) {
      std::mt19937 rng(seed + 200 + static_cast<uint32_t>(i));
      std::uniform_int_distribution<int32_t> dist(-3000, 3000);
      t.data.resize(static_cast<size_t>(n) * 4);
      for (int64_t k = 0; k < n; ++k) {
        const int32_t v = dist(rng);
        std::memcpy(t.data.data() + 4 * k, &v, 4);
      }
    } else {
      Quant q = c.like_input ? row.in_q : Quant{};
      t.data = make_input(c.dtype, n, q, seed + 100 + static_cast<uint32_t>(i));
      if (c.dtype == DType::kInt8)  // symmetric weights: [-127, 127]
        for (auto& byte : t.data)
          if (byte == 0x80) byte = 0x81;
    }
    op.inputs.push_back(g->add_tensor(std::move(t)));
  };
  if (row.params_first) add_params();
  const size_t before = std::min(row.consts.size(), static_cast<size_t>(row.consts_before_data));
  for (size_t i = 0; i < before; ++i) add_const(i);
  add_data_inputs();
  if (row.consts_last && !row.params_first) add_params();
  for (size_t i = before; i < row.consts.size(); ++i) add_const(i);
  if (!row.params_first && !row.consts_last) add_params();
  // SPLIT, SPLIT_V: num_splits outputs; UNPACK: values_count.
  const int outputs = row.attrs.num_splits > 0 ? row.attrs.num_splits
                      : row.op == OpKind::kUnpack ? row.attrs.values_count : 1;
  for (int k = 0; k < outputs; ++k) {
    graph::Tensor out;
    out.name = "out" + std::to_string(k);
    out.dtype = row.out_dtype == DType::kUnknown ? row.dtype : row.out_dtype;
    out.quant = quant_of(row.out_q);
    const int32_t out_id = g->add_tensor(std::move(out));
    op.outputs.push_back(out_id);
    g->outputs.push_back(out_id);
  }
  g->ops.push_back(std::move(op));
  // The outputs' shapes are what qdet's kernels compute (any family will do).
  auto interp = Interpreter::create(g);
  if (!interp.ok()) {
    b.error = "qdet does not run this row: " + interp.status().message();
    return b;
  }
  for (int k = 0; k < outputs; ++k)
    g->tensors[g->outputs[static_cast<size_t>(k)]].shape = (*interp)->output(static_cast<size_t>(k)).shape;
  b.graph = g;
  return b;
}

std::vector<KernelImpl> accepting_families(const std::shared_ptr<const graph::Graph>& graph) {
  std::vector<KernelImpl> out;
  for (KernelImpl family : {KernelImpl::kXnnpack, KernelImpl::kSimd, KernelImpl::kOnednn,
                            KernelImpl::kReference}) {
    OnlyFamily only(family);
    if (Interpreter::create(graph).ok()) out.push_back(family);
  }
  return out;
}

std::vector<DType> supported_input_dtypes(graph::OpKind kind) {
  // Building a case runs the interpreter, whose errors ask this function again: inside a probe
  // (or while one family is tried alone) the answer is empty.
  thread_local bool probing = false;
  if (probing || OnlyFamily::current() != nullptr) return {};
  probing = true;
  std::vector<DType> out;
  uint32_t seed = 1;
  for (const OpCase& c : op_cases()) {
    if (c.op != kind || std::find(out.begin(), out.end(), c.dtype) != out.end()) continue;
    if (build_case(c, seed++).graph) out.push_back(c.dtype);
  }
  probing = false;
  return out;
}

const std::vector<OpCase>& op_cases() {
  static const std::vector<OpCase> all = build();
  return all;
}

}  // namespace qdet::rt
