#include "runtime/lut_fusion.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "base/simd_clones.h"
#include "graph/op_traits.h"
#include "runtime/kernels/reference/common.h"

namespace qdet::rt {

using graph::OpKind;

std::vector<SiluPair> find_silu_pairs(const graph::Graph& g, bool float32) {
  const auto producers = g.producers();
  const auto consumers = g.consumers();
  std::vector<char> is_output(g.tensors.size(), 0);
  for (int32_t t : g.outputs) is_output[t] = 1;
  std::vector<SiluPair> pairs;
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const auto& mul = g.ops[i];
    if (mul.kind != OpKind::kMul || mul.inputs.size() != 2 || mul.outputs.size() != 1) continue;
    for (int side = 0; side < 2; ++side) {
      const int32_t x = mul.inputs[side], s = mul.inputs[1 - side];
      if (x < 0 || s < 0 || x == s || producers[s] < 0) continue;
      const auto& logistic = g.ops[producers[s]];
      if (logistic.kind != OpKind::kLogistic || logistic.inputs.size() != 1 || logistic.inputs[0] != x) continue;
      if (consumers[s].size() != 1 || is_output[s]) continue;
      const auto& tx = g.tensors[x];
      const auto& ts = g.tensors[s];
      const auto& to = g.tensors[mul.outputs[0]];
      if (float32) {
        if (tx.dtype != DType::kFloat32 || mul.attrs.activation != graph::Activation::kNone) continue;
      } else {
        if (tx.dtype != DType::kInt8 && tx.dtype != DType::kUInt8 && tx.dtype != DType::kInt16) continue;
        if (tx.quant.scale.size() != 1 || ts.quant.scale.size() != 1 || to.quant.scale.size() != 1) continue;
      }
      if (ts.dtype != tx.dtype || to.dtype != tx.dtype) continue;
      if (tx.shape != ts.shape || tx.shape != to.shape || tx.shape.empty()) continue;
      pairs.push_back({producers[s], static_cast<int32_t>(i), x});
      break;
    }
  }
  return pairs;
}

namespace {

// A [n] tensor of every value of a type (plus the read tail fast kernels may touch) standing in
// for a graph tensor.
struct ProbeTensor {
  std::vector<uint8_t> storage;
  TensorRef ref;
  ProbeTensor(const graph::Tensor& t, int32_t id, int32_t n) : storage(n * dtype_size(t.dtype) + 128) {
    ref.id = id;
    ref.dtype = t.dtype;
    ref.shape = {n};
    ref.quant = &t.quant;
    ref.data = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(storage.data()) + 63) & ~uintptr_t{63});
  }
};

Status run_kernel(const Kernel& k, const graph::Op& op, int32_t op_index,
                  std::vector<TensorRef*> inputs, std::vector<TensorRef*> outputs) {
  PrepareContext p{.op = op, .op_index = op_index, .inputs = inputs, .outputs = outputs};
  QDET_TRY(k.prepare(p));
  std::vector<uint8_t> scratch(p.scratch_bytes + 64);
  auto* aligned = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(scratch.data()) + 63) & ~uintptr_t{63});
  EvalContext e{.op = op, .inputs = inputs, .outputs = outputs, .op_data = p.op_data.get(),
                .scratch = p.scratch_bytes ? aligned : nullptr};
  return k.eval(e);
}

// One of the two tables: 8-bit inputs use `bytes`, int16 inputs `shorts` (65536 entries).
class LutData : public OpData {
 public:
  ByteTable bytes{};
  std::vector<int16_t> shorts;
};

Status lut_prepare(PrepareContext& ctx) {
  if (ctx.inputs.empty() || ctx.outputs.empty() || !ctx.inputs[0]) return invalid_argument("lut: no input");
  ctx.outputs[0]->shape = ctx.inputs[0]->shape;
  return ok_status();
}

constexpr size_t kLutBlock = 64 * 1024;  // elements a task

Status lut_eval(EvalContext& ctx) {
  const auto* data = static_cast<const LutData*>(ctx.op_data);
  const size_t n = static_cast<size_t>(ctx.inputs[0]->num_elements());
  const uint8_t* in = ctx.inputs[0]->data;
  uint8_t* out = ctx.outputs[0]->data;
  const size_t blocks = (n + kLutBlock - 1) / kLutBlock;
  ref::parallel_for(blocks > 1 ? ctx.threadpool : nullptr, blocks, [&](size_t block) {
    const size_t begin = block * kLutBlock, count = std::min(kLutBlock, n - begin);
    if (data->shorts.empty())
      apply_byte_table(data->bytes, in + begin, out + begin, count);
    else
      apply_int16_table(data->shorts.data(), reinterpret_cast<const int16_t*>(in) + begin,
                        reinterpret_cast<int16_t*>(out) + begin, count);
  });
  return ok_status();
}

__attribute__((target("avx512f,avx512bw,avx512vbmi"))) void apply_byte_table_vbmi(
    const ByteTable& table, const uint8_t* in, uint8_t* out, size_t n) {
  const __m512i t0 = _mm512_loadu_si512(table.data());
  const __m512i t1 = _mm512_loadu_si512(table.data() + 64);
  const __m512i t2 = _mm512_loadu_si512(table.data() + 128);
  const __m512i t3 = _mm512_loadu_si512(table.data() + 192);
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512i idx = _mm512_loadu_si512(in + i);
    // vpermi2b picks by the low 7 bits from two 64-byte tables; the top bit picks the pair.
    const __m512i lo = _mm512_permutex2var_epi8(t0, idx, t1);
    const __m512i hi = _mm512_permutex2var_epi8(t2, idx, t3);
    const __mmask64 top = _mm512_movepi8_mask(idx);
    _mm512_storeu_si512(out + i, _mm512_mask_blend_epi8(top, lo, hi));
  }
  for (; i < n; ++i) out[i] = table[in[i]];
}

