// Test-only whole-model runner for the quantized oracle tests, until qdet::rt::Interpreter lands:
// runs a graph op by op with the reference kernels of a KernelRegistry (prepare once with no data
// on activations, then eval), and falls back to small test-only versions of the dtype-generic
// layout ops the oracle models use (RESHAPE, PAD, MAX_POOL_2D, RESIZE_NEAREST_NEIGHBOR,
// STRIDED_SLICE on 8-bit tensors) when the registry has no kernel for them. Every shape a kernel
// computes is checked against the shape stored in the file.
#pragma once

#include <cmath>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "base/status.h"
#include "graph/graph.h"
#include "runtime/kernel.h"
#include "runtime/kernel_registry.h"
#include "runtime/kernels/reference/quantized/quantized_common.h"

namespace qdet::rt::testing {

class QuantizedModelRunner {
 public:
  explicit QuantizedModelRunner(const graph::Graph& g) : g_(g) {}

  // `skip_ops_without_kernel`: ops with neither a kernel nor a fallback are skipped (their
  // outputs stay zero) instead of failing, e.g. to check the tensors before a custom op.
  Status prepare(const KernelRegistry& registry, bool skip_ops_without_kernel = false) {
    const size_t n = g_.tensors.size();
    refs_.resize(n);
    buffers_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const graph::Tensor& t = g_.tensors[i];
      TensorRef& r = refs_[i];
      r.id = static_cast<int32_t>(i);
      r.dtype = t.dtype;
      r.shape = t.shape;
      r.quant = &t.quant;
      r.is_constant = t.is_constant();
      r.data = r.is_constant ? const_cast<uint8_t*>(t.data.data()) : nullptr;
    }
    steps_.clear();
    for (size_t k = 0; k < g_.ops.size(); ++k) {
      const graph::Op& op = g_.ops[k];
      Step step;
      step.op = &op;
      for (int32_t id : op.inputs) step.inputs.push_back(id >= 0 ? &refs_[static_cast<size_t>(id)] : nullptr);
      for (int32_t id : op.outputs) step.outputs.push_back(&refs_[static_cast<size_t>(id)]);
      Status last = not_found("op {} ({}): no kernel", k, op.name());
      for (const Kernel* kernel : registry.candidates(op.kind, /*allow_fast=*/false)) {
        PrepareContext ctx{op, static_cast<int32_t>(k), std::span<TensorRef* const>(step.inputs),
                           std::span<TensorRef* const>(step.outputs)};
        Status s = kernel->prepare(ctx);
        if (s.code() == StatusCode::kUnsupported) {
          last = s;
          continue;
        }
        if (!s.ok()) return s.with_context(fmt::format("op {} ({})", k, op.name()));
        step.kernel = kernel;
        step.op_data = std::move(ctx.op_data);
        step.scratch.resize(ctx.scratch_bytes + 64);
        break;
      }
      if (step.kernel == nullptr && !has_fallback(op.kind)) {
        if (skip_ops_without_kernel) continue;
        return last.with_context(fmt::format("op {} ({})", k, op.name()));
      }
      for (int32_t id : op.outputs) {
        const graph::Tensor& t = g_.tensors[static_cast<size_t>(id)];
        if (!t.shape.empty() && refs_[static_cast<size_t>(id)].shape != t.shape)
          return internal_error("op {} ({}): computed shape {} but the file says {}", k, op.name(),
                                shape_to_string(refs_[static_cast<size_t>(id)].shape),
                                shape_to_string(t.shape));
      }
      steps_.push_back(std::move(step));
    }
    for (size_t i = 0; i < n; ++i)
      if (!refs_[i].is_constant) {
        buffers_[i].assign(refs_[i].byte_size(), 0);
        refs_[i].data = buffers_[i].data();
      }
    return ok_status();
  }

  // Copies `bytes` into graph input i.
  Status set_input(size_t i, std::span<const uint8_t> bytes) {
    TensorRef& r = refs_[static_cast<size_t>(g_.inputs[i])];
    if (bytes.size() != r.byte_size())
      return invalid_argument("input {}: {} bytes, expected {}", i, bytes.size(), r.byte_size());
    std::memcpy(r.data, bytes.data(), bytes.size());
    return ok_status();
  }

