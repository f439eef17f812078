#include "quant/head_aware.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "graph/op_traits.h"
#include "quant/graph_edit.h"

namespace qdet::quant {

namespace {

bool is_weighted(OpKind k) { return graph::op_traits(k).weighted(); }

bool has_table_constant(const Graph& g, const Op& op) {
  for (int32_t t : op.inputs) {
    if (t < 0 || !g.tensors[t].is_constant() || g.tensors[t].dtype != DType::kFloat32) continue;
    auto v = constant_values(g.tensors[t]);
    if (!v.ok() || v->size() < 2) continue;
    if (std::any_of(v->begin(), v->end(), [&](float x) { return x != (*v)[0]; })) return true;
  }
  return false;
}

std::string op_label(const Graph& g, int32_t i) {
  const Op& op = g.ops[i];
  return fmt::format("op {} {} '{}'", i, op.name(),
                     op.outputs.empty() || op.outputs[0] < 0 ? "" : g.tensors[op.outputs[0]].name);
}

// The float decisions being made: each op's first reason to stay float (empty: none yet).
// Each rule below adds its reasons; a later rule may read the reasons of earlier ones.
class FloatChooser {
 public:
  FloatChooser(const Graph& g, const RangeMap* ranges, const HeadAwareOptions& options)
      : g_(g), ranges_(ranges), options_(options), n_(static_cast<int32_t>(g.ops.size())),
        consumers_(g.consumers()), keys_(tensor_keys(g)), reason_(n_) {}

  // Post-processing: TFLite_Detection_PostProcess and everything after it.
  void keep_post_processing() {
    for (int32_t i = 0; i < n_; ++i)
      if (g_.ops[i].kind == OpKind::kDetectionPostProcess) {
        keep(i, "detection post-processing (custom op, float inputs)");
        keep_after(i, "after TFLite_Detection_PostProcess");
      }
  }

  // The decode tail: after the last weighted op, the ops that decode boxes (EXP, SCATTER_ND,
  // arithmetic with grid/stride/anchor tables, concatenations of very different ranges), what
  // follows them, and the rest of the tail that feeds them: the score sigmoids, reshapes,
  // transposes and concatenations between the last convolutions and the decode (an int8
  // LOGISTIC has a fixed step of 1/256, too coarse for the 0.001..0.05 scores that decide the
  // ranking).
  void keep_decode_tail() {
    const std::vector<char> weighted_after = weighted_downstream();
    std::vector<char> trigger(n_, 0);
    for (int32_t i = 0; i < n_; ++i) {
      if (weighted_after[i]) continue;
      const std::string why = decode_reason(g_.ops[i]);
      if (why.empty()) continue;
      keep(i, "decode tail: " + why);
      keep_after(i, "decode tail: after " + op_label(g_, i));
      trigger[i] = 1;
    }
    std::vector<char> feeds(n_, 0);
    for (int32_t i = n_ - 1; i >= 0; --i) {
      if (weighted_after[i]) continue;
      for (int32_t t : g_.ops[i].outputs)
        if (t >= 0)
          for (int32_t c : consumers_[t])
            if (!weighted_after[c] && (trigger[c] || feeds[c] || !reason_[c].empty())) feeds[i] = 1;
      if (feeds[i] && !is_weighted(g_.ops[i].kind)) keep(i, "decode tail: feeds the float decode");
    }
  }

  // The last convolutions: a weighted op whose every reader is kept float, a graph output
  // counting as a float reader (the detector's post-processing decodes it in float: darknet's
  // [yolo] layers, raw head outputs). Its output channels mix box regressions, objectness and
  // class logits of very different ranges
  // (YOLOv5's 255 = 3 x (xy, wh, obj, 80 classes)); one int8 scale rounds the boxes or
  // clips the logits, and a float reader gains nothing from an int8 output.
  // Decided on the kept set before this rule, so it never cascades up the backbone.
  // Not with TFLite_Detection_PostProcess: those heads (SSD's box predictors) already put
  // boxes and classes in separate convolutions, and they are a large share of the weights.
  void keep_head_convolutions() {
    const bool has_postprocess = std::any_of(g_.ops.begin(), g_.ops.end(), [](const Op& op) {
      return op.kind == OpKind::kDetectionPostProcess;
    });
    if (has_postprocess) return;
    const std::vector<std::string> before = reason_;
    std::vector<char> is_output(g_.tensors.size(), 0);
    for (int32_t t : g_.outputs)
      if (t >= 0) is_output[t] = 1;
    for (int32_t i = 0; i < n_; ++i) {
      const Op& op = g_.ops[i];
      if (!is_weighted(op.kind) || !before[i].empty()) continue;
      bool any = false, all = true;
      for (int32_t t : op.outputs) {
        if (t < 0) continue;
        any = any || is_output[t];  // a graph output is read by the float post-processing
        for (int32_t c : consumers_[t]) {
          any = true;
          all = all && !before[c].empty();
        }
      }
      if (any && all) keep(i, fmt::format("last {}: every reader is float (head outputs of mixed ranges)", op.name()));
    }
  }

