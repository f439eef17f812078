#include "quant/spec.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>

#include "graph/op_traits.h"
#include "runtime/quantization_util.h"

namespace qdet::quant {

using graph::Graph;
using graph::Op;
using graph::OpKind;

namespace {

// The integer types' range; no bound for the others.
int64_t qmin_of(DType t) {
  return dtype_traits(t).is_quantizable ? dtype_traits(t).min_value : std::numeric_limits<int64_t>::min();
}
int64_t qmax_of(DType t) {
  return dtype_traits(t).is_quantizable ? dtype_traits(t).max_value : std::numeric_limits<int64_t>::max();
}

// round half away from zero in double, saturated to the dtype (TFLite uses std::round).
int64_t round_clamp(double v, DType t) {
  const double lo = static_cast<double>(qmin_of(t)), hi = static_cast<double>(qmax_of(t));
  const double r = std::round(v);
  if (!(r >= lo)) return qmin_of(t);  // also NaN
  if (r >= hi) return qmax_of(t);
  return static_cast<int64_t>(r);
}

}  // namespace

Result<QuantParams> activation_params(Range range, DType dtype) {
  if (!std::isfinite(range.min) || !std::isfinite(range.max))
    return invalid_argument("range [{}, {}] is not finite", range.min, range.max);
  if (range.min > range.max)
    return invalid_argument("range [{}, {}] has min > max", range.min, range.max);
  QuantParams p;
  if (dtype == DType::kInt16) {
    const double bound = std::max(std::fabs(double(range.min)), std::fabs(double(range.max)));
    p.scale = {bound > 0 ? static_cast<float>(bound / 32767.0) : 1.0f};
    p.zero_point = {0};
    return p;
  }
  if (dtype != DType::kInt8 && dtype != DType::kUInt8)
    return unsupported("activations of {} are not supported", dtype_name(dtype));
  // 0 must be exactly representable (zero padding, ReLU, the zero point itself).
  const double rmin = std::min(0.0, double(range.min));
  const double rmax = std::max(0.0, double(range.max));
  const double qmin = static_cast<double>(qmin_of(dtype)), qmax = static_cast<double>(qmax_of(dtype));
  if (rmax == rmin) {
    p.scale = {1.0f};
    p.zero_point = {dtype == DType::kInt8 ? -128 : 0};
    return p;
  }
  const double scale = (rmax - rmin) / (qmax - qmin);
  const int64_t nudged = rt::asymmetric_zero_point(rmin, rmax, scale,
                                                   static_cast<int32_t>(qmin_of(dtype)),
                                                   static_cast<int32_t>(qmax_of(dtype)));
  p.scale = {static_cast<float>(scale)};
  p.zero_point = {nudged};
  return p;
}

Result<QuantizedConstant> quantize_weights_symmetric(std::span<const float> values,
                                                     const Shape& shape, int32_t axis) {
  const int64_t n = num_elements(shape);
  if (static_cast<int64_t>(values.size()) != n)
    return invalid_argument("{} weight values for shape {}", values.size(), shape_to_string(shape));
  if (axis >= static_cast<int32_t>(shape.size()))
    return invalid_argument("channel axis {} out of range for weights of shape {}", axis,
                            shape_to_string(shape));
  int64_t channels = 1, inner = n;  // index = (outer * channels + c) * inner + i
  if (axis >= 0) {
    channels = shape[axis];
    inner = 1;
    for (size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
  }
  const int64_t outer = channels > 0 && inner > 0 ? n / (channels * inner) : 0;
  std::vector<double> max_abs(channels, 0.0);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t i = 0; i < inner; ++i) {
        const float v = values[(o * channels + c) * inner + i];
        if (!std::isfinite(v)) return invalid_argument("weights contain a non-finite value");
        max_abs[c] = std::max(max_abs[c], std::fabs(double(v)));
      }
  QuantizedConstant out;
  out.params.quantized_dimension = axis >= 0 ? axis : 0;
  out.params.scale.resize(channels);
  out.params.zero_point.assign(channels, 0);
  for (int64_t c = 0; c < channels; ++c)
    out.params.scale[c] = max_abs[c] > 0 ? static_cast<float>(max_abs[c] / 127.0) : 1.0f;
  out.data.resize(n);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < channels; ++c) {
      const double s = out.params.scale[c];
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t k = (o * channels + c) * inner + i;
        const int64_t q = std::clamp<int64_t>(round_clamp(values[k] / s, DType::kInt8), -127, 127);
        store_integer(DType::kInt8, q, out.data.data(), k);
      }
    }
  return out;
}

