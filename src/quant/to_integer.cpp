// int8 / int16x8 modes: the full-integer rewrite of a float graph (modes.h, spec.h).
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "base/named.h"
#include "graph/op_traits.h"
#include "quant/graph_edit.h"
#include "quant/modes.h"

namespace qdet::quant {

namespace {

constexpr Named<IoType> kIoTypeNames[] = {
    {IoType::kFloat, "float"}, {IoType::kInt8, "int8"}, {IoType::kUInt8, "uint8"}, {IoType::kInt16, "int16"}};

}  // namespace

const char* io_type_name(IoType io) { return name_of(kIoTypeNames, io); }

Result<IoType> parse_io_type(const std::string& name) { return parse_named(kIoTypeNames, name, "I/O type"); }

namespace {

// Rewrites one graph; the state of every original tensor: where its integer and float
// versions live in the new graph.
class IntegerRewriter {
 public:
  IntegerRewriter(const Model& model, const RangeMap& ranges, const IntegerOptions& options,
                  Notes* notes)
      : src_(model.graph), ranges_(ranges), opt_(options), notes_(notes), model_(model),
        g_(model_.graph) {}

  Result<IntegerResult> run();

 private:
  DType act() const { return opt_.activations; }
  const char* act_suffix() const { return act() == DType::kInt16 ? "_int16" : "_int8"; }

  bool decide(size_t op_index, std::string* why_not) const;
  Result<QuantParams> range_params(int32_t t);
  int32_t new_tensor_like(int32_t t, const std::string& suffix, DType dtype, QuantParams quant);
  void emit(OpKind kind, int32_t in, int32_t out);
  int32_t get_float(int32_t t);
  Result<int32_t> get_int(int32_t t);
  int32_t requantized(int32_t t_int, const QuantParams& params);
  Result<int32_t> constant(int32_t t, const QuantParams* params);
  Result<int32_t> weights(int32_t t, int32_t axis);
  Status quantize_op(size_t op_index);
  Result<QuantParams> output_params(size_t op_index, const Op& sop, const OpQuantSpec& spec,
                                    const std::vector<size_t>& values, Op& op);
  void floor_weight_scales(size_t op_index, const Op& op, const OpQuantSpec& spec, const QuantParams& out_params);
  Result<QuantParams> widen_for_multiplier(size_t op_index, const Op& op, const OpQuantSpec& spec,
                                           QuantParams out_params);
  Result<int32_t> quantized_bias(size_t op_index, const Op& sop, const Op& op, const OpQuantSpec& spec);
  std::vector<std::pair<int32_t, int32_t>> quantize_outputs(Op& op, const QuantParams& out_params);
  Status setup_inputs();
  void fold_dequantize_quantize();

