// The op cases (op_cases.h): what qdet claims to run exactly as TFLite does.
#include "runtime/op_cases.h"

#include <algorithm>
#include <cstring>
#include <random>

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

std::vector<OpCase> build() {
  Table t;
  const Shape nhwc{1, 5, 7, 6};
  // RELU family: requantize + clamp.
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
  // Elementwise arithmetic with broadcasting and fused activations.
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
  // LOGISTIC / TANH: fixed output parameters.
  {
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
  }
  // Pools: the same parameters in and out for the integer dtypes.
  for (const DTypeCase& d : {kFloat, kInt8, kUInt8, kInt16}) {
    DTypeCase same = d;
    same.out_q = same.in_q;
    t.add("MAX_POOL_2D_3x3_s2_same", OpKind::kMaxPool2d, same, {{1, 9, 10, 4}},
          pool(3, 2, graph::Padding::kSame));
    t.add("MAX_POOL_2D_2x2_s2_valid", OpKind::kMaxPool2d, same, {{1, 9, 10, 4}},
          pool(2, 2, graph::Padding::kValid));
  }
  t.add("AVERAGE_POOL_2D_3x3_s1_same", OpKind::kAveragePool2d, kFloat, {{1, 9, 10, 4}},
        pool(3, 1, graph::Padding::kSame));
  t.add("AVERAGE_POOL_2D_2x2_s2_valid", OpKind::kAveragePool2d, kFloat, {{1, 9, 10, 4}},
        pool(2, 2, graph::Padding::kValid));
  // Data movement: every dtype, the same parameters in and out.
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
  // No row for a uint8 CONCATENATION of differently quantized inputs: qdet requantizes them to
  // the output's parameters as TFLite's reference kernel (ConcatenationWithScaling) does, while
  // the WebAssembly TFLite returned the inputs' bytes unchanged (up to 68 steps apart). The
  // quantizer never writes one (it gives a concatenation's inputs the output's parameters).
  // Float-only ops.
  t.add("RESIZE_BILINEAR", OpKind::kResizeBilinear, kFloat, {nhwc}).params = {{{2}, {10, 14}}};
  t.add("RESIZE_BILINEAR_half_pixel", OpKind::kResizeBilinear, kFloat, {nhwc},
        resize(false, true)).params = {{{2}, {11, 9}}};
  t.add("RESIZE_BILINEAR_align_corners", OpKind::kResizeBilinear, kFloat, {nhwc},
        resize(true, false)).params = {{{2}, {11, 9}}};
  {
    OpAttrs keep;
    keep.keep_dims = true;
    t.add("MEAN_hw_keep_dims", OpKind::kMean, kFloat, {nhwc}, keep).params = {{{2}, {1, 2}}};
  }
  t.add("HARD_SWISH", OpKind::kHardSwish, kFloat, {nhwc});
  t.add("EXP", OpKind::kExp, kFloat, {{3, 40}});
  t.add("DIV_broadcast", OpKind::kDiv, kFloat, {nhwc, {1, 1, 7, 6}});
  // Convolutions: int8 per-channel weights, uint8 per-tensor, 16x8, float.
  for (const DTypeCase& d : {kFloat, kInt8, kUInt8, kInt16}) {
    const bool is_float = d.dtype == DType::kFloat32;
    const int32_t out_c = 5, in_c = 6;
    std::vector<float> w_scales, b_scales;
    for (int32_t c = 0; c < out_c; ++c) w_scales.push_back(0.004f + 0.001f * c);
    if (d.dtype == DType::kUInt8) w_scales = {0.005f};
    for (float w : w_scales) b_scales.push_back(d.in_q.scale * w);
    const DType w_dtype = is_float ? DType::kFloat32 : d.dtype == DType::kUInt8 ? DType::kUInt8 : DType::kInt8;
    const DType b_dtype = is_float ? DType::kFloat32 : d.dtype == DType::kInt16 ? DType::kInt64 : DType::kInt32;
    for (auto [name, attrs] : {std::pair{"s1_same", conv(1, graph::Padding::kSame, graph::Activation::kNone)},
                               std::pair{"s2_valid_relu", conv(2, graph::Padding::kValid, graph::Activation::kRelu)},
                               std::pair{"dilation2_same_relu6", conv(1, graph::Padding::kSame, graph::Activation::kRelu6, 2)}}) {
      OpCase& c = t.add(std::string("CONV_2D_") + name, OpKind::kConv2d, d, {{1, 9, 8, in_c}}, attrs);
      c.consts = {{w_dtype, {out_c, 3, 3, in_c}, is_float ? std::vector<float>{} : w_scales, 0},
                  {b_dtype, {out_c}, is_float ? std::vector<float>{} : b_scales, 0}};
      OpCase& dw = t.add(std::string("DEPTHWISE_CONV_2D_") + name, OpKind::kDepthwiseConv2d, d,
                      {{1, 9, 8, out_c}}, attrs);
      dw.attrs.depth_multiplier = 1;
      dw.consts = {{w_dtype, {1, 3, 3, out_c}, is_float ? std::vector<float>{} : w_scales, 3},
                   {b_dtype, {out_c}, is_float ? std::vector<float>{} : b_scales, 0}};
    }
    std::vector<float> fc_w = {0.006f}, fc_b = {d.in_q.scale * 0.006f};
    OpCase& fc = t.add("FULLY_CONNECTED", OpKind::kFullyConnected, d, {{2, in_c * 4}});
    fc.consts = {{w_dtype, {out_c, in_c * 4}, is_float ? std::vector<float>{} : fc_w, 0},
                 {b_dtype, {out_c}, is_float ? std::vector<float>{} : fc_b, 0}};
  }
  // SOFTMAX: fixed output parameters.
  {
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
    switch (dtype) {
      case DType::kInt8: bytes[i] = static_cast<uint8_t>(static_cast<int8_t>(v)); break;
      case DType::kUInt8: bytes[i] = static_cast<uint8_t>(v); break;
      case DType::kInt16: {
        const auto s = static_cast<int16_t>(v);
        std::memcpy(bytes.data() + 2 * i, &s, 2);
        break;
      }
      default: {
        std::memcpy(bytes.data() + 4 * i, &v, 4);
        break;
      }
    }
  }
  return bytes;
}

}  // namespace

CaseGraph build_case(const OpCase& row, uint32_t seed) {
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
  if (row.params_first) add_params();
  add_data_inputs();
  if (row.consts_last && !row.params_first) add_params();
  for (size_t i = 0; i < row.consts.size(); ++i) {
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
  }
  if (!row.params_first && !row.consts_last) add_params();
  const int outputs = row.attrs.num_splits > 0 ? row.attrs.num_splits : 1;  // SPLIT, SPLIT_V
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
