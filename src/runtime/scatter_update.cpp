#include "runtime/scatter_update.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include "base/simd_clones.h"
#include "runtime/denormals.h"
#include "runtime/kernels/reference/common.h"

namespace qdet::rt {
namespace {

using graph::OpKind;

// One position computed from its own K and scattered values: out = ADD(MUL(x, k), placed), with
// placed the update's value there (`placed` its index in ScatterUpdateData::placed) or +0 (-1).
struct Patch {
  int32_t at;
  int32_t placed;
  float k;
};

constexpr size_t kBlock = 16 * 1024;  // elements a task runs

struct ScatterUpdateData : OpData {
  int64_t slice_size = 0;
  std::vector<int64_t> offsets;  // each update slice's first output element
  bool adds_to_zero = true;      // SCATTER_ND adds each update to its zeros; PAD copies it
  // Where K is +1.0 (its bits) and no update lands, x * K = x: out = clamped(x + 0), K unread.
  // The other positions are `patches`, in order, each written after its block's pass. When they
  // are many (a K of arbitrary values) the pass reads K (`reads_k`) and the patches are the
  // updated positions alone.
  bool reads_k = false;
  std::vector<Patch> patches;
  std::vector<size_t> block_patches;  // the first patch of each kBlock block, and the end
  // The output's memory is x's (run_in_place, run_in_place_after). `cleans`: the pass reads each
  // block and rewrites only one where clamped(x + 0) is not x (NaN, -0, subnormals); else the
  // patches alone are written.
  bool in_place = false, cleans = false;
  // Over another scatter-update's output: the positions where that one placed an update and this
  // one does not, patched only when that run placed a -0 or a negative subnormal (`first`'s
  // placed_negative_zero), the one value there that clamped(x + 0) changes (to +0).
  const ScatterUpdateData* first = nullptr;
  std::vector<Patch> fixups;
  mutable std::vector<float> placed;   // the scatter's (or the PAD's) values, per run
  mutable bool placed_negative_zero = false;
  mutable std::vector<float> patched;  // in place and cleaning: the patches' results, per run
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

// The same where k is +1.0, without reading it: x * 1 is x bit for bit, NaN aside (NaN either
// way, which the clamp makes -inf), and with DenormalsOff a subnormal x reads as a zero of its
// sign in the product and in the sum alike (+0 after adding +0). So clamped(x + 0), the same bytes.
QDET_SIMD_CLONES void add_zero(const float* __restrict x, float* __restrict out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = clamped(x[i] + 0.0f);
}

// Patch `p`'s result (run with DenormalsOff).
inline float patch(const Patch& p, const float* x, const float* placed) {
  return clamped(clamped(x[p.at] * p.k) + (p.placed < 0 ? 0.0f : placed[p.placed]));
}

// The same in place.
QDET_SIMD_CLONES void add_zero_over(float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] = clamped(x[i] + 0.0f);
}

#if defined(__GNUC__) && defined(__x86_64__)
// Whether clamped(x + 0) differs from x anywhere in x[0, n) (NaN, -0, subnormals). max(v, -inf)
// takes -inf when v is NaN, as clamped() does.
__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl"))) bool add_zero_changes_avx512(const float* x, size_t n) {
  const __m512 zero = _mm512_setzero_ps(), minus_inf = _mm512_set1_ps(kMinusInf);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    const __m512 y = _mm512_max_ps(_mm512_add_ps(v, zero), minus_inf);
    if (_mm512_cmpneq_epi32_mask(_mm512_castps_si512(y), _mm512_castps_si512(v)) != 0) return true;
  }
  for (; i < n; ++i)
    if (std::bit_cast<uint32_t>(clamped(x[i] + 0.0f)) != std::bit_cast<uint32_t>(x[i])) return true;
  return false;
}
#endif