  // Integers as floats: a CAST to float32 (class indices).
  void keep_casts_to_float() {
    for (int32_t i = 0; i < n_; ++i)
      if (g_.ops[i].kind == OpKind::kCast && !g_.ops[i].outputs.empty() &&
          g_.tensors[g_.ops[i].outputs[0]].dtype == DType::kFloat32)
        keep(i, "integer values as float (class indices)");
  }

  // Depthwise inputs whose channels use the range very unevenly: the small channels would
  // get a few levels of the shared scale, the depthwise weights scale their error up and
  // no later op can undo it. The depthwise and the ops that make its input, back to the
  // convolution that produced it, stay float (the input then is never quantized).
  void keep_uneven_depthwise_inputs() {
    std::vector<int32_t> producer(g_.tensors.size(), -1);
    for (int32_t i = 0; i < n_; ++i)
      for (int32_t t : g_.ops[i].outputs) if (t >= 0) producer[t] = i;
    for (int32_t i = 0; i < n_; ++i) {
      const Op& op = g_.ops[i];
      if (op.kind != OpKind::kDepthwiseConv2d || op.inputs.empty() || op.inputs[0] < 0) continue;
      const auto it = options_.channel_spreads.find(keys_[op.inputs[0]]);
      if (it == options_.channel_spreads.end() || it->second <= options_.max_channel_spread) continue;
      const std::string why = fmt::format(
          "channels of '{}' span {:.0f}x of its range (> {:.0f}x): one int8 scale would erase the small ones",
          g_.tensors[op.inputs[0]].name, it->second, options_.max_channel_spread);
      keep(i, why);
      // Its own activation (SiLU) too: int8 there would be an island between float ops, two
      // more roundings and nothing gained.
      for (int32_t a : own_activations(g_, consumers_, i)) keep(a, why);
      // Back through the elementwise/layout ops (PAD, SiLU's MUL and LOGISTIC, ...) to the
      // weighted op that made the tensor; a bounded walk, graphs can be wide.
      std::vector<int32_t> stack{op.inputs[0]};
      std::set<int32_t> seen;
      while (!stack.empty() && seen.size() < 16) {
        const int32_t t = stack.back();
        stack.pop_back();
        const int32_t p = producer[t];
        if (p < 0 || !seen.insert(p).second) continue;
        keep(p, why);
        if (is_weighted(g_.ops[p].kind)) continue;
        for (int32_t x : g_.ops[p].inputs)
          if (x >= 0 && !g_.tensors[x].is_constant()) stack.push_back(x);
      }
    }
  }

  // The user's --keep-float names: an op name or kind, "#<index>", or an output tensor's name or key.
  Status keep_named() {
    for (const std::string& name : options_.keep_float) {
      bool matched = false;
      for (int32_t i = 0; i < n_; ++i) {
        const Op& op = g_.ops[i];
        bool m = name == op.name() || name == fmt::format("#{}", i);
        for (int32_t t : op.outputs) m = m || (t >= 0 && (g_.tensors[t].name == name || keys_[t] == name));
        if (m) {
          keep(i, "--keep-float " + name);
          matched = true;
        }
      }
      if (!matched) return not_found("--keep-float: no op, op kind or output tensor named '{}'", name);
    }
    return ok_status();
  }

  std::vector<FloatDecision> decisions() const {
    std::vector<FloatDecision> out;
    for (int32_t i = 0; i < n_; ++i)
      if (!reason_[i].empty()) out.push_back({i, reason_[i]});
    return out;
  }