Result<QuantizedConstant> quantize_bias(std::span<const float> values, float input_scale,
                                        std::span<const float> weight_scales, DType dtype) {
  if (dtype != DType::kInt32 && dtype != DType::kInt64)
    return invalid_argument("bias must be int32 or int64, not {}", dtype_name(dtype));
  if (weight_scales.size() != 1 && weight_scales.size() != values.size())
    return invalid_argument("bias of {} values with {} weight scales", values.size(),
                            weight_scales.size());
  QuantizedConstant out;
  const size_t n = values.size();
  const size_t channels = weight_scales.size();
  out.params.scale.resize(channels);
  out.params.zero_point.assign(channels, 0);
  for (size_t c = 0; c < channels; ++c) out.params.scale[c] = input_scale * weight_scales[c];
  out.data.resize(n * dtype_size(dtype));
  for (size_t i = 0; i < n; ++i) {
    const double s = static_cast<double>(input_scale) * weight_scales[channels == 1 ? 0 : i];
    if (!std::isfinite(values[i])) return invalid_argument("bias contains a non-finite value");
    store_integer(dtype, s > 0 ? round_clamp(values[i] / s, dtype) : 0, out.data.data(), i);
  }
  return out;
}

QuantizedConstant quantize_with_params(std::span<const float> values, const QuantParams& params,
                                       DType dtype) {
  QuantizedConstant out;
  out.params = params;
  out.data.resize(values.size() * dtype_size(dtype));
  const double s = params.scale.empty() ? 1.0 : params.scale[0];
  const int64_t zp = params.zero_point.empty() ? 0 : params.zero_point[0];
  // TFLite AffineQuantize: zero_point + round(value / scale), clamped (computed in float there;
  // in double here, which differs only on exact ties of the float quotient).
  for (size_t i = 0; i < values.size(); ++i) {
    const int64_t q = round_clamp(static_cast<float>(values[i] / s), DType::kInt32) + zp;
    store_integer(dtype, std::clamp(q, qmin_of(dtype), qmax_of(dtype)), out.data.data(), i);
  }
  return out;
}

namespace {

QuantParams fixed(const graph::FixedQuant& q) {
  QuantParams p;
  p.scale = {q.scale};
  p.zero_point = {q.zero_point};
  return p;
}

OutputRule output_rule(graph::QuantRule r) {
  switch (r) {
    case graph::QuantRule::kSameAsInput: return OutputRule::kSameAsInput;
    case graph::QuantRule::kShared: return OutputRule::kShared;
    case graph::QuantRule::kFixed: return OutputRule::kFixed;
    default: return OutputRule::kFromRange;
  }
}

// The quantizer's view of graph/op_traits.h: every op TFLite runs in integer.
struct SpecTable {
  std::array<OpQuantSpec, static_cast<size_t>(OpKind::kCount)> spec{};
  std::array<bool, static_cast<size_t>(OpKind::kCount)> present{};
};

SpecTable make_table() {
  SpecTable t;
  for (size_t i = 0; i < static_cast<size_t>(OpKind::kCount); ++i) {
    const graph::OpTraits& tr = graph::op_traits(static_cast<OpKind>(i));
    if (tr.int8 == graph::QuantRule::kNone) continue;
    OpQuantSpec& s = t.spec[i];
    s.tflite_int8 = true;
    s.tflite_int16 = tr.int16;
    s.int8 = tr.quantizable_int8();
    s.int16 = tr.quantizable_int16();
    s.output = output_rule(tr.int8);
    s.weight_input = tr.weight_input;
    s.weight_axis = tr.weight_axis;
    s.bias_input = tr.bias_input;
    if (tr.int8 == graph::QuantRule::kFixed) {
      s.fixed_int8 = fixed(tr.fixed_int8);
      s.fixed_int16 = fixed(tr.fixed_int16);
    }
    t.present[i] = true;
  }
  return t;
}

const SpecTable& table() {
  static const SpecTable t = make_table();
  return t;
}

}  // namespace

