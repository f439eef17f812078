#include "runtime/concat_silu.h"

#include <algorithm>

#include "runtime/kernels/reference/common.h"
#include "runtime/kernels/reference/strided_copy.h"
#include "runtime/lut_fusion.h"

namespace qdet::rt {
namespace {

using graph::OpKind;

enum class Source : uint8_t { kCopy, kSilu, kSiluAdd };

struct Part {
  Source source = Source::kCopy;
  int64_t channels = 0, offset = 0;  // its columns in the output
  size_t first_input = 0;            // its tensors among the fused op's inputs
};

struct ConcatSiluData : OpData {
  std::vector<Part> parts;
  int64_t rows = 0, out_channels = 0, chunk_rows = 1;
};

constexpr int64_t kChunkFloats = 4096;  // 16 KiB: a chunk of one part's SiLU stays in L1

Status fused_prepare(PrepareContext&) { return internal_error("concat-silu: planned, not prepared"); }

Status fused_eval(EvalContext& ctx) {
  const auto& d = *static_cast<const ConcatSiluData*>(ctx.op_data);
  float* out = ctx.outputs[0]->as<float>();
  const int64_t chunks = (d.rows + d.chunk_rows - 1) / d.chunk_rows;
  ref::parallel_for(chunks > 1 ? ctx.threadpool : nullptr, static_cast<size_t>(chunks), [&](size_t chunk) {
    alignas(64) float buffer[kChunkFloats];
    const int64_t r0 = static_cast<int64_t>(chunk) * d.chunk_rows, rows = std::min(d.chunk_rows, d.rows - r0);
    for (const Part& p : d.parts) {
      const float* src = ctx.inputs[p.first_input]->as<const float>() + r0 * p.channels;
      const size_t n = static_cast<size_t>(rows * p.channels);
      if (p.source == Source::kSilu) {
        silu_float(src, buffer, n);
        src = buffer;
      } else if (p.source == Source::kSiluAdd) {
        silu_add_float(src, ctx.inputs[p.first_input + 1]->as<const float>() + r0 * p.channels, buffer, n);
        src = buffer;
      }
      const int64_t row_bytes = p.channels * static_cast<int64_t>(sizeof(float));
      ref::copy_rows(reinterpret_cast<uint8_t*>(out + r0 * d.out_channels + p.offset),
                     d.out_channels * static_cast<int64_t>(sizeof(float)), reinterpret_cast<const uint8_t*>(src),
                     row_bytes, rows, static_cast<size_t>(row_bytes));
    }
  });
  return ok_status();
}

}  // namespace

std::optional<ConcatSilu> find_concat_silu(const graph::Graph& g, int32_t concat_op,
                                           const std::vector<TensorRef>& tensors,
                                           const std::vector<const Kernel*>& plan_kernels,
                                           const std::vector<std::vector<TensorRef*>>& plan_inputs,
                                           const std::vector<int32_t>& producers,
                                           const std::vector<std::vector<int32_t>>& consumers) {
  const graph::Op& concat = g.ops[concat_op];
  if (concat.kind != OpKind::kConcatenation || concat.inputs.empty() || concat.outputs.size() != 1 ||
      concat.attrs.activation != graph::Activation::kNone)
    return std::nullopt;
  const TensorRef& out = tensors[concat.outputs[0]];
  const int rank = static_cast<int>(out.shape.size());
  if (out.dtype != DType::kFloat32 || rank < 1 || (concat.attrs.axis != rank - 1 && concat.attrs.axis != -1))
    return std::nullopt;
  const int64_t out_channels = out.shape.back();
  if (out_channels <= 0) return std::nullopt;
  const int64_t rows = out.num_elements() / out_channels;
  ConcatSilu found;
  auto data = std::make_unique<ConcatSiluData>();
  int64_t offset = 0, widest = 1;
  for (int32_t id : concat.inputs) {
    if (id < 0) return std::nullopt;
    const TensorRef& y = tensors[id];
    if (y.dtype != DType::kFloat32 || y.shape.size() != out.shape.size() || y.shape.back() <= 0 ||
        y.num_elements() / y.shape.back() != rows)
      return std::nullopt;
    Part part;
    part.channels = y.shape.back();
    part.offset = offset;
    part.first_input = found.inputs.size();
    offset += part.channels;
    widest = std::max(widest, part.channels);
    const int32_t p = producers[id];
    const bool sole = p >= 0 && g.read_only_by(id, concat_op, consumers);
    const Kernel* k = sole ? plan_kernels[p] : nullptr;
    if (k == &kSiluFloatKernel && plan_inputs[p].size() == 1) {
      part.source = Source::kSilu;
    } else if (k == &kSiluAddFloatKernel && plan_inputs[p].size() == 2) {
      part.source = Source::kSiluAdd;
    }
    if (part.source == Source::kCopy) {
      found.inputs.push_back(id);
    } else {
      for (const TensorRef* in : plan_inputs[p]) {
        if (!in || in->dtype != DType::kFloat32 || in->num_elements() != y.num_elements()) return std::nullopt;
        found.inputs.push_back(in->id);
      }
      found.fused_ops.push_back(p);
    }
    data->parts.push_back(part);
  }
  if (found.fused_ops.empty() || offset != out_channels) return std::nullopt;
  data->rows = rows;
  data->out_channels = out_channels;
  data->chunk_rows = std::max<int64_t>(1, kChunkFloats / widest);
  if (widest > kChunkFloats) return std::nullopt;
  found.data = std::move(data);
  return found;
}

const Kernel kConcatSiluKernel = {"concat-silu", fused_prepare, fused_eval};

}  // namespace qdet::rt
