#include "runtime/scatter_update.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "base/simd_clones.h"
#include "runtime/denormals.h"
#include "runtime/kernels/reference/common.h"

namespace qdet::rt {
namespace {

using graph::OpKind;

struct ScatterUpdateData : OpData {
  int64_t slice_size = 0;
  std::vector<int64_t> offsets;  // each update slice's first output element
  bool adds_to_zero = true;      // SCATTER_ND adds each update to its zeros; PAD copies it
  mutable std::vector<float> placed;  // the scatter's (or the PAD's) values there, per run
};


constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

// XNNPACK's f32 MUL and ADD clamp their result to [output_min, output_max] = [-inf, inf]: the
// maximum (x86's, taking its second operand when the first is NaN) makes NaN -inf.
__attribute__((always_inline)) inline float clamped(float v) { return v >= kMinusInf ? v : kMinusInf; }

// out = ADD(MUL(x, k), 0): the positions no update touches (run with DenormalsOff). Compiled without FMA contraction
// (CMakeLists.txt): the product is rounded before the sum, as the unfused ops round it.
QDET_SIMD_CLONES void multiply_add_zero(const float* __restrict x, const float* __restrict k, float* __restrict out,
                                        size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = clamped(clamped(x[i] * k[i]) + 0.0f);
}

const TensorRef* constant_input(const graph::Op& op, size_t i, const std::vector<TensorRef>& tensors) {
  if (i >= op.inputs.size() || op.inputs[i] < 0) return nullptr;
  const TensorRef& t = tensors[op.inputs[i]];
  return t.is_constant && t.data ? &t : nullptr;
}


// Each update slice's first output element, from constant indices: nullopt when an index is out
// of range or two slices overlap (SCATTER_ND would add them).
template <typename I>
std::optional<std::vector<int64_t>> slice_offsets(const I* indices, int64_t slices, int64_t depth,
                                                  const Shape& shape, int64_t slice_size) {
  const auto strides = ref::strides_of(shape);
  std::vector<int64_t> offsets(static_cast<size_t>(slices));
  for (int64_t s = 0; s < slices; ++s) {
    int64_t pos = 0;
    for (int64_t d = 0; d < depth; ++d) {
      const int64_t idx = indices[s * depth + d];
      if (idx < 0 || idx >= shape[d]) return std::nullopt;
      pos += idx * strides[d];
    }
    offsets[s] = pos;
  }
  std::vector<int64_t> sorted = offsets;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 1; i < sorted.size(); ++i)
    if (sorted[i] - sorted[i - 1] < slice_size) return std::nullopt;
  return offsets;
}

// Where a zero PAD of `in` puts each input element in its output: nullopt unless the padding
// is constant, non-negative and the pad value +0.0.
std::optional<std::vector<int64_t>> pad_offsets(const graph::Op& pad, const std::vector<TensorRef>& tensors,
                                                const Shape& in, const Shape& out) {
  const TensorRef* paddings = constant_input(pad, 1, tensors);
  const size_t rank = in.size();
  if (!paddings || paddings->dtype != DType::kInt32 || paddings->num_elements() != static_cast<int64_t>(2 * rank) ||
      out.size() != rank)
    return std::nullopt;
  if (pad.kind == OpKind::kPadV2 && pad.inputs.size() > 2 && pad.inputs[2] >= 0) {
    const TensorRef* value = constant_input(pad, 2, tensors);
    uint32_t bits = 1;
    if (value && value->dtype == DType::kFloat32 && value->num_elements() == 1) std::memcpy(&bits, value->data, 4);
    if (bits != 0) return std::nullopt;
  }
  const int32_t* p = paddings->as<const int32_t>();
  for (size_t d = 0; d < rank; ++d)
    if (p[2 * d] < 0 || p[2 * d + 1] < 0 || in[d] + p[2 * d] + p[2 * d + 1] != out[d]) return std::nullopt;
  const auto strides = ref::strides_of(out);
  std::vector<int64_t> offsets(static_cast<size_t>(num_elements(in)));
  std::vector<int64_t> index(rank, 0);
  for (size_t i = 0; i < offsets.size(); ++i) {
    int64_t pos = 0;
    for (size_t d = 0; d < rank; ++d) pos += (index[d] + p[2 * d]) * strides[d];
    offsets[i] = pos;
    for (size_t d = rank; d-- > 0;) {  // the next index, last dim fastest
      if (++index[d] < in[d]) break;
      index[d] = 0;
    }
  }
  return offsets;
}

Status fused_prepare(PrepareContext&) { return internal_error("scatter-update: planned, not prepared"); }

Status fused_eval(EvalContext& ctx) {
  const auto& d = *op_data_as<ScatterUpdateData>(ctx);
  const float* x = ctx.inputs[0]->as<const float>();
  const float* k = ctx.inputs[1]->as<const float>();
  const float* u = ctx.inputs[2]->as<const float>();
  float* out = ctx.outputs[0]->as<float>();
  const size_t n = static_cast<size_t>(ctx.outputs[0]->num_elements());
  constexpr size_t kBlock = 16 * 1024;
  const size_t blocks = (n + kBlock - 1) / kBlock;
  ref::parallel_for(blocks > 1 ? ctx.threadpool : nullptr, blocks, [&](size_t b) {
    const size_t begin = b * kBlock;
    DenormalsOff xnnpack_mode;
    multiply_add_zero(x + begin, k + begin, out + begin, std::min(kBlock, n - begin));
  });
  // SCATTER_ND (qdet's reference kernel, denormals on) adds each update to its zeros; a PAD
  // copies it.
  std::vector<float>& scattered = d.placed;
  scattered.resize(d.offsets.size() * static_cast<size_t>(d.slice_size));
  for (size_t i = 0; i < scattered.size(); ++i) scattered[i] = d.adds_to_zero ? 0.0f + u[i] : u[i];
  DenormalsOff xnnpack_mode;
  for (size_t s = 0; s < d.offsets.size(); ++s) {
    const int64_t o = d.offsets[s];
    const float* slice = scattered.data() + static_cast<int64_t>(s) * d.slice_size;
    for (int64_t j = 0; j < d.slice_size; ++j) out[o + j] = clamped(clamped(x[o + j] * k[o + j]) + slice[j]);
  }
  return ok_status();
}

}  // namespace