  Status run() {
    for (size_t k = 0; k < steps_.size(); ++k) {
      Step& s = steps_[k];
      Status st;
      if (s.kernel != nullptr) {
        auto addr = reinterpret_cast<uintptr_t>(s.scratch.data());
        EvalContext ctx{*s.op, std::span<TensorRef* const>(s.inputs),
                        std::span<TensorRef* const>(s.outputs), s.op_data.get(),
                        s.scratch.data() + ((64 - addr % 64) % 64)};
        st = s.kernel->eval(ctx);
      } else {
        st = run_fallback(s);
      }
      if (!st.ok()) return st.with_context(fmt::format("op {} ({})", k, s.op->name()));
    }
    return ok_status();
  }

  const TensorRef& tensor(int32_t id) const { return refs_[static_cast<size_t>(id)]; }
  const TensorRef& output(size_t i) const { return refs_[static_cast<size_t>(g_.outputs[i])]; }

 private:
  struct Step {
    const graph::Op* op = nullptr;
    std::vector<TensorRef*> inputs, outputs;
    const Kernel* kernel = nullptr;
    std::unique_ptr<OpData> op_data;
    std::vector<uint8_t> scratch;
  };

  static bool has_fallback(graph::OpKind k) {
    using graph::OpKind;
    return k == OpKind::kReshape || k == OpKind::kPad || k == OpKind::kMaxPool2d ||
           k == OpKind::kResizeNearestNeighbor || k == OpKind::kStridedSlice;
  }

  static std::vector<int64_t> int_values(const TensorRef& t) {
    std::vector<int64_t> v(static_cast<size_t>(t.num_elements()));
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = t.dtype == DType::kInt64 ? t.as<const int64_t>()[i] : t.as<const int32_t>()[i];
    return v;
  }