const OpQuantSpec* op_quant_spec(OpKind kind) {
  const auto i = static_cast<size_t>(kind);
  if (i >= static_cast<size_t>(OpKind::kCount) || !table().present[i]) return nullptr;
  return &table().spec[i];
}

bool is_value_input(const Graph& graph, const Op& op, size_t input_index) {
  if (input_index >= op.inputs.size()) return false;
  const int32_t id = op.inputs[input_index];
  if (id < 0) return false;
  const DType t = graph.tensors[id].dtype;
  if (t == DType::kFloat32 || t == DType::kFloat16) return true;
  // Already quantized values (a partially quantized graph) also count.
  return !graph.tensors[id].quant.empty() && dtype_traits(t).is_quantizable &&
         t != DType::kInt32 && t != DType::kInt64;
}

int32_t tflite_op_version(const Graph& graph, const Op& op) {
  auto dtype_of = [&](const std::vector<int32_t>& ids, size_t i) {
    return i < ids.size() && ids[i] >= 0 ? graph.tensors[ids[i]].dtype : DType::kUnknown;
  };
  const DType in0 = dtype_of(op.inputs, static_cast<size_t>(graph::op_traits(op.kind).data_input()));
  const DType out0 = dtype_of(op.outputs, 0);
  const bool int16 = in0 == DType::kInt16 || out0 == DType::kInt16;
  const bool int8 = in0 == DType::kInt8 || out0 == DType::kInt8 || in0 == DType::kUInt8;
  switch (op.kind) {
    case OpKind::kConv2d: {
      const DType w = dtype_of(op.inputs, 1);
      if (in0 == DType::kFloat32 && w == DType::kInt8) {
        const auto& q = graph.tensors[op.inputs[1]].quant;
        return q.per_axis() ? 5 : 2;  // hybrid
      }
      return int16 ? 4 : int8 ? 3 : op.version;
    }
    case OpKind::kDepthwiseConv2d: {
      const DType w = dtype_of(op.inputs, 1);
      if (in0 == DType::kFloat32 && w == DType::kInt8) return 6;  // hybrid (per channel)
      return int16 ? 5 : int8 ? 3 : op.version;
    }
    case OpKind::kFullyConnected: {
      const DType w = dtype_of(op.inputs, 1);
      if (in0 == DType::kFloat32 && w == DType::kInt8) return 3;  // hybrid
      return int16 ? 7 : int8 ? 4 : op.version;
    }
    case OpKind::kTransposeConv: {
      // TFLite: 3 with a bias input, 2 with int8 weights, else 1.
      if (op.inputs.size() > 3 && op.inputs[3] >= 0) return std::max(op.version, 3);
      return dtype_of(op.inputs, 1) == DType::kInt8 ? std::max(op.version, 2) : op.version;
    }
    case OpKind::kDequantize:
      if (in0 == DType::kFloat16) return 3;
      if (in0 == DType::kInt16) return 4;
      if (in0 == DType::kInt8 && graph.tensors[op.inputs[0]].quant.per_axis()) return 4;
      return in0 == DType::kInt8 ? 2 : 1;
    case OpKind::kQuantize:
      // TFLite ~2.12 registers QUANTIZE versions 1-3 (one kernel); its versioning gives int16
      // outputs version 2 (version 4 is int4, unknown to it).
      if (int16) return 2;
      if (in0 != DType::kFloat32 && in0 != DType::kUnknown) return 2;  // requantize
      return out0 == DType::kInt8 ? 2 : 1;
    case OpKind::kAdd:
    case OpKind::kSub:
      return int16 ? 3 : int8 ? 2 : op.version;
    case OpKind::kMul:
      return int16 ? 4 : int8 ? 2 : op.version;
    case OpKind::kRelu:
      return int16 ? 3 : int8 ? std::max(op.version, 2) : op.version;
    case OpKind::kSoftmax:
      return int16 ? 3 : int8 ? std::max(op.version, 2) : op.version;
    case OpKind::kLeakyRelu:
      return int16 ? 2 : op.version;
    case OpKind::kRelu6:
      return int8 ? std::max(op.version, 2) : op.version;
    case OpKind::kAveragePool2d:
    case OpKind::kMaxPool2d:
    case OpKind::kConcatenation:
    case OpKind::kLogistic:
    case OpKind::kTanh:
    case OpKind::kPad:
    case OpKind::kPadV2:
    case OpKind::kTranspose:
    case OpKind::kStridedSlice:
    case OpKind::kSlice:
    case OpKind::kResizeBilinear:
    case OpKind::kResizeNearestNeighbor:
    case OpKind::kMean:
    case OpKind::kSum:
    case OpKind::kReduceMax:
    case OpKind::kBatchMatmul:
    case OpKind::kGather:
    case OpKind::kSplit:
    case OpKind::kSplitV:
    case OpKind::kPack:
    case OpKind::kMaximum:
    case OpKind::kMinimum:
    case OpKind::kSpaceToDepth:
    case OpKind::kDepthToSpace:
    case OpKind::kRsqrt:  // int8
    case OpKind::kDiv:    // uint8
      // Version 2 added int8 to each of these; int16 versions vary, and a lower version than the
      // converter's names the same TFLite kernel, so 2 is kept for both.
      return (int8 || int16) ? std::max(op.version, 2) : op.version;
    default:
      return op.version;
  }
}