std::optional<ScatterUpdate> find_scatter_update(const graph::Graph& g, int32_t add_op,
                                                 const std::vector<TensorRef>& tensors,
                                                 const std::vector<const char*>& kernel_names,
                                                 const std::vector<int32_t>& producers,
                                                 const std::vector<std::vector<int32_t>>& consumers) {
  auto is = [&](int32_t op, const char* name) {
    return op >= 0 && kernel_names[op] != nullptr && std::strcmp(kernel_names[op], name) == 0;
  };
  const graph::Op& add = g.ops[add_op];
  if (add.kind != OpKind::kAdd || add.inputs.size() != 2 || add.outputs.size() != 1 || !is(add_op, "xnnpack") ||
      add.attrs.activation != graph::Activation::kNone || add.inputs[0] < 0 || add.inputs[1] < 0)
    return std::nullopt;
  const TensorRef& out = tensors[add.outputs[0]];
  if (out.dtype != DType::kFloat32) return std::nullopt;
  for (int side = 0; side < 2; ++side) {
    const int32_t mul_out = add.inputs[side], scatter_out = add.inputs[1 - side];
    const int32_t mul_op = producers[mul_out], scatter_op = producers[scatter_out];
    if (mul_op < 0 || scatter_op < 0 || g.ops[mul_op].kind != OpKind::kMul || !is(mul_op, "xnnpack")) continue;
    const graph::Op& mul = g.ops[mul_op];
    const graph::Op& scatter = g.ops[scatter_op];
    const bool is_pad = scatter.kind == OpKind::kPad || scatter.kind == OpKind::kPadV2;
    if (!(scatter.kind == OpKind::kScatterNd && is(scatter_op, "reference") && scatter.inputs.size() == 3) &&
        !(is_pad && scatter.inputs.size() >= 2))
      continue;
    if (mul.inputs.size() != 2 || mul.attrs.activation != graph::Activation::kNone ||
        !g.read_only_by(mul_out, add_op, consumers) || !g.read_only_by(scatter_out, add_op, consumers))
      continue;
    // MUL(x, K) or MUL(K, x): K constant, x not.
    const int kside = constant_input(mul, 1, tensors) ? 1 : 0;
    const TensorRef* k = constant_input(mul, kside, tensors);
    const int32_t updates_id = scatter.inputs[is_pad ? 0 : 1];
    if (!k || mul.inputs[1 - kside] < 0 || updates_id < 0) continue;
    const TensorRef& x = tensors[mul.inputs[1 - kside]];
    const TensorRef& updates = tensors[updates_id];
    if (x.is_constant || x.dtype != DType::kFloat32 || k->dtype != DType::kFloat32 ||
        updates.dtype != DType::kFloat32 || x.shape != out.shape || k->shape != out.shape ||
        tensors[mul_out].shape != out.shape || tensors[scatter_out].shape != out.shape)
      continue;
    auto data = std::make_unique<ScatterUpdateData>();
    if (is_pad) {
      auto offsets = pad_offsets(scatter, tensors, updates.shape, out.shape);
      if (!offsets) continue;
      data->slice_size = 1;
      data->offsets = std::move(*offsets);
      data->adds_to_zero = false;
    } else {
      const TensorRef* indices = constant_input(scatter, 0, tensors);
      if (!indices || indices->shape.empty()) continue;
      const int64_t depth = indices->shape.back();
      if (depth < 1 || depth > static_cast<int64_t>(out.shape.size())) continue;
      const int64_t slices = indices->num_elements() / depth;
      int64_t slice_size = 1;
      for (size_t i = static_cast<size_t>(depth); i < out.shape.size(); ++i) slice_size *= out.shape[i];
      if (updates.num_elements() != slices * slice_size) continue;
      std::optional<std::vector<int64_t>> offsets;
      if (indices->dtype == DType::kInt32)
        offsets = slice_offsets(indices->as<const int32_t>(), slices, depth, out.shape, slice_size);
      else if (indices->dtype == DType::kInt64)
        offsets = slice_offsets(indices->as<const int64_t>(), slices, depth, out.shape, slice_size);
      if (!offsets) continue;
      data->slice_size = slice_size;
      data->offsets = std::move(*offsets);
    }
    ScatterUpdate found;
    found.add_op = add_op;
    found.mul_op = mul_op;
    found.scatter_op = scatter_op;
    found.x = mul.inputs[1 - kside];
    found.k = mul.inputs[kside];
    found.updates = updates_id;
    found.data = std::move(data);
    return found;
  }
  return std::nullopt;
}

const Kernel kScatterUpdateKernel = {"scatter-update", fused_prepare, fused_eval};

}  // namespace qdet::rt