  const Graph& src_;
  const RangeMap& ranges_;
  IntegerOptions opt_;
  Notes* notes_;
  Model model_;
  Graph& g_;
  std::vector<std::string> keys_;
  std::vector<int32_t> int_id_, float_id_;
  std::vector<char> is_graph_output_;
  std::vector<Op> ops_;
  std::vector<std::string> missing_;
  std::map<std::tuple<int32_t, float, int64_t>, int32_t> requant_cache_, const_cache_;
  std::map<std::pair<int32_t, int32_t>, int32_t> weight_cache_;
  std::set<int32_t> float_ops_;
  int bias_corrected_ = 0;
  // For a tensor whose only reader is a quantized CONCATENATION: that concatenation's output.
  // Its producer then writes at the concatenation's parameters (TFLite's "same scale" rule for
  // CONCATENATION), so no requantizing QUANTIZE is needed between them.
  std::vector<int32_t> concat_target_;
  int concat_inputs_shared_ = 0;
};

// (W_q - W) . E[x] per output channel of a CONV_2D (weights [OC, KH, KW, IC/groups]),
// DEPTHWISE_CONV_2D ([1, KH, KW, IC * multiplier]) or FULLY_CONNECTED ([OC, IC]) whose int8
// weights are `wq` and float weights `w`; `means` has one entry per input channel. Empty when
// the shapes do not fit (no correction).
Result<std::vector<double>> weight_rounding_error(OpKind kind, const Shape& in_shape,
                                                  const std::vector<float>& w, const Tensor& wq,
                                                  const std::vector<double>& means) {
  std::vector<double> none;
  const Shape& ws = wq.shape;
  if (wq.dtype != DType::kInt8 || wq.quant.empty() || in_shape.empty() ||
      static_cast<int64_t>(w.size()) != num_elements(ws) || w.size() != wq.data.size())
    return none;
  const int64_t in_c = in_shape.back();
  if (static_cast<int64_t>(means.size()) != in_c) return none;
  const auto* q = reinterpret_cast<const int8_t*>(wq.data.data());
  const auto& sc = wq.quant.scale;
  const int32_t qdim = wq.quant.quantized_dimension;
  // Element index -> scale index for the quantized dimension.
  auto scale_of = [&](size_t i) -> double {
    if (sc.size() == 1) return sc[0];
    int64_t inner = 1;
    for (size_t d = static_cast<size_t>(qdim) + 1; d < ws.size(); ++d) inner *= ws[d];
    return sc[static_cast<size_t>((static_cast<int64_t>(i) / inner) % ws[qdim])];
  };
  auto err = [&](size_t i) { return q[i] * scale_of(i) - static_cast<double>(w[i]); };
  if (kind == OpKind::kDepthwiseConv2d) {
    if (ws.size() != 4 || ws[0] != 1 || ws[3] % in_c != 0) return none;
    const int64_t oc = ws[3], mult = oc / in_c, positions = ws[1] * ws[2];
    std::vector<double> out(static_cast<size_t>(oc), 0.0);
    for (int64_t p = 0; p < positions; ++p)
      for (int64_t c = 0; c < oc; ++c)
        out[c] += err(static_cast<size_t>(p * oc + c)) * means[static_cast<size_t>(c / mult)];
    return out;
  }
  if (kind == OpKind::kConv2d) {
    if (ws.size() != 4 || ws[3] <= 0 || in_c % ws[3] != 0) return none;
    const int64_t oc = ws[0], wic = ws[3], groups = in_c / wic, positions = ws[1] * ws[2];
    if (oc % groups != 0) return none;
    const int64_t per_group = oc / groups;
    std::vector<double> out(static_cast<size_t>(oc), 0.0);
    for (int64_t o = 0; o < oc; ++o) {
      const int64_t base = (o / per_group) * wic;
      for (int64_t p = 0; p < positions; ++p)
        for (int64_t c = 0; c < wic; ++c)
          out[o] += err(static_cast<size_t>((o * positions + p) * wic + c)) *
                    means[static_cast<size_t>(base + c)];
    }
    return out;
  }
  if (kind == OpKind::kFullyConnected) {
    if (ws.size() != 2 || ws[1] != in_c) return none;
    std::vector<double> out(static_cast<size_t>(ws[0]), 0.0);
    for (int64_t o = 0; o < ws[0]; ++o)
      for (int64_t c = 0; c < in_c; ++c)
        out[o] += err(static_cast<size_t>(o * in_c + c)) * means[static_cast<size_t>(c)];
    return out;
  }
  return none;
}

bool IntegerRewriter::decide(size_t i, std::string* why_not) const {
  const Op& op = src_.ops[i];
  const OpQuantSpec* spec = op_quant_spec(op.kind);
  const bool int16 = act() == DType::kInt16;
  if (!spec || !(int16 ? spec->tflite_int16 : spec->tflite_int8)) {
    *why_not = fmt::format("no {} kernel in TFLite", int16 ? "16x8" : "int8");
    return false;
  }
  if (!(int16 ? spec->int16 : spec->int8)) {
    *why_not = fmt::format("no {} kernel in qdet", int16 ? "16x8" : "int8");
    return false;
  }
  for (int32_t o : op.outputs)
    if (o >= 0 && src_.tensors[o].dtype != DType::kFloat32) {
      *why_not = fmt::format("output '{}' is {}", src_.tensors[o].name,
                             dtype_name(src_.tensors[o].dtype));
      return false;
    }
  for (size_t k = 0; k < op.inputs.size(); ++k) {
    const int32_t t = op.inputs[k];
    if (t < 0) continue;
    const Tensor& tensor = src_.tensors[t];
    const bool special = static_cast<int>(k) == spec->weight_input || static_cast<int>(k) == spec->bias_input;
    if (special && (!tensor.is_constant() || tensor.dtype != DType::kFloat32)) {
      *why_not = fmt::format("{} '{}' is not a float32 constant",
                             static_cast<int>(k) == spec->weight_input ? "weights" : "bias",
                             tensor.name);
      return false;
    }
    if (!special && tensor.dtype != DType::kFloat32 && is_value_input(src_, op, k)) {
      *why_not = fmt::format("input '{}' is {}", tensor.name, dtype_name(tensor.dtype));
      return false;
    }
  }
  return true;
}

Result<QuantParams> IntegerRewriter::range_params(int32_t t) {
  auto it = ranges_.find(keys_[t]);
  if (it == ranges_.end()) {
    missing_.push_back(keys_[t]);
    QuantParams p;  // placeholder so that the rewrite goes on and reports every missing range
    p.scale = {1.0f};
    p.zero_point = {0};
    return p;
  }
  auto params = activation_params(it->second, act());
  if (!params.ok()) return params.status().with_context(fmt::format("range of tensor '{}'", keys_[t]));
  return params;
}

int32_t IntegerRewriter::new_tensor_like(int32_t t, const std::string& suffix, DType dtype,
                                         QuantParams quant) {
  Tensor n;
  n.name = unique_tensor_name(g_, src_.tensors[t].name + suffix);
  n.dtype = dtype;
  n.shape = src_.tensors[t].shape;
  n.shape_signature = src_.tensors[t].shape_signature;
  n.quant = std::move(quant);
  return g_.add_tensor(std::move(n));
}

void IntegerRewriter::emit(OpKind kind, int32_t in, int32_t out) {
  Op op;
  op.kind = kind;
  op.inputs = {in};
  op.outputs = {out};
  op.version = tflite_op_version(g_, op);
  ops_.push_back(std::move(op));
}

int32_t IntegerRewriter::get_float(int32_t t) {
  if (float_id_[t] >= 0) return float_id_[t];
  const int32_t f = new_tensor_like(t, "_dequantize", DType::kFloat32, {});
  emit(OpKind::kDequantize, int_id_[t], f);
  float_id_[t] = f;
  return f;
}

Result<int32_t> IntegerRewriter::get_int(int32_t t) {
  if (int_id_[t] >= 0) return int_id_[t];
  QDET_ASSIGN_OR_RETURN(QuantParams p, range_params(t));
  const int32_t q = new_tensor_like(t, act_suffix(), act(), std::move(p));
  emit(OpKind::kQuantize, float_id_[t], q);
  int_id_[t] = q;
  return q;
}

int32_t IntegerRewriter::requantized(int32_t t_int, const QuantParams& params) {
  const auto key = std::make_tuple(t_int, params.scale[0], params.zero_point[0]);
  if (auto it = requant_cache_.find(key); it != requant_cache_.end()) return it->second;
  Tensor n;
  n.name = unique_tensor_name(g_, g_.tensors[t_int].name + "_requantized");
  n.dtype = g_.tensors[t_int].dtype;
  n.shape = g_.tensors[t_int].shape;
  n.quant = params;
  const int32_t id = g_.add_tensor(std::move(n));
  emit(OpKind::kQuantize, t_int, id);
  requant_cache_[key] = id;
  return id;
}

// A float constant as an activation-typed constant: with `params` when given (the op requires
// them), else with parameters from its own values.
Result<int32_t> IntegerRewriter::constant(int32_t t, const QuantParams* params) {
  QDET_ASSIGN_OR_RETURN(auto values, constant_values(src_.tensors[t]));
  QuantParams p;
  if (params) {
    p = *params;
  } else {
    Range r;
    if (!values.empty()) {
      r.min = *std::min_element(values.begin(), values.end());
      r.max = *std::max_element(values.begin(), values.end());
    }
    QDET_ASSIGN_OR_RETURN(p, activation_params(r, act()));
  }
  const auto key = std::make_tuple(t, p.scale[0], p.zero_point[0]);
  if (auto it = const_cache_.find(key); it != const_cache_.end()) return it->second;
  QuantizedConstant q = quantize_with_params(values, p, act());
  Tensor n;
  n.name = src_.tensors[t].name;
  n.dtype = act();
  n.shape = src_.tensors[t].shape;
  n.quant = std::move(q.params);
  n.data = std::move(q.data);
  const int32_t id = g_.add_tensor(std::move(n));
  const_cache_[key] = id;
  return id;
}

Result<int32_t> IntegerRewriter::weights(int32_t t, int32_t axis) {
  if (auto it = weight_cache_.find({t, axis}); it != weight_cache_.end()) return it->second;
  QuantizedConstant q;
  const auto rounded = opt_.rounded_weights.find(t);
  if (rounded != opt_.rounded_weights.end() &&
      (axis < 0 ? rounded->second.params.scale.size() == 1
                : rounded->second.params.quantized_dimension == axis)) {
    q = rounded->second;
  } else {
    QDET_ASSIGN_OR_RETURN(auto values, constant_values(src_.tensors[t]));
    QDET_ASSIGN_OR_RETURN(q, quantize_weights_symmetric(values, src_.tensors[t].shape, axis));
    if (opt_.mse_weight_scales) refine_weight_scales_mse(values, src_.tensors[t].shape, axis, q);
  }
  Tensor n;
  n.name = src_.tensors[t].name;
  n.dtype = DType::kInt8;
  n.shape = src_.tensors[t].shape;
  n.quant = std::move(q.params);
  n.data = std::move(q.data);
  const int32_t id = g_.add_tensor(std::move(n));
  weight_cache_[{t, axis}] = id;
  return id;
}

Status IntegerRewriter::setup_inputs() {
  for (int32_t t : src_.inputs) {
    if (src_.tensors[t].dtype != DType::kFloat32 || opt_.io == IoType::kFloat) continue;
    QDET_ASSIGN_OR_RETURN(QuantParams p, range_params(t));
    Tensor& in = g_.tensors[t];
    float_id_[t] = -1;
    if (opt_.io == IoType::kUInt8) {
      QuantParams pu = p;
      pu.zero_point[0] += 128;  // same scale, zero point shifted: a top-bit flip
      in.dtype = DType::kUInt8;
      in.quant = pu;
      const int32_t q = new_tensor_like(t, "_int8", DType::kInt8, p);
      emit(OpKind::kQuantize, t, q);
      int_id_[t] = q;
    } else {
      in.dtype = act();
      in.quant = p;
      int_id_[t] = t;
    }
  }
  return ok_status();
}

// The op rewritten to integers: its value inputs quantized (activations first: their
// parameters decide the rest), its output parameters chosen by the op's rule, constants,
// weights and bias quantized to fit, and its outputs given those parameters.
Status IntegerRewriter::quantize_op(size_t i) {
  const Op& sop = src_.ops[i];  // original ids (op.inputs get replaced by new ones below)
  Op op = sop;
  const OpQuantSpec& spec = *op_quant_spec(op.kind);
  // Value inputs other than weights and bias, in order.
  std::vector<size_t> values;
  for (size_t k = 0; k < op.inputs.size(); ++k)
    if (static_cast<int>(k) != spec.weight_input && static_cast<int>(k) != spec.bias_input &&
        is_value_input(src_, op, k))
      values.push_back(k);
  for (size_t k : values) {
    const int32_t t = op.inputs[k];
    if (!src_.tensors[t].is_constant()) {
      QDET_ASSIGN_OR_RETURN(op.inputs[k], get_int(t));
    }
  }
  QDET_ASSIGN_OR_RETURN(QuantParams out_params, output_params(i, sop, spec, values, op));
  // Constant value inputs.
  for (size_t k : values) {
    const int32_t t = sop.inputs[k];
    if (!src_.tensors[t].is_constant() || op.inputs[k] != t) continue;  // activation, or done
    const QuantParams* required = nullptr;
    if (spec.output == OutputRule::kSameAsInput || spec.output == OutputRule::kShared)
      required = &out_params;
    QDET_ASSIGN_OR_RETURN(op.inputs[k], constant(t, required));
  }
  // Shared parameters: requantize inputs that differ from the output.
  if (spec.output == OutputRule::kShared)
    for (size_t k : values) {
      const auto& q = g_.tensors[op.inputs[k]].quant;
      if (q.scale != out_params.scale || q.zero_point != out_params.zero_point)
        op.inputs[k] = requantized(op.inputs[k], out_params);
    }
  if (spec.weight_input >= 0) {
    const int32_t axis = opt_.per_channel ? spec.weight_axis : -1;
    QDET_ASSIGN_OR_RETURN(op.inputs[spec.weight_input], weights(op.inputs[spec.weight_input], axis));
    if (spec.output == OutputRule::kFromRange) {
      QDET_ASSIGN_OR_RETURN(out_params, widen_for_multiplier(i, op, spec, std::move(out_params)));
    }
    floor_weight_scales(i, op, spec, out_params);
  }
  if (spec.bias_input >= 0 && spec.bias_input < static_cast<int>(op.inputs.size()) &&
      op.inputs[spec.bias_input] >= 0) {
    QDET_ASSIGN_OR_RETURN(op.inputs[spec.bias_input], quantized_bias(i, sop, op, spec));
  }
  if (act() == DType::kInt16 && (op.kind == OpKind::kAdd || op.kind == OpKind::kSub))
    op.attrs.pot_scale_int16 = false;
  const std::vector<std::pair<int32_t, int32_t>> after = quantize_outputs(op, out_params);
  op.version = tflite_op_version(g_, op);
  ops_.push_back(std::move(op));
  for (auto [q, orig] : after)
    emit(opt_.io == IoType::kFloat ? OpKind::kDequantize : OpKind::kQuantize, q, orig);
  return ok_status();
}

// The output's parameters by the op's rule: its calibrated range (a concatenation's when the
// output only feeds one: TFLite's "same scale" rule), fixed ones (LOGISTIC, SOFTMAX, ...), or
// its first value input's (which, when constant, is quantized here).
Result<QuantParams> IntegerRewriter::output_params(size_t i, const Op& sop, const OpQuantSpec& spec,
                                                   const std::vector<size_t>& values, Op& op) {
  const int32_t out0 = op.outputs.empty() ? -1 : op.outputs[0];
  switch (spec.output) {
    case OutputRule::kFromRange:
      if (out0 >= 0 && concat_target_[out0] >= 0) {
        QDET_ASSIGN_OR_RETURN(QuantParams shared, range_params(concat_target_[out0]));
        ++concat_inputs_shared_;
        return shared;
      }
      return range_params(out0);
    case OutputRule::kShared:
      return range_params(out0);
    case OutputRule::kFixed:
      return act() == DType::kInt16 ? spec.fixed_int16 : spec.fixed_int8;
    case OutputRule::kSameAsInput: {
      if (values.empty()) return internal_error("op {} ({}) has no value input", i, op.name());
      const size_t k = values[0];
      if (src_.tensors[sop.inputs[k]].is_constant()) {
        QDET_ASSIGN_OR_RETURN(op.inputs[k], constant(sop.inputs[k], nullptr));
      }
      return g_.tensors[op.inputs[k]].quant;
    }
  }
  return internal_error("op {} ({}): unknown output rule", i, op.name());
}

// A nearly constant output (a channel group that calibration saw at ~0) would need a
// multiplier input_scale * weight_scale / output_scale beyond what kernels accept (TFLite's
// shift range; qdet's runtime takes < 128): widen the output range until it is at most 64.
Result<QuantParams> IntegerRewriter::widen_for_multiplier(size_t i, const Op& op, const OpQuantSpec& spec,
                                                          QuantParams out_params) {
  const auto& wq = g_.tensors[op.inputs[spec.weight_input]].quant;
  const size_t data_input = static_cast<size_t>(graph::op_traits(op.kind).data_input());
  const double in_scale = g_.tensors[op.inputs[data_input]].quant.scale[0];
  const double wmax = *std::max_element(wq.scale.begin(), wq.scale.end());
  const double min_scale = in_scale * wmax / 64.0;
  if (out_params.scale[0] >= min_scale) return out_params;
  const double k = min_scale / out_params.scale[0];
  const double z = static_cast<double>(out_params.zero_point[0]);
  const double qmin = act() == DType::kInt16 ? -32767 : -128, qmax = act() == DType::kInt16 ? 32767 : 127;
  const Range widened{static_cast<float>(out_params.scale[0] * (qmin - z) * k),
                      static_cast<float>(out_params.scale[0] * (qmax - z) * k)};
  QDET_ASSIGN_OR_RETURN(QuantParams wide, activation_params(widened, act()));
  if (notes_)
    notes_->info.push_back(
        fmt::format("op {} ({}): output range widened {:.3g}x to keep its multiplier <= 64", i, op.name(), k));
  return wide;
}

// A channel whose weights are about 0 (a dead or pruned filter) gets a scale so small that its
// multiplier input_scale * weight_scale / output_scale falls under 2^-32, which XNNPACK's and
// oneDNN's integer convolutions refuse: the whole op would run on the slow reference kernel
// (NanoDet-m: 26 such convolutions, 334 ms). Its scale is raised to keep the multiplier at 2^-31
// and its int8 weights re-rounded at that scale (to 0 or nearly: they were below one new step).
void IntegerRewriter::floor_weight_scales(size_t i, const Op& op, const OpQuantSpec& spec,
                                          const QuantParams& out_params) {
  Tensor& w = g_.tensors[op.inputs[spec.weight_input]];
  const size_t data_input = static_cast<size_t>(graph::op_traits(op.kind).data_input());
  const double in_scale = g_.tensors[op.inputs[data_input]].quant.scale[0];
  const double out_scale = out_params.scale.empty() ? 0.0 : out_params.scale[0];
  if (!(in_scale > 0) || !(out_scale > 0) || w.dtype != DType::kInt8 || w.shape.empty()) return;
  const double floor = std::ldexp(1.0, -31) * out_scale / in_scale;
  const size_t channels = w.quant.scale.size();
  const int axis = channels > 1 ? w.quant.quantized_dimension : -1;
  size_t inner = 1;
  for (size_t d = static_cast<size_t>(axis + 1); axis >= 0 && d < w.shape.size(); ++d) inner *= static_cast<size_t>(w.shape[d]);
  int raised = 0;
  for (size_t c = 0; c < channels; ++c) {
    const double old_scale = w.quant.scale[c];
    if (old_scale >= floor) continue;
    const auto new_scale = static_cast<float>(floor * 1.0000001);
    auto* q = reinterpret_cast<int8_t*>(w.data.data());
    for (size_t e = 0; e < w.data.size(); ++e) {
      if (axis >= 0 && (e / inner) % channels != c) continue;
      q[e] = static_cast<int8_t>(std::clamp(std::lround(q[e] * old_scale / new_scale), -127L, 127L));
    }
    w.quant.scale[c] = new_scale;
    ++raised;
  }
  if (raised > 0 && notes_)
    notes_->info.push_back(fmt::format("op {} ({}): {} weight scale(s) of ~0 channels raised to keep the multiplier >= 2^-31",
                                       i, op.name(), raised));
}

// The bias as int32 (int64 for 16x8) at input scale x weight scale, first corrected for the
// weights' rounding error times the input's mean where the options give the means.
Result<int32_t> IntegerRewriter::quantized_bias(size_t i, const Op& sop, const Op& op, const OpQuantSpec& spec) {
  const int32_t b = op.inputs[spec.bias_input];
  const size_t data_input = static_cast<size_t>(graph::op_traits(op.kind).data_input());
  const float in_scale = g_.tensors[op.inputs[data_input]].quant.scale[0];
  const auto& wq = g_.tensors[op.inputs[spec.weight_input]].quant;
  QDET_ASSIGN_OR_RETURN(auto bias_values, constant_values(src_.tensors[b]));
  if (!opt_.input_means.empty() && sop.inputs[0] >= 0) {
    auto means = opt_.input_means.find(keys_[sop.inputs[0]]);
    if (means != opt_.input_means.end()) {
      QDET_ASSIGN_OR_RETURN(auto wf, constant_values(src_.tensors[sop.inputs[spec.weight_input]]));
      QDET_ASSIGN_OR_RETURN(auto corr, weight_rounding_error(op.kind, src_.tensors[sop.inputs[0]].shape, wf,
                                                             g_.tensors[op.inputs[spec.weight_input]],
                                                             means->second));
      if (corr.size() == bias_values.size()) {
        for (size_t c = 0; c < corr.size(); ++c) bias_values[c] = static_cast<float>(bias_values[c] - corr[c]);
        ++bias_corrected_;
      }
    }
  }
  const DType bias_dtype = act() == DType::kInt16 ? DType::kInt64 : DType::kInt32;
  std::span<const float> wscales(wq.scale);
  if (wq.scale.size() > 1 && wq.scale.size() != bias_values.size())
    return invalid_argument("op {} ({}): {} bias values for {} weight channels", i, op.name(),
                            bias_values.size(), wq.scale.size());
  QDET_ASSIGN_OR_RETURN(auto qb, quantize_bias(bias_values, in_scale, wscales, bias_dtype));
  Tensor n;
  n.name = src_.tensors[b].name;
  n.dtype = bias_dtype;
  n.shape = src_.tensors[b].shape;
  n.quant = std::move(qb.params);
  n.quant.quantized_dimension = 0;
  n.data = std::move(qb.data);
  return g_.add_tensor(std::move(n));
}

// The op's outputs get the output parameters. A graph output with float or uint8 I/O gets a
// new integer tensor instead; returns those (int tensor, graph output) pairs, each needing a
// DEQUANTIZE or QUANTIZE after the op.
std::vector<std::pair<int32_t, int32_t>> IntegerRewriter::quantize_outputs(Op& op, const QuantParams& out_params) {
  std::vector<std::pair<int32_t, int32_t>> after;
  for (int32_t& o : op.outputs) {
    if (o < 0) continue;
    const int32_t orig = o;
    if (is_graph_output_[orig] && opt_.io == IoType::kFloat) {
      const int32_t q = new_tensor_like(orig, act_suffix(), act(), out_params);
      int_id_[orig] = q;
      float_id_[orig] = orig;
      o = q;
      after.emplace_back(q, orig);
    } else if (is_graph_output_[orig] && opt_.io == IoType::kUInt8) {
      const int32_t q = new_tensor_like(orig, act_suffix(), act(), out_params);
      QuantParams pu = out_params;
      pu.zero_point[0] += 128;
      g_.tensors[orig].dtype = DType::kUInt8;
      g_.tensors[orig].quant = pu;
      int_id_[orig] = q;
      float_id_[orig] = -1;
      o = q;
      after.emplace_back(q, orig);
    } else {
      g_.tensors[orig].dtype = act();
      g_.tensors[orig].quant = out_params;
      int_id_[orig] = orig;
      float_id_[orig] = -1;
    }
  }
  return after;
}

// DEQUANTIZE x -> y followed by QUANTIZE y -> z, y read by nothing else: one QUANTIZE x -> z
// (a requantization; e.g. a uint8 input kept by the float mode, then quantized again), where
// TFLite requantizes x's dtype to z's (not uint8 -> int16 nor int16 -> uint8: those stay two ops).
void IntegerRewriter::fold_dequantize_quantize() {
  std::vector<int> readers(g_.tensors.size(), 0);
  for (const auto& op : ops_) for (int32_t t : op.inputs) if (t >= 0) ++readers[t];
  for (int32_t t : g_.outputs) ++readers[t];
  std::vector<int32_t> dq_input(g_.tensors.size(), -1);
  std::vector<Op> out;
  for (auto& op : ops_) {
    if (op.kind == OpKind::kDequantize) dq_input[op.outputs[0]] = op.inputs[0];
    if (op.kind == OpKind::kQuantize && dq_input[op.inputs[0]] >= 0 && readers[op.inputs[0]] == 1 &&
        graph::tflite_requantizes(g_.tensors[dq_input[op.inputs[0]]].dtype, g_.tensors[op.outputs[0]].dtype)) {
      const int32_t x = dq_input[op.inputs[0]];
      op.inputs[0] = x;
      op.version = tflite_op_version(g_, op);
    }
    out.push_back(std::move(op));
  }
  // Drop DEQUANTIZE ops whose output nobody reads any more.
  std::fill(readers.begin(), readers.end(), 0);
  for (const auto& op : out) for (int32_t t : op.inputs) if (t >= 0) ++readers[t];
  for (int32_t t : g_.outputs) ++readers[t];
  ops_.clear();
  for (auto& op : out)
    if (!(op.kind == OpKind::kDequantize && readers[op.outputs[0]] == 0)) ops_.push_back(std::move(op));
}

Result<IntegerResult> IntegerRewriter::run() {
  QDET_TRY(src_.verify());
  if (act() != DType::kInt8 && act() != DType::kInt16)
    return invalid_argument("integer activations must be int8 or int16, not {}", dtype_name(act()));
  if (act() == DType::kInt8 && opt_.io == IoType::kInt16)
    return invalid_argument("--io int16 needs int16x8 mode");
  if (act() == DType::kInt16 && (opt_.io == IoType::kInt8 || opt_.io == IoType::kUInt8))
    return invalid_argument("int16x8 models take float or int16 I/O, not {}", io_type_name(opt_.io));
  keys_ = tensor_keys(src_);
  const size_t n = src_.tensors.size();
  int_id_.assign(n, -1);
  float_id_.assign(n, -1);
  is_graph_output_.assign(n, 0);
  for (int32_t t : src_.outputs) is_graph_output_[t] = 1;
  for (size_t t = 0; t < n; ++t) float_id_[t] = static_cast<int32_t>(t);
  QDET_TRY(setup_inputs());
  // Which ops are quantized (and why not, for the others) is decided once, before the rewrite:
  // the concatenation rule below looks ahead at readers.
  std::vector<char> will_quantize(src_.ops.size());
  std::vector<std::string> why_not(src_.ops.size());
  for (size_t i = 0; i < src_.ops.size(); ++i)
    will_quantize[i] = !opt_.float_ops.count(static_cast<int32_t>(i)) && decide(i, &why_not[i]);
  {
    const auto producers = src_.producers();
    const auto consumers = src_.consumers();
    concat_target_.assign(n, -1);
    for (size_t t = 0; t < n; ++t) {
      if (consumers[t].size() != 1 || is_graph_output_[t] || producers[t] < 0) continue;
      const int32_t c = consumers[t][0];
      const Op& cop = src_.ops[c];
      if (cop.kind != OpKind::kConcatenation || !will_quantize[c] || !will_quantize[producers[t]] ||
          cop.outputs.empty() || std::count(cop.inputs.begin(), cop.inputs.end(), static_cast<int32_t>(t)) != 1)
        continue;
      concat_target_[t] = cop.outputs[0];
    }
  }

  int quantized = 0;
  for (size_t i = 0; i < src_.ops.size(); ++i) {
    const Op& sop = src_.ops[i];
    const bool q = will_quantize[i];
    const std::string& why = why_not[i];
    if (!q && !opt_.float_ops.count(static_cast<int32_t>(i))) {
      bool touches_float = false;
      for (size_t k = 0; k < sop.inputs.size(); ++k)
        if (sop.inputs[k] >= 0 && !src_.tensors[sop.inputs[k]].is_constant() &&
            src_.tensors[sop.inputs[k]].dtype == DType::kFloat32)
          touches_float = true;
      if (touches_float && notes_)
        notes_->warnings.push_back(fmt::format("op {} ({}, output '{}') kept in float: {}", i,
                                               sop.name(),
                                               sop.outputs.empty() ? "" : src_.tensors[sop.outputs[0]].name,
                                               why));
    }
    if (q) {
      QDET_TRY(quantize_op(i).with_context(fmt::format("op {} ({})", i, sop.name())));
      ++quantized;
      continue;
    }
    float_ops_.insert(static_cast<int32_t>(i));
    Op op = sop;
    for (int32_t& t : op.inputs)
      if (t >= 0) t = get_float(t);  // the float version, made on first use
    for (int32_t o : op.outputs)
      if (o >= 0) float_id_[o] = o;
    ops_.push_back(std::move(op));
  }
  for (int32_t t : src_.outputs)
    if (opt_.io != IoType::kFloat && int_id_[t] < 0 && src_.tensors[t].dtype == DType::kFloat32 &&
        notes_)
      notes_->warnings.push_back(fmt::format(
          "output '{}' stays float32: it is computed in float", src_.tensors[t].name));
  if (!missing_.empty()) {
    std::sort(missing_.begin(), missing_.end());
    missing_.erase(std::unique(missing_.begin(), missing_.end()), missing_.end());
    std::string list;
    for (size_t k = 0; k < missing_.size() && k < 8; ++k) list += (k ? ", " : "") + ("'" + missing_[k] + "'");
    if (missing_.size() > 8) list += fmt::format(", ... ({} more)", missing_.size() - 8);
    return not_found("no calibration range for {} tensor(s): {}", missing_.size(), list);
  }
  if (quantized == 0) return invalid_argument("nothing to quantize: no op of this model can run in {}",
                                              act() == DType::kInt16 ? "16x8" : "int8");
  fold_dequantize_quantize();
  g_.ops = std::move(ops_);
  IntegerResult result;
  result.tensor_map.assign(n, -1);
  for (size_t t = 0; t < n; ++t) result.tensor_map[t] = int_id_[t] >= 0 ? int_id_[t] : float_id_[t];
  const auto map = remove_unused_tensors(model_);
  for (int32_t& t : result.tensor_map) if (t >= 0) t = map[t];
  QDET_TRY(model_.graph.verify().with_context("integer rewrite: result"));
  result.float_ops = float_ops_;
  if (notes_ && concat_inputs_shared_ > 0)
    notes_->info.push_back(fmt::format(
        "{} concatenation inputs written at their concatenation's scale (no requantization)",
        concat_inputs_shared_));
  if (notes_ && bias_corrected_ > 0)
    notes_->info.push_back(fmt::format("bias correction: {} ops", bias_corrected_));
  if (notes_)
    notes_->info.push_back(fmt::format("{}: {} ops quantized, {} kept in float",
                                       act() == DType::kInt16 ? "int16x8" : "int8", quantized,
                                       float_ops_.size()));
  result.model = std::move(model_);
  return result;
}

}  // namespace

Result<IntegerResult> quantize_integer(const Model& float_model, const RangeMap& ranges,
                                       const IntegerOptions& options, Notes* notes) {
  IntegerRewriter rewriter(float_model, ranges, options, notes);
  return rewriter.run();
}

}  // namespace qdet::quant
