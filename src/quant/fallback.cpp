#include "quant/fallback.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "graph/op_traits.h"
#include "graph/stats.h"
#include "quant/calibrate.h"
#include "quant/graph_edit.h"

namespace qdet::quant {

namespace {

bool is_weighted(OpKind k) { return graph::op_traits(k).weighted(); }

}  // namespace

std::vector<FallbackUnit> fallback_units(const Graph& g, const std::set<int32_t>& float_ops) {
  const auto consumers = g.consumers();
  std::vector<FallbackUnit> units;
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const auto& op = g.ops[i];
    if (!is_weighted(op.kind) || float_ops.count(static_cast<int32_t>(i)) || op.outputs.empty())
      continue;
    FallbackUnit u;
    u.ops.push_back(static_cast<int32_t>(i));
    u.name = op.outputs[0] >= 0 ? g.tensors[op.outputs[0]].name : std::string();
    u.macs = std::max<int64_t>(graph::op_macs(g, op), 0);
    for (int32_t a : own_activations(g, consumers, static_cast<int32_t>(i), float_ops)) u.ops.push_back(a);
    units.push_back(std::move(u));
  }
  return units;
}

std::vector<FallbackUnit> head_input_units(const Graph& g, const std::set<int32_t>& float_ops) {
  const auto consumers = g.consumers();
  std::vector<FallbackUnit> out;
  for (auto& u : fallback_units(g, float_ops)) {
    const std::set<int32_t> inside(u.ops.begin(), u.ops.end());
    bool feeds_head = false;
    for (int32_t op : u.ops)
      for (int32_t t : g.ops[op].outputs)
        for (int32_t c : consumers[t])
          feeds_head = feeds_head || (!inside.count(c) && float_ops.count(c) && is_weighted(g.ops[c].kind));
    if (feeds_head) out.push_back(std::move(u));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

Result<std::unique_ptr<OutputProbe>> OutputProbe::create(const graph::Model& float_model,
                                                         std::vector<std::vector<uint8_t>> inputs,
                                                         int num_threads) {
  std::unique_ptr<OutputProbe> p(new OutputProbe());
  const Graph& g = float_model.graph;
  for (const auto& op : g.ops)
    if (op.kind == OpKind::kDetectionPostProcess)
      for (size_t k = 0; k < std::min<size_t>(op.inputs.size(), 2); ++k) p->probes_.push_back(op.inputs[k]);
  if (p->probes_.empty()) p->probes_ = g.outputs;
  std::erase_if(p->probes_, [&](int32_t t) { return t < 0 || g.tensors[t].dtype != DType::kFloat32; });
  if (p->probes_.empty()) return unsupported("the model has no float32 output to compare");
  if (inputs.empty()) return invalid_argument("no samples to compare the outputs on");
  p->num_threads_ = num_threads;
  rt::InterpreterOptions o;
  o.keep_intermediates = true;
  o.exact_float = true;  // what TFLite's converter computes: XNNPACK's float bytes on every CPU
  o.num_threads = num_threads;
  QDET_ASSIGN_OR_RETURN(auto interp, rt::Interpreter::create(std::make_shared<const Graph>(g), o));
  if (interp->num_inputs() != 1) return unsupported("output comparison needs a model with one input");
  std::vector<float> v;
  for (const auto& in : inputs) {
    auto& t = interp->input(0);
    if (in.size() != t.byte_size())
      return invalid_argument("sample of {} bytes for an input of {}", in.size(), t.byte_size());
    std::memcpy(t.data, in.data(), in.size());
    QDET_TRY(interp->invoke().with_context("float model"));
    for (int32_t id : p->probes_) {
      if (!real_values(interp->tensor(id), &v)) return internal_error("float output unreadable");
      p->expected_.push_back(v);
    }
  }
  p->inputs_ = std::move(inputs);
  return p;
}

Result<double> OutputProbe::score_db(const graph::Model& quantized,
                                     const std::vector<int32_t>& tensor_map) {
  rt::InterpreterOptions o;
  o.keep_intermediates = true;
  o.exact_float = true;  // what TFLite's converter computes: XNNPACK's float bytes on every CPU
  o.num_threads = num_threads_;
  QDET_ASSIGN_OR_RETURN(auto interp,
                        rt::Interpreter::create(std::make_shared<const Graph>(quantized.graph), o));
  if (interp->num_inputs() != 1 || interp->input(0).byte_size() != inputs_[0].size())
    return invalid_argument("the quantized model's input does not take the float samples");
  // Per probe tensor and channel (last dimension): signal and noise sums.
  std::vector<std::vector<double>> signal(probes_.size()), noise(probes_.size());
  std::vector<float> q;
  for (size_t s = 0; s < inputs_.size(); ++s) {
    std::memcpy(interp->input(0).data, inputs_[s].data(), inputs_[s].size());
    QDET_TRY(interp->invoke().with_context("quantized model"));
    for (size_t p = 0; p < probes_.size(); ++p) {
      const int32_t id = probes_[p] < static_cast<int32_t>(tensor_map.size()) ? tensor_map[probes_[p]] : -1;
      if (id < 0) return internal_error("output '{}' has no counterpart in the quantized model", probes_[p]);
      const auto& f = expected_[s * probes_.size() + p];
      if (!real_values(interp->tensor(id), &q) || q.size() != f.size())
        return internal_error("output '{}' of the quantized model is unreadable", probes_[p]);
      const auto& shape = quantized.graph.tensors[id].shape;
      size_t channels = shape.empty() ? 1 : static_cast<size_t>(std::max<int64_t>(shape.back(), 1));
      if (channels > 4096 || f.size() % channels) channels = 1;
      signal[p].resize(channels);
      noise[p].resize(channels);
      for (size_t i = 0; i < f.size(); ++i) {
        const double d = static_cast<double>(f[i]) - q[i];
        signal[p][i % channels] += static_cast<double>(f[i]) * f[i];
        noise[p][i % channels] += d * d;
      }
    }
  }
  double ratio = 0;
  size_t n = 0;
  for (size_t p = 0; p < probes_.size(); ++p) {
    double mean_signal = 0;
    for (double x : signal[p]) mean_signal += x;
    mean_signal /= static_cast<double>(std::max<size_t>(signal[p].size(), 1));
    for (size_t c = 0; c < signal[p].size(); ++c) {
      // A channel that is (nearly) always zero is judged against the tensor's mean channel.
      ratio += noise[p][c] / std::max(signal[p][c], 1e-3 * mean_signal + 1e-30);
      ++n;
    }
  }
  ratio /= static_cast<double>(std::max<size_t>(n, 1));
  return ratio > 0 ? -10.0 * std::log10(ratio) : 300.0;
}

Result<std::vector<FallbackUnit>> rank_units(const graph::Model& float_model,
                                             const RangeMap& ranges, IntegerOptions options,
                                             OutputProbe& probe, double* base_db,
                                             void (*progress)(const char*, size_t, size_t)) {
  options.io = IoType::kFloat;
  const std::set<int32_t> base = options.float_ops;
  Notes quiet;
  QDET_ASSIGN_OR_RETURN(IntegerResult r0, quantize_integer(float_model, ranges, options, &quiet));
  QDET_ASSIGN_OR_RETURN(double b, probe.score_db(r0.model, r0.tensor_map));
  if (base_db) *base_db = b;
  auto units = fallback_units(float_model.graph, r0.float_ops);
  for (size_t i = 0; i < units.size(); ++i) {
    options.float_ops = base;
    options.float_ops.insert(units[i].ops.begin(), units[i].ops.end());
    QDET_ASSIGN_OR_RETURN(IntegerResult r, quantize_integer(float_model, ranges, options, &quiet));
    QDET_ASSIGN_OR_RETURN(double s, probe.score_db(r.model, r.tensor_map));
    units[i].gain_db = s - b;
    if (progress) progress("measuring sensitivity", i + 1, units.size());
  }
  std::stable_sort(units.begin(), units.end(),
                   [](const FallbackUnit& a, const FallbackUnit& b) { return a.gain_db > b.gain_db; });
  return units;
}

Result<std::vector<double>> score_prefixes(const graph::Model& float_model, const RangeMap& ranges,
                                           IntegerOptions options,
                                           const std::vector<FallbackUnit>& units,
                                           int64_t max_macs, OutputProbe& probe,
                                           void (*progress)(const char*, size_t, size_t)) {
  options.io = IoType::kFloat;
  size_t n = 0;
  for (int64_t macs = 0; n < units.size() && macs + units[n].macs <= max_macs; ++n) macs += units[n].macs;
  std::vector<double> scores;
  Notes quiet;
  for (size_t k = 0; k <= n; ++k) {
    if (k > 0) options.float_ops.insert(units[k - 1].ops.begin(), units[k - 1].ops.end());
    QDET_ASSIGN_OR_RETURN(IntegerResult r, quantize_integer(float_model, ranges, options, &quiet));
    QDET_ASSIGN_OR_RETURN(double s, probe.score_db(r.model, r.tensor_map));
    scores.push_back(s);
    if (progress) progress("scoring float prefixes", k + 1, n + 1);
  }
  return scores;
}

}  // namespace qdet::quant