  Status run_fallback(Step& s) {
    const TensorRef& in = *s.inputs[0];
    TensorRef& out = *s.outputs[0];
    if (dtype_size(in.dtype) != 1 || dtype_size(out.dtype) != 1)
      return unsupported("test runner fallback handles 8-bit tensors only");
    const uint8_t* src = in.as<const uint8_t>();
    uint8_t* dst = out.as<uint8_t>();
    const graph::OpAttrs& a = s.op->attrs;
    switch (s.op->kind) {
      case graph::OpKind::kReshape:
        std::memcpy(dst, src, out.byte_size());
        return ok_status();
      case graph::OpKind::kPad: {
        // Quantized PAD pads with the output's zero point (TFLite pad.cc).
        const auto pads = int_values(*s.inputs[1]);
        const uint8_t fill = static_cast<uint8_t>(out.zero_point());
        std::memset(dst, fill, out.byte_size());
        const size_t rank = in.shape.size();
        std::vector<int64_t> idx(rank, 0);
        for (int64_t i = 0; i < in.num_elements(); ++i) {
          int64_t o = 0;
          for (size_t d = 0; d < rank; ++d) o = o * out.shape[d] + idx[d] + pads[2 * d];
          dst[o] = src[i];
          for (int d = static_cast<int>(rank) - 1; d >= 0; --d)
            if (++idx[static_cast<size_t>(d)] < in.shape[static_cast<size_t>(d)]) break;
            else idx[static_cast<size_t>(d)] = 0;
        }
        return ok_status();
      }
      case graph::OpKind::kMaxPool2d: {
        const int32_t H = in.shape[1], W = in.shape[2], C = in.shape[3];
        const int32_t OH = out.shape[1], OW = out.shape[2];
        const int32_t ph = quantized::conv_leading_padding(a.stride_h, 1, H, a.filter_h, OH);
        const int32_t pw = quantized::conv_leading_padding(a.stride_w, 1, W, a.filter_w, OW);
        QDET_ASSIGN_OR_RETURN(ActivationRange act,
                              activation_range_quantized(a.activation, out.dtype, out.scale(),
                                                         out.zero_point()));
        const bool is_signed = in.dtype == DType::kInt8;
        for (int32_t b = 0; b < in.shape[0]; ++b)
          for (int32_t oy = 0; oy < OH; ++oy)
            for (int32_t ox = 0; ox < OW; ++ox)
              for (int32_t c = 0; c < C; ++c) {
                int32_t m = std::numeric_limits<int32_t>::min();
                for (int32_t fy = 0; fy < a.filter_h; ++fy)
                  for (int32_t fx = 0; fx < a.filter_w; ++fx) {
                    const int32_t iy = oy * a.stride_h - ph + fy, ix = ox * a.stride_w - pw + fx;
                    if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                    const uint8_t raw = src[((static_cast<int64_t>(b) * H + iy) * W + ix) * C + c];
                    m = std::max(m, is_signed ? int32_t{static_cast<int8_t>(raw)} : int32_t{raw});
                  }
                m = std::clamp(m, act.min, act.max);
                dst[((static_cast<int64_t>(b) * OH + oy) * OW + ox) * C + c] = static_cast<uint8_t>(m);
              }
        return ok_status();
      }
      case graph::OpKind::kResizeNearestNeighbor: {
        const int32_t H = in.shape[1], W = in.shape[2], C = in.shape[3];
        const int32_t OH = out.shape[1], OW = out.shape[2];
        auto nearest = [&](int32_t v, int32_t in_size, int32_t out_size) {
          const float scale = (a.align_corners && out_size > 1)
                                  ? static_cast<float>(in_size - 1) / static_cast<float>(out_size - 1)
                                  : static_cast<float>(in_size) / static_cast<float>(out_size);
          const float offset = a.half_pixel_centers ? 0.5f : 0.0f;
          int32_t r = a.align_corners ? static_cast<int32_t>(std::round((v + offset) * scale))
                                      : static_cast<int32_t>(std::floor((v + offset) * scale));
          r = std::min(r, in_size - 1);
          return a.half_pixel_centers ? std::max(0, r) : r;
        };
        for (int32_t b = 0; b < in.shape[0]; ++b)
          for (int32_t oy = 0; oy < OH; ++oy)
            for (int32_t ox = 0; ox < OW; ++ox)
              std::memcpy(dst + ((static_cast<int64_t>(b) * OH + oy) * OW + ox) * C,
                          src + ((static_cast<int64_t>(b) * H + nearest(oy, H, OH)) * W + nearest(ox, W, OW)) * C,
                          static_cast<size_t>(C));
        return ok_status();
      }
      case graph::OpKind::kStridedSlice: {
        if (a.ellipsis_mask != 0 || a.new_axis_mask != 0 || a.offset)
          return unsupported("test runner STRIDED_SLICE: ellipsis/new-axis/offset");
        const auto begin = int_values(*s.inputs[1]), end = int_values(*s.inputs[2]);
        const auto strides = int_values(*s.inputs[3]);
        const size_t rank = in.shape.size();
        std::vector<int64_t> start(rank), stop(rank), step(rank);
        for (size_t d = 0; d < rank; ++d) {
          const int64_t dim = in.shape[d];
          const int64_t st = d < strides.size() ? strides[d] : 1;
          auto clampi = [&](int64_t v) {
            if (v < 0) v += dim;
            return st > 0 ? std::clamp<int64_t>(v, 0, dim) : std::clamp<int64_t>(v, -1, dim - 1);
          };
          step[d] = st;
          start[d] = (a.begin_mask >> d & 1) ? (st > 0 ? 0 : dim - 1) : clampi(begin[d]);
          if (a.shrink_axis_mask >> d & 1)
            stop[d] = start[d] + 1;
          else
            stop[d] = (a.end_mask >> d & 1) ? (st > 0 ? dim : -1) : clampi(end[d]);
        }
        int64_t o = 0;
        std::vector<int64_t> idx(start);
        auto inside = [&](size_t d) { return step[d] > 0 ? idx[d] < stop[d] : idx[d] > stop[d]; };
        for (size_t d = 0; d < rank; ++d)
          if (!inside(d)) return ok_status();  // empty
        while (true) {
          int64_t i = 0;
          for (size_t d = 0; d < rank; ++d) i = i * in.shape[d] + idx[d];
          if (o >= out.num_elements()) return internal_error("STRIDED_SLICE: output overflow");
          dst[o++] = src[i];
          int d = static_cast<int>(rank) - 1;
          for (; d >= 0; --d) {
            idx[static_cast<size_t>(d)] += step[static_cast<size_t>(d)];
            if (inside(static_cast<size_t>(d))) break;
            idx[static_cast<size_t>(d)] = start[static_cast<size_t>(d)];
          }
          if (d < 0) break;
        }
        if (o != out.num_elements()) return internal_error("STRIDED_SLICE: wrote {} of {}", o, out.num_elements());
        return ok_status();
      }
      default:
        return unsupported("no fallback");
    }
  }

  const graph::Graph& g_;
  std::vector<TensorRef> refs_;
  std::vector<std::vector<uint8_t>> buffers_;
  std::vector<Step> steps_;
};

}  // namespace qdet::rt::testing