// Whether clamped(x + 0) may differ from x in x[0, n): true without AVX-512 (not checked there).
bool add_zero_changes(const float* x, size_t n) {
#if defined(__GNUC__) && defined(__x86_64__)
  if (cpu_has_avx512_v4()) return add_zero_changes_avx512(x, n);
#endif
  return true;
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

// The patches [begin, end).
void apply(const std::vector<Patch>& patches, size_t begin, size_t end, const float* x, const float* placed,
           float* out) {
  for (size_t i = begin; i < end; ++i) out[patches[i].at] = patch(patches[i], x, placed);
}

Status fused_eval(EvalContext& ctx) {
  const auto& d = *op_data_as<ScatterUpdateData>(ctx);
  const float* x = ctx.inputs[0]->as<const float>();
  const float* k = ctx.inputs[1]->as<const float>();
  const float* u = ctx.inputs[2]->as<const float>();
  float* out = ctx.outputs[0]->as<float>();
  const size_t n = static_cast<size_t>(ctx.outputs[0]->num_elements());
  // SCATTER_ND (qdet's reference kernel, denormals on) adds each update to its zeros; a PAD
  // copies it. Whether any is -0 or a negative subnormal (a -0 to the ADD, denormals off): for a
  // scatter-update run over this one's output.
  std::vector<float>& placed = d.placed;
  placed.resize(d.offsets.size() * static_cast<size_t>(d.slice_size));
  uint32_t negative_zero = 0;
  for (size_t i = 0; i < placed.size(); ++i) {
    placed[i] = d.adds_to_zero ? 0.0f + u[i] : u[i];
    negative_zero |= std::bit_cast<uint32_t>(placed[i]) - 0x80000000u < 0x00800000u;
  }
  d.placed_negative_zero = negative_zero != 0;
  if (d.in_place && static_cast<const float*>(out) != x)
    return internal_error("scatter-update: planned in place, but its output is not x");
  if (d.in_place && !d.cleans) {
    DenormalsOff xnnpack_mode;
    apply(d.patches, 0, d.patches.size(), x, placed.data(), out);
    if (d.first->placed_negative_zero) apply(d.fixups, 0, d.fixups.size(), x, placed.data(), out);
    return ok_status();
  }
  const size_t blocks = d.block_patches.size() - 1;
  ref::parallel_for(blocks > 1 ? ctx.threadpool : nullptr, blocks, [&](size_t b) {
    const size_t begin = b * kBlock, count = std::min(kBlock, n - begin);
    const size_t first = d.block_patches[b], last = d.block_patches[b + 1];
    DenormalsOff xnnpack_mode;
    if (d.in_place) {
      // Read first: a block that clamped(x + 0) leaves as it is (all of one, nearly always) is
      // not written back, and its patches then read it while it is in cache. Otherwise the
      // patches read x as it was: their results wait until the block is rewritten. (Computing
      // each vector's patches as one pass reaches it measured slower: 0.084-0.100 ms against
      // 0.051-0.085 for YOLOX's first update.)
      if (!add_zero_changes(out + begin, count)) {
        apply(d.patches, first, last, x, placed.data(), out);
        return;
      }
      for (size_t i = first; i < last; ++i) d.patched[i] = patch(d.patches[i], x, placed.data());
      add_zero_over(out + begin, count);
      for (size_t i = first; i < last; ++i) out[d.patches[i].at] = d.patched[i];
      return;
    }
    if (d.reads_k)
      multiply_add_zero(x + begin, k + begin, out + begin, count);
    else
      add_zero(x + begin, out + begin, count);
    apply(d.patches, first, last, x, placed.data(), out);
  });
  return ok_status();
}

// The patches of the positions updated or (unless that is most of them) where K is not +1.0.
void find_patches(ScatterUpdateData& d, const float* k, int64_t n) {
  std::vector<int32_t> placed_at(static_cast<size_t>(n), -1);
  int32_t next = 0;
  for (const int64_t o : d.offsets)
    for (int64_t j = 0; j < d.slice_size; ++j) placed_at[static_cast<size_t>(o + j)] = next++;
  constexpr uint32_t kOne = 0x3f800000u;  // +1.0f
  size_t not_one = 0;
  for (int64_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, k + i, 4);
    not_one += bits != kOne && placed_at[static_cast<size_t>(i)] < 0;
  }
  d.reads_k = not_one > static_cast<size_t>(n / 8);
  for (int64_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, k + i, 4);
    const int32_t placed = placed_at[static_cast<size_t>(i)];
    if (placed >= 0 || (!d.reads_k && bits != kOne)) d.patches.push_back({static_cast<int32_t>(i), placed, k[i]});
  }
  const size_t blocks = (static_cast<size_t>(n) + kBlock - 1) / kBlock;
  d.block_patches.assign(blocks + 1, d.patches.size());
  for (size_t b = 0, p = 0; b < blocks; ++b) {
    while (p < d.patches.size() && static_cast<size_t>(d.patches[p].at) < b * kBlock) ++p;
    d.block_patches[b] = p;
  }
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
  if (out.dtype != DType::kFloat32 || out.num_elements() > std::numeric_limits<int32_t>::max()) return std::nullopt;
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
    find_patches(*data, k->as<const float>(), out.num_elements());
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

bool run_in_place(OpData& op_data) {
  auto& d = static_cast<ScatterUpdateData&>(op_data);
  if (d.reads_k || d.in_place) return false;
  d.in_place = d.cleans = true;
  d.patched.resize(d.patches.size());
  return true;
}

bool run_in_place_after(OpData& second, const TensorRef& k, const OpData& first) {
  auto& d = static_cast<ScatterUpdateData&>(second);
  const auto& before = static_cast<const ScatterUpdateData&>(first);
  if (d.reads_k || d.in_place) return false;
  // `first`'s output, x here, is clamped(v + 0) with v not NaN wherever it placed no update:
  // neither NaN nor -0 nor subnormal, so where this op's K is +1.0 and it places nothing,
  // clamped(clamped(x * 1) + 0) is x. Where `first` placed updates x may be -0 (-0 + -0), which
  // this op makes +0: those positions are fixups, patched when `first` placed a -0.
  const float* kv = k.as<const float>();
  size_t i = 0;
  d.fixups.clear();
  for (const Patch& p : before.patches) {
    if (p.placed < 0) continue;
    while (i < d.patches.size() && d.patches[i].at < p.at) ++i;
    if (i < d.patches.size() && d.patches[i].at == p.at) continue;
    d.fixups.push_back({p.at, -1, kv[p.at]});
  }
  d.first = &before;
  d.in_place = true;
  return true;
}

const Kernel kScatterUpdateKernel = {"scatter-update", fused_prepare, fused_eval};

}  // namespace qdet::rt