 private:
  void keep(int32_t i, std::string why) {
    if (reason_[i].empty()) reason_[i] = std::move(why);
  }

  // Everything downstream of op `from` (in execution order, so one forward pass suffices).
  void keep_after(int32_t from, const std::string& why) {
    std::vector<char> tainted(g_.tensors.size(), 0);
    for (int32_t t : g_.ops[from].outputs) if (t >= 0) tainted[t] = 1;
    for (int32_t i = from + 1; i < n_; ++i) {
      const Op& op = g_.ops[i];
      if (!std::any_of(op.inputs.begin(), op.inputs.end(), [&](int32_t t) { return t >= 0 && tainted[t]; }))
        continue;
      keep(i, why);
      for (int32_t t : op.outputs) if (t >= 0) tainted[t] = 1;
    }
  }

  // Per op: is it, or does anything it feeds include, a weighted op?
  std::vector<char> weighted_downstream() const {
    std::vector<char> weighted_after(n_, 0);
    for (int32_t i = n_ - 1; i >= 0; --i) {
      const Op& op = g_.ops[i];
      bool w = is_weighted(op.kind);
      for (int32_t t : op.outputs)
        if (t >= 0)
          for (int32_t c : consumers_[t]) w = w || weighted_after[c];
      weighted_after[i] = w;
    }
    return weighted_after;
  }

  // Why an op of the tail decodes boxes; empty when it does not.
  std::string decode_reason(const Op& op) const {
    if (op.kind == OpKind::kExp) return "EXP";
    if (op.kind == OpKind::kScatterNd) return "SCATTER_ND";
    if ((op.kind == OpKind::kAdd || op.kind == OpKind::kSub || op.kind == OpKind::kMul || op.kind == OpKind::kDiv) &&
        has_table_constant(g_, op))
      return fmt::format("{} with a grid/stride/anchor table", op.name());
    if (op.kind != OpKind::kConcatenation || !ranges_) return "";
    double lo = INFINITY, hi = 0;
    for (int32_t t : op.inputs) {
      auto it = t >= 0 ? ranges_->find(keys_[t]) : ranges_->end();
      if (it == ranges_->end()) return "";
      const double a = std::max(std::fabs(it->second.min), std::fabs(it->second.max));
      lo = std::min(lo, a);
      hi = std::max(hi, a);
    }
    if (op.inputs.size() > 1 && hi > options_.concat_ratio * lo)
      return fmt::format("CONCATENATION of ranges {:.3g} to {:.3g} ({}x apart, > {}x)", lo, hi,
                         lo > 0 ? fmt::format("{:.1f}", hi / lo) : std::string("inf"), options_.concat_ratio);
    return "";
  }

  const Graph& g_;
  const RangeMap* ranges_;
  const HeadAwareOptions& options_;
  const int32_t n_;
  const std::vector<std::vector<int32_t>> consumers_;
  const std::vector<std::string> keys_;
  std::vector<std::string> reason_;
};

}  // namespace

Result<std::vector<FloatDecision>> choose_float_ops(const Graph& g, const RangeMap* ranges,
                                                    const HeadAwareOptions& options) {
  FloatChooser chooser(g, ranges, options);
  if (options.enabled) {
    chooser.keep_post_processing();
    chooser.keep_decode_tail();
    if (options.float_head_convs) chooser.keep_head_convolutions();
    chooser.keep_casts_to_float();
    if (options.max_channel_spread > 0) chooser.keep_uneven_depthwise_inputs();
  }
  QDET_TRY(chooser.keep_named());
  return chooser.decisions();
}

std::vector<std::string> describe_float_ops(const Graph& g, const std::vector<FloatDecision>& d) {
  std::vector<std::string> lines;
  for (size_t k = 0; k < d.size();) {
    size_t e = k + 1;
    while (e < d.size() && d[e].reason == d[k].reason) ++e;
    if (e - k == 1)
      lines.push_back(fmt::format("{}: {}", op_label(g, d[k].op), d[k].reason));
    else
      lines.push_back(fmt::format("{} ops from {}: {}", e - k, op_label(g, d[k].op), d[k].reason));
    k = e;
  }
  return lines;
}

}  // namespace qdet::quant