bool cpu_has_vbmi() {
  static const bool has = __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512bw");
  return has;
}

}  // namespace

void apply_byte_table(const ByteTable& table, const uint8_t* in, uint8_t* out, size_t n) {
  if (cpu_has_vbmi()) return apply_byte_table_vbmi(table, in, out, n);
  for (size_t i = 0; i < n; ++i) out[i] = table[in[i]];
}

bool OutputTable::take(const uint8_t* t) {
  if (!cpu_has_vbmi()) return false;
  std::memcpy(table.data(), t, table.size());
  on = true;
  return true;
}

QDET_SIMD_CLONES void apply_int16_table(const int16_t* table, const int16_t* in, int16_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = table[static_cast<uint16_t>(in[i])];
}

namespace {

// Every value of x's type in a probe tensor, index i holding the value whose bits are i.
int32_t fill_every_value(ProbeTensor& px) {
  const bool wide = px.ref.dtype == DType::kInt16;
  const int32_t n = wide ? 65536 : 256;
  for (int32_t i = 0; i < n; ++i) {
    if (wide)
      px.ref.as<int16_t>()[i] = static_cast<int16_t>(static_cast<uint16_t>(i));
    else
      px.ref.data[i] = static_cast<uint8_t>(i);
  }
  return n;
}

std::unique_ptr<OpData> lut_from(const ProbeTensor& po, int32_t n) {
  auto data = std::make_unique<LutData>();
  if (po.ref.dtype == DType::kInt16)
    data->shorts.assign(po.ref.as<const int16_t>(), po.ref.as<const int16_t>() + n);
  else
    std::memcpy(data->bytes.data(), po.ref.data, 256);
  return data;
}

int32_t values_of(DType t) { return t == DType::kInt16 ? 65536 : 256; }

}  // namespace

namespace {

bool is_byte(DType t) { return t == DType::kInt8 || t == DType::kUInt8; }

}  // namespace

bool tabulable_unary(const graph::Graph& g, int32_t op_index) {
  const graph::Op& op = g.ops[static_cast<size_t>(op_index)];
  const graph::OpTraits& traits = graph::op_traits(op.kind);
  const bool requantize = op.kind == graph::OpKind::kQuantize;
  if (!requantize && (traits.role != graph::OpRole::kActivation || traits.value_inputs != 0x01)) return false;
  if (op.inputs.size() != 1 || op.outputs.size() != 1 || op.inputs[0] < 0 || op.outputs[0] < 0) return false;
  const graph::Tensor& x = g.tensors[op.inputs[0]];
  const graph::Tensor& y = g.tensors[op.outputs[0]];
  if (x.dtype != DType::kInt8 && x.dtype != DType::kUInt8 && x.dtype != DType::kInt16) return false;
  // A requantizing QUANTIZE may change signedness (uint8 <-> int8): both sides one byte.
  const bool same_width = y.dtype == x.dtype || (requantize && is_byte(x.dtype) && is_byte(y.dtype));
  return same_width && x.quant.scale.size() == 1 && y.quant.scale.size() == 1 && !x.shape.empty();
}

Result<std::unique_ptr<OpData>> unary_lut(const graph::Graph& g, int32_t op_index, const Kernel& kernel) {
  const graph::Op& op = g.ops[static_cast<size_t>(op_index)];
  const graph::Tensor& x = g.tensors[op.inputs[0]];
  const int32_t n = values_of(x.dtype);
  ProbeTensor px(x, op.inputs[0], n), po(g.tensors[op.outputs[0]], op.outputs[0], n);
  fill_every_value(px);
  QDET_TRY(run_kernel(kernel, op, op_index, {&px.ref}, {&po.ref}).with_context("activation table"));
  return lut_from(po, n);
}

Result<std::unique_ptr<OpData>> silu_lut(const graph::Graph& g, const SiluPair& pair, const Kernel& logistic,
                                         const Kernel& mul) {
  const auto& lop = g.ops[pair.logistic_op];
  const auto& mop = g.ops[pair.mul_op];
  const int32_t s = lop.outputs[0], out = mop.outputs[0];
  const graph::Tensor& x = g.tensors[pair.input];
  const int32_t n = values_of(x.dtype);
  ProbeTensor px(x, pair.input, n), ps(g.tensors[s], s, n), po(g.tensors[out], out, n);
  fill_every_value(px);
  QDET_TRY(run_kernel(logistic, lop, pair.logistic_op, {&px.ref}, {&ps.ref})
               .with_context("SiLU table: LOGISTIC"));
  std::vector<TensorRef*> ins = {mop.inputs[0] == pair.input ? &px.ref : &ps.ref,
                                 mop.inputs[0] == pair.input ? &ps.ref : &px.ref};
  QDET_TRY(run_kernel(mul, mop, pair.mul_op, ins, {&po.ref}).with_context("SiLU table: MUL"));
  return lut_from(po, n);
}

const Kernel kLutKernel = {"lut", lut_prepare, lut_eval};

const ByteTable* lut_byte_table(const OpData* data) {
  const auto* lut = static_cast<const LutData*>(data);
  return lut && lut->shorts.empty() ? &lut->bytes : nullptr;
}

}  // namespace qdet::rt
