#include "quant/gptq.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <random>

#include "quant/graph_edit.h"
#include "runtime/interpreter.h"
#include "runtime/kernel_util.h"
#include "base/simd_clones.h"

namespace qdet::quant {

namespace {

// One weighted op: its input patches are vectors of K values in the weights' order, so that
// output channel c is dot(weights of c, patch).
struct Layer {
  int32_t op = -1;
  int32_t weights = -1;  // tensor id
  OpKind kind = OpKind::kConv2d;
  int32_t k = 0;         // patch length (per channel for depthwise)
  int32_t channels = 0;  // output channels
  int32_t axis = 0;      // the weights' channel axis
  // Sums of x x^T: one K x K matrix (upper triangle filled), or one per channel for depthwise.
  std::vector<double> h;
};

// TFLite's convolution geometry, as the runtime's kernels compute it.
using Window = rt::ConvGeometry;

// The patch of output position (oy, ox) in weight order (ky, kx, c); zeros where padded.
void patch(const Window& w, const float* x, int32_t oy, int32_t ox, float* out) {
  for (int32_t ky = 0; ky < w.k_h; ++ky)
    for (int32_t kx = 0; kx < w.k_w; ++kx) {
      const int32_t iy = oy * w.stride_h - w.pad_top + ky * w.dil_h;
      const int32_t ix = ox * w.stride_w - w.pad_left + kx * w.dil_w;
      float* dst = out + (static_cast<size_t>(ky) * w.k_w + kx) * w.in_c;
      if (iy < 0 || iy >= w.in_h || ix < 0 || ix >= w.in_w)
        std::fill(dst, dst + w.in_c, 0.f);
      else
        std::memcpy(dst, x + (static_cast<size_t>(iy) * w.in_w + ix) * w.in_c, sizeof(float) * w.in_c);
    }
}

// h (k x k, upper triangle) += S^T S for the p rows of s (p x k), blocked so that a block of
// h's rows stays in cache while s streams.
QDET_SIMD_CLONES void add_outer(
    double* h, const float* s, int32_t p, int32_t k) {
  constexpr int32_t kBlock = 32;
  for (int32_t i0 = 0; i0 < k; i0 += kBlock) {
    const int32_t i1 = std::min(k, i0 + kBlock);
    for (int32_t r = 0; r < p; ++r) {
      const float* row = s + static_cast<size_t>(r) * k;
      for (int32_t i = i0; i < i1; ++i) {
        const double v = row[i];
        if (v == 0) continue;
        double* hi = h + static_cast<size_t>(i) * k;
        for (int32_t j = i; j < k; ++j) hi[j] += v * row[j];
      }
    }
  }
}

// In-place lower Cholesky factor of the symmetric positive definite n x n matrix a (full).
bool cholesky(std::vector<double>& a, int32_t n) {
  for (int32_t j = 0; j < n; ++j) {
    double d = a[static_cast<size_t>(j) * n + j];
    const double* aj = &a[static_cast<size_t>(j) * n];
    for (int32_t k = 0; k < j; ++k) d -= aj[k] * aj[k];
    if (!(d > 0)) return false;
    d = std::sqrt(d);
    a[static_cast<size_t>(j) * n + j] = d;
    for (int32_t i = j + 1; i < n; ++i) {
      double* ai = &a[static_cast<size_t>(i) * n];
      double t = ai[j];
      for (int32_t k = 0; k < j; ++k) t -= ai[k] * aj[k];
      ai[j] = t / d;
    }
    for (int32_t k = j + 1; k < n; ++k) a[static_cast<size_t>(j) * n + k] = 0;
  }
  return true;
}

// The lower Cholesky factor of H^-1, from H (full, damped): GPTQ's U is its transpose.
bool inverse_cholesky(std::vector<double> h, int32_t n, std::vector<double>& out) {
  if (!cholesky(h, n)) return false;
  // L^-1 (lower), then H^-1 = L^-T L^-1.
  std::vector<double> li(static_cast<size_t>(n) * n, 0.0);
  for (int32_t i = 0; i < n; ++i) {
    li[static_cast<size_t>(i) * n + i] = 1.0 / h[static_cast<size_t>(i) * n + i];
    for (int32_t j = 0; j < i; ++j) {
      double s = 0;
      for (int32_t k = j; k < i; ++k) s += h[static_cast<size_t>(i) * n + k] * li[static_cast<size_t>(k) * n + j];
      li[static_cast<size_t>(i) * n + j] = -s / h[static_cast<size_t>(i) * n + i];
    }
  }
  out.assign(static_cast<size_t>(n) * n, 0.0);
  for (int32_t i = 0; i < n; ++i)
    for (int32_t j = 0; j <= i; ++j) {
      double s = 0;
      for (int32_t k = i; k < n; ++k) s += li[static_cast<size_t>(k) * n + i] * li[static_cast<size_t>(k) * n + j];
      out[static_cast<size_t>(i) * n + j] = out[static_cast<size_t>(j) * n + i] = s;
    }
  return cholesky(out, n);
}

// e^T H e for the rounding error e of one channel (h full).
double output_error(const std::vector<double>& h, const std::vector<double>& e) {
  const size_t n = e.size();
  double t = 0;
  for (size_t i = 0; i < n; ++i) {
    if (e[i] == 0) continue;
    double r = 0;
    for (size_t j = 0; j < n; ++j) r += h[i * n + j] * e[j];
    t += e[i] * r;
  }
  return t;
}

// GPTQ over one matrix problem: `w` (k weights of one channel, in patch order), scale s; u is the
// lower Cholesky factor of the damped H^-1. Writes the int8 values and returns the error terms.
void round_channel(std::vector<double> w, double s, const std::vector<double>& u, int32_t k,
                   std::vector<int8_t>& q) {
  for (int32_t i = 0; i < k; ++i) {
    const double n = std::clamp(std::nearbyint(w[i] / s), -127.0, 127.0);
    q[i] = static_cast<int8_t>(n);
    const double err = (w[i] - n * s) / u[static_cast<size_t>(i) * k + i];
    for (int32_t j = i + 1; j < k; ++j) w[j] -= err * u[static_cast<size_t>(j) * k + i];
  }
}

// The op as a GPTQ layer: a float CONV_2D, DEPTHWISE_CONV_2D (with o.depthwise) or
// FULLY_CONNECTED whose constant float weights only it reads; nullopt for any other op.
std::optional<Layer> layer_of(const Graph& g, const std::vector<std::vector<int32_t>>& consumers, size_t i,
                              const GptqOptions& o) {
  const Op& op = g.ops[i];
  if (op.inputs.size() < 2 || op.inputs[0] < 0 || op.inputs[1] < 0) return std::nullopt;
  const auto& in = g.tensors[op.inputs[0]];
  const auto& w = g.tensors[op.inputs[1]];
  if (!w.is_constant() || w.dtype != DType::kFloat32 || in.dtype != DType::kFloat32) return std::nullopt;
  if (consumers[op.inputs[1]].size() != 1) return std::nullopt;
  if (op.kind == OpKind::kDepthwiseConv2d && !o.depthwise) return std::nullopt;
  Layer l;
  l.op = static_cast<int32_t>(i);
  l.weights = op.inputs[1];
  l.kind = op.kind;
  if (op.kind == OpKind::kConv2d && w.shape.size() == 4 && in.shape.size() == 4 && w.shape[3] == in.shape[3]) {
    l.k = w.shape[1] * w.shape[2] * w.shape[3];
    l.channels = w.shape[0];
    l.axis = 0;
  } else if (op.kind == OpKind::kDepthwiseConv2d && w.shape.size() == 4 && in.shape.size() == 4 &&
             w.shape[0] == 1 && w.shape[3] == in.shape[3]) {
    l.k = w.shape[1] * w.shape[2];
    l.channels = w.shape[3];
    l.axis = 3;
  } else if (op.kind == OpKind::kFullyConnected && w.shape.size() == 2 && !in.shape.empty() &&
             in.num_elements() % w.shape[1] == 0) {
    l.k = w.shape[1];
    l.channels = w.shape[0];
    l.axis = 0;
  } else {
    return std::nullopt;
  }
  return l;
}

std::vector<Layer> find_layers(const Graph& g, const std::set<int32_t>& skip_ops, const GptqOptions& o) {
  const auto consumers = g.consumers();
  std::vector<Layer> layers;
  for (size_t i = 0; i < g.ops.size(); ++i) {
    if (skip_ops.count(static_cast<int32_t>(i))) continue;
    if (auto l = layer_of(g, consumers, i, o)) layers.push_back(std::move(*l));
  }
  return layers;
}

// H takes k^2 doubles per layer (per channel for depthwise), all held while the samples run:
// the smallest layers first within the memory budget (their H allocated); the rest keep
// nearest rounding and are counted in result.over_budget.
std::vector<Layer> keep_within_budget(std::vector<Layer> layers, size_t max_bytes, GptqResult& result) {
  auto h_bytes = [](const Layer& l) {
    const size_t per = static_cast<size_t>(l.k) * l.k * sizeof(double);
    return l.kind == OpKind::kDepthwiseConv2d ? per * l.channels : per;
  };
  std::vector<size_t> order(layers.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return h_bytes(layers[a]) < h_bytes(layers[b]); });
  std::vector<char> fits(layers.size(), 0);
  size_t used = 0;
  for (size_t i : order) {
    if (used + h_bytes(layers[i]) > max_bytes) break;
    used += h_bytes(layers[i]);
    fits[i] = 1;
  }
  std::vector<Layer> kept;
  for (size_t i = 0; i < layers.size(); ++i) {
    if (!fits[i]) {
      ++result.over_budget;
      continue;
    }
    layers[i].h.assign(h_bytes(layers[i]) / sizeof(double), 0.0);
    kept.push_back(std::move(layers[i]));
  }
  return kept;
}

// Buffers reused from layer to layer while the statistics are gathered.
struct SampleScratch {
  std::vector<float> rows;
  std::vector<int32_t> positions;
};

// Adds one sample's input patches of layer l to its H: o.positions_per_image output positions
// drawn with `rng` (a seeded partial shuffle), all of them when there are fewer.
Status add_sample_statistics(const Graph& g, const rt::Interpreter& interp, const GptqOptions& o,
                             std::mt19937& rng, SampleScratch& scratch, Layer& l) {
  const Op& op = g.ops[l.op];
  const auto& in = interp.tensor(op.inputs[0]);
  const float* x = in.as<const float>();
  const auto& ws = g.tensors[l.weights].shape;
  int32_t count = 0;
  Window win{};
  if (l.kind == OpKind::kFullyConnected) {
    count = static_cast<int32_t>(in.num_elements() / l.k);
  } else {
    QDET_TRY(rt::fill_conv_geometry(in, ws[1], ws[2], l.channels, nullptr, op.attrs, &win));
    count = win.batches * win.out_h * win.out_w;
  }
  std::vector<int32_t>& positions = scratch.positions;
  positions.resize(static_cast<size_t>(count));
  for (int32_t i = 0; i < count; ++i) positions[i] = i;
  const int32_t take = std::min(count, o.positions_per_image);
  for (int32_t i = 0; i < take; ++i)  // a seeded partial shuffle: the first `take` positions
    std::swap(positions[i], positions[std::uniform_int_distribution<int32_t>(i, count - 1)(rng)]);
  const int32_t width = l.kind == OpKind::kDepthwiseConv2d ? l.k * l.channels : l.k;
  std::vector<float>& rows = scratch.rows;
  rows.assign(static_cast<size_t>(take) * width, 0.f);
  for (int32_t r = 0; r < take; ++r) {
    float* row = rows.data() + static_cast<size_t>(r) * width;
    const int32_t pos = positions[r];
    if (l.kind == OpKind::kFullyConnected) {
      std::memcpy(row, x + static_cast<size_t>(pos) * l.k, sizeof(float) * l.k);
      continue;
    }
    const int32_t per_image = win.out_h * win.out_w;
    const float* xb = x + static_cast<size_t>(pos / per_image) * win.in_h * win.in_w * win.in_c;
    patch(win, xb, (pos % per_image) / win.out_w, pos % win.out_w, row);
  }
  if (l.kind != OpKind::kDepthwiseConv2d) {
    add_outer(l.h.data(), rows.data(), take, l.k);
    return ok_status();
  }
  // Depthwise: channel c's patch is every in_c-th value of the row (ky, kx, c order).
  std::vector<float> ch(static_cast<size_t>(take) * l.k);
  for (int32_t c = 0; c < l.channels; ++c) {
    for (int32_t r = 0; r < take; ++r)
      for (int32_t t = 0; t < l.k; ++t)
        ch[static_cast<size_t>(r) * l.k + t] = rows[static_cast<size_t>(r) * width + static_cast<size_t>(t) * l.channels + c];
    add_outer(l.h.data() + static_cast<size_t>(c) * l.k * l.k, ch.data(), take, l.k);
  }
  return ok_status();
}

// Runs the float model over the samples, every layer's H summing its input patches.
Status gather_statistics(const Graph& g, std::span<const std::vector<uint8_t>> samples, const GptqOptions& o,
                         void (*progress)(const char*, size_t, size_t), std::vector<Layer>& layers) {
  rt::InterpreterOptions io;
  io.keep_intermediates = true;
  io.exact_float = true;  // what TFLite's converter computes: XNNPACK's float bytes on every CPU
  QDET_ASSIGN_OR_RETURN(auto interp, rt::Interpreter::create(std::make_shared<const Graph>(g), io));
  if (interp->num_inputs() != 1) return invalid_argument("GPTQ: the model has {} inputs (1 expected)", interp->num_inputs());
  std::mt19937 rng(o.seed);
  SampleScratch scratch;
  for (size_t s = 0; s < samples.size(); ++s) {
    auto& input = interp->input(0);
    if (samples[s].size() != input.byte_size())
      return invalid_argument("GPTQ: sample {} has {} bytes, the input takes {}", s, samples[s].size(), input.byte_size());
    std::memcpy(input.data, samples[s].data(), samples[s].size());
    QDET_TRY(interp->invoke().with_context("GPTQ statistics"));
    for (auto& l : layers) QDET_TRY(add_sample_statistics(g, *interp, o, rng, scratch, l));
    if (progress) progress("GPTQ statistics", s + 1, samples.size());
  }
  return ok_status();
}

// One k x k problem's H made full from its upper triangle (problem p of a depthwise layer).
std::vector<double> full_hessian(const Layer& l, int32_t p) {
  const size_t kk = static_cast<size_t>(l.k) * l.k;
  std::vector<double> h(l.h.begin() + static_cast<ptrdiff_t>(p * kk), l.h.begin() + static_cast<ptrdiff_t>((p + 1) * kk));
  for (int32_t i = 0; i < l.k; ++i)
    for (int32_t j = 0; j < i; ++j) h[static_cast<size_t>(i) * l.k + j] = h[static_cast<size_t>(j) * l.k + i];
  return h;
}

struct LayerRounding {
  QuantizedConstant qc;
  double err_nearest = 0, err_gptq = 0;  // e^T H e summed over the channels GPTQ rounded
  bool ok = true;                        // false: a damped H was not positive definite
};

// The layer's weights quantized (nearest, then MSE scales when asked), then rounded by GPTQ
// channel by channel against the damped H^-1.
Result<LayerRounding> round_layer(const Graph& g, const GptqOptions& o, const Layer& l) {
  LayerRounding out;
  const auto& wt = g.tensors[l.weights];
  QDET_ASSIGN_OR_RETURN(auto values, constant_values(wt));
  const int32_t axis = o.per_channel ? l.axis : -1;
  QDET_ASSIGN_OR_RETURN(out.qc, quantize_weights_symmetric(values, wt.shape, axis));
  QuantizedConstant& qc = out.qc;
  if (o.mse_scales) refine_weight_scales_mse(values, wt.shape, axis, qc);
  // Index of weight t of channel c in the tensor.
  auto index = [&](int32_t c, int32_t t) -> size_t {
    return l.axis == 3 ? static_cast<size_t>(t) * l.channels + c : static_cast<size_t>(c) * l.k + t;
  };
  const int32_t problems = l.kind == OpKind::kDepthwiseConv2d ? l.channels : 1;
  std::vector<int8_t> q(static_cast<size_t>(l.k));
  std::vector<double> w(static_cast<size_t>(l.k)), e(static_cast<size_t>(l.k));
  for (int32_t p = 0; p < problems; ++p) {
    const std::vector<double> h = full_hessian(l, p);
    std::vector<double> damped = h;
    double mean = 0;
    for (int32_t i = 0; i < l.k; ++i) mean += h[static_cast<size_t>(i) * l.k + i];
    mean /= l.k;
    if (!(mean > 0)) continue;  // the layer never saw a non-zero input: nearest stays
    for (int32_t i = 0; i < l.k; ++i) {
      double& d = damped[static_cast<size_t>(i) * l.k + i];
      if (d == 0) d = mean;  // an input that is always 0: its weights are free, keep them near
      d += o.damp * mean;
    }
    std::vector<double> u;
    if (!inverse_cholesky(std::move(damped), l.k, u)) {
      out.ok = false;
      return out;
    }
    const int32_t c0 = problems == 1 ? 0 : p, c1 = problems == 1 ? l.channels : p + 1;
    for (int32_t c = c0; c < c1; ++c) {
      const double s = qc.params.scale.size() > 1 ? qc.params.scale[c] : qc.params.scale[0];
      for (int32_t t = 0; t < l.k; ++t) w[t] = values[index(c, t)];
      round_channel(w, s, u, l.k, q);
      for (int32_t t = 0; t < l.k; ++t) e[t] = w[t] - static_cast<int8_t>(qc.data[index(c, t)]) * s;
      out.err_nearest += output_error(h, e);
      for (int32_t t = 0; t < l.k; ++t) {
        e[t] = w[t] - q[t] * s;
        qc.data[index(c, t)] = static_cast<uint8_t>(q[t]);
      }
      out.err_gptq += output_error(h, e);
    }
  }
  return out;
}

}  // namespace

Result<GptqResult> gptq_round_weights(const graph::Model& float_model,
                                      std::span<const std::vector<uint8_t>> samples,
                                      const std::set<int32_t>& skip_ops, const GptqOptions& o,
                                      void (*progress)(const char*, size_t, size_t)) {
  const Graph& g = float_model.graph;
  GptqResult result;
  std::vector<Layer> layers = find_layers(g, skip_ops, o);
  if (layers.empty() || samples.empty()) return result;
  layers = keep_within_budget(std::move(layers), o.max_bytes, result);
  if (layers.empty()) return result;
  QDET_TRY(gather_statistics(g, samples, o, progress, layers));
  for (size_t li = 0; li < layers.size(); ++li) {
    QDET_ASSIGN_OR_RETURN(LayerRounding r, round_layer(g, o, layers[li]));
    if (progress) progress("GPTQ rounding", li + 1, layers.size());
    if (!r.ok) continue;
    result.error_nearest += r.err_nearest;
    result.error_gptq += r.err_gptq;
    result.weights.emplace(layers[li].weights, std::move(r.qc));
    ++result.layers;
  }
  return result;
}

}  // namespace qdet::quant