// Per-channel scales that minimise the weights' squared rounding error: scale = a * max|w| / 127
// for a in [0.70, 1.00] (clipping a few outliers of a channel makes the steps of all its other
// weights finer). Still symmetric int8 in [-127, 127], so any TFLite runtime reads it as before.
void refine_weight_scales_mse(std::span<const float> values, const Shape& shape, int32_t axis,
                       QuantizedConstant& q) {
  const int64_t n = static_cast<int64_t>(values.size());
  const int64_t channels = static_cast<int64_t>(q.params.scale.size());
  int64_t inner = n;
  if (axis >= 0) {
    inner = 1;
    for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) inner *= shape[d];
  }
  const int64_t outer = channels > 0 && inner > 0 ? n / (channels * inner) : 0;
  const auto index = [&](int64_t o, int64_t c, int64_t i) { return (o * channels + c) * inner + i; };
  for (int64_t c = 0; c < channels; ++c) {
    const double base = q.params.scale[c];
    double best_scale = base, best_error = -1;
    for (int step = 0; step <= 30; ++step) {
      const double s = base * (1.0 - 0.01 * step);
      double error = 0;
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          const double w = values[index(o, c, i)];
          const double r = std::clamp(std::round(w / s), -127.0, 127.0) * s;
          error += (w - r) * (w - r);
        }
      if (best_error < 0 || error < best_error) {
        best_error = error;
        best_scale = s;
      }
    }
    q.params.scale[c] = static_cast<float>(best_scale);
    const double s = q.params.scale[c];
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t k = index(o, c, i);
        const auto v = static_cast<int8_t>(std::clamp(std::round(values[k] / s), -127.0, 127.0));
        q.data[static_cast<size_t>(k)] = static_cast<uint8_t>(v);
      }
  }
}

}  // namespace qdet::quant
