#include "quant/head_aware.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "graph/op_traits.h"
#include "quant/graph_edit.h"

namespace qdet::quant {

using graph::Graph;
using graph::Op;
using graph::OpKind;

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

}  // namespace

Result<std::vector<FloatDecision>> choose_float_ops(const Graph& g, const RangeMap* ranges,
                                                    const HeadAwareOptions& options) {
  const auto n = static_cast<int32_t>(g.ops.size());
  const auto consumers = g.consumers();
  const auto keys = tensor_keys(g);
  std::vector<std::string> reason(n);
  auto keep = [&](int32_t i, std::string why) {
    if (reason[i].empty()) reason[i] = std::move(why);
  };
  // Everything downstream of op i (in execution order, so one forward pass suffices).
  auto keep_after = [&](int32_t from, const std::string& why) {
    std::vector<char> tainted(g.tensors.size(), 0);
    for (int32_t t : g.ops[from].outputs) if (t >= 0) tainted[t] = 1;
    for (int32_t i = from + 1; i < n; ++i) {
      const Op& op = g.ops[i];
      if (!std::any_of(op.inputs.begin(), op.inputs.end(), [&](int32_t t) { return t >= 0 && tainted[t]; }))
        continue;
      keep(i, why);
      for (int32_t t : op.outputs) if (t >= 0) tainted[t] = 1;
    }
  };

  if (options.enabled) {
    // 1. Post-processing.
    for (int32_t i = 0; i < n; ++i)
      if (g.ops[i].kind == OpKind::kDetectionPostProcess) {
        keep(i, "detection post-processing (custom op, float inputs)");
        keep_after(i, "after TFLite_Detection_PostProcess");
      }
    // 2. The decode tail.
    std::vector<char> weighted_after(n, 0);
    for (int32_t i = n - 1; i >= 0; --i) {
      const Op& op = g.ops[i];
      bool w = is_weighted(op.kind);
      for (int32_t t : op.outputs)
        if (t >= 0)
          for (int32_t c : consumers[t]) w = w || weighted_after[c];
      weighted_after[i] = w;
    }
    std::vector<char> trigger(n, 0);
    for (int32_t i = 0; i < n; ++i) {
      if (weighted_after[i]) continue;
      const Op& op = g.ops[i];
      std::string why;
      if (op.kind == OpKind::kExp) {
        why = "EXP";
      } else if (op.kind == OpKind::kScatterNd) {
        why = "SCATTER_ND";
      } else if ((op.kind == OpKind::kAdd || op.kind == OpKind::kSub || op.kind == OpKind::kMul ||
                  op.kind == OpKind::kDiv) && has_table_constant(g, op)) {
        why = fmt::format("{} with a grid/stride/anchor table", op.name());
      } else if (op.kind == OpKind::kConcatenation && ranges) {
        double lo = INFINITY, hi = 0;
        bool all = true;
        for (int32_t t : op.inputs) {
          auto it = t >= 0 ? ranges->find(keys[t]) : ranges->end();
          if (it == ranges->end()) {
            all = false;
            break;
          }
          const double a = std::max(std::fabs(it->second.min), std::fabs(it->second.max));
          lo = std::min(lo, a);
          hi = std::max(hi, a);
        }
        if (all && op.inputs.size() > 1 && hi > options.concat_ratio * lo)
          why = fmt::format("CONCATENATION of ranges {:.3g} to {:.3g} ({}x apart, > {}x)", lo, hi,
                            lo > 0 ? fmt::format("{:.1f}", hi / lo) : std::string("inf"),
                            options.concat_ratio);
      }
      if (why.empty()) continue;
      keep(i, "decode tail: " + why);
      keep_after(i, "decode tail: after " + op_label(g, i));
      trigger[i] = 1;
    }
    // The rest of the tail that feeds a kept op: the score sigmoids, reshapes, transposes and
    // concatenations between the last convolutions and the decode (an int8 LOGISTIC has a fixed
    // step of 1/256, too coarse for the 0.001..0.05 scores that decide the ranking).
    std::vector<char> feeds(n, 0);
    for (int32_t i = n - 1; i >= 0; --i) {
      if (weighted_after[i]) continue;
      for (int32_t t : g.ops[i].outputs)
        if (t >= 0)
          for (int32_t c : consumers[t])
            if (!weighted_after[c] && (trigger[c] || feeds[c] || !reason[c].empty())) feeds[i] = 1;
      if (feeds[i] && !is_weighted(g.ops[i].kind))
        keep(i, "decode tail: feeds the float decode");
    }
    // 2b. The last convolutions: a weighted op whose every reader is kept float. Its output
    //     channels mix box regressions, objectness and class logits of very different ranges
    //     (YOLOv5's 255 = 3 x (xy, wh, obj, 80 classes)); one int8 scale rounds the boxes or
    //     clips the logits, and a float reader gains nothing from an int8 output.
    //     Decided on the kept set before this rule, so it never cascades up the backbone.
    //     Not with TFLite_Detection_PostProcess: those heads (SSD's box predictors) already put
    //     boxes and classes in separate convolutions, and they are a large share of the weights.
    const bool has_postprocess = std::any_of(g.ops.begin(), g.ops.end(), [](const Op& op) {
      return op.kind == OpKind::kDetectionPostProcess;
    });
    if (options.float_head_convs && !has_postprocess) {
      const std::vector<std::string> before = reason;
      for (int32_t i = 0; i < n; ++i) {
        const Op& op = g.ops[i];
        if (!is_weighted(op.kind) || !before[i].empty()) continue;
        bool any = false, all = true;
        for (int32_t t : op.outputs)
          if (t >= 0)
            for (int32_t c : consumers[t]) {
              any = true;
              all = all && !before[c].empty();
            }
        if (any && all)
          keep(i, fmt::format("last {}: every reader is float (head outputs of mixed ranges)",
                              op.name()));
      }
    }
    // 3. Integers as floats.
    for (int32_t i = 0; i < n; ++i)
      if (g.ops[i].kind == OpKind::kCast && !g.ops[i].outputs.empty() &&
          g.tensors[g.ops[i].outputs[0]].dtype == DType::kFloat32)
        keep(i, "integer values as float (class indices)");
    // 4. Depthwise inputs whose channels use the range very unevenly: the small channels would
    //    get a few levels of the shared scale, the depthwise weights scale their error up and
    //    no later op can undo it. The depthwise and the ops that make its input, back to the
    //    convolution that produced it, stay float (the input then is never quantized).
    if (options.max_channel_spread > 0) {
      std::vector<int32_t> producer(g.tensors.size(), -1);
      for (int32_t i = 0; i < n; ++i)
        for (int32_t t : g.ops[i].outputs) if (t >= 0) producer[t] = i;
      for (int32_t i = 0; i < n; ++i) {
        const Op& op = g.ops[i];
        if (op.kind != OpKind::kDepthwiseConv2d || op.inputs.empty() || op.inputs[0] < 0) continue;
        const auto it = options.channel_spreads.find(keys[op.inputs[0]]);
        if (it == options.channel_spreads.end() || it->second <= options.max_channel_spread) continue;
        const std::string why = fmt::format(
            "channels of '{}' span {:.0f}x of its range (> {:.0f}x): one int8 scale would erase the small ones",
            g.tensors[op.inputs[0]].name, it->second, options.max_channel_spread);
        keep(i, why);
        // Its own activation (SiLU) too: int8 there would be an island between float ops, two
        // more roundings and nothing gained.
        for (int32_t a : own_activations(g, consumers, i)) keep(a, why);
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
          if (is_weighted(g.ops[p].kind)) continue;
          for (int32_t x : g.ops[p].inputs)
            if (x >= 0 && !g.tensors[x].is_constant()) stack.push_back(x);
        }
      }
    }
  }
  // 5. The user's names.
  for (const std::string& name : options.keep_float) {
    bool matched = false;
    for (int32_t i = 0; i < n; ++i) {
      const Op& op = g.ops[i];
      bool m = name == op.name() || name == "#" + std::to_string(i);
      for (int32_t t : op.outputs) m = m || (t >= 0 && (g.tensors[t].name == name || keys[t] == name));
      if (m) {
        keep(i, "--keep-float " + name);
        matched = true;
      }
    }
    if (!matched)
      return not_found("--keep-float: no op, op kind or output tensor named '{}'", name);
  }
  std::vector<FloatDecision> out;
  for (int32_t i = 0; i < n; ++i)
    if (!reason[i].empty()) out.push_back({i, reason[i]});
  return out;
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
