// Plan-time fusion of quantized SiLU: MUL(x, LOGISTIC(x)) on int8/uint8/int16 tensors is a
// function of one input value, so the pair becomes one table lookup (256 entries for 8 bits,
// 65536 two-byte entries, 128 KiB, for int16). The table is made by running the two kernels the
// plan chose (the same arithmetic, rounding included) on every input value, so the fused op is
// bit-exact with the pair by construction; it reads x once and writes the output once instead
// of two passes and a temporary.
//
// Applies when: the MUL reads x and s = LOGISTIC(x) (either order) with no broadcasting, s has
// no other reader and is not a graph output, x is int8, uint8 or int16 with per-tensor
// parameters, and the interpreter does not keep intermediates (s is never materialized).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "base/status.h"
#include "graph/graph.h"
#include "runtime/kernel.h"

namespace qdet::rt {

struct SiluPair {
  int32_t logistic_op = -1;
  int32_t mul_op = -1;
  int32_t input = -1;  // x: the tensor both read
};

// The fusable pairs of a graph (see above; the interpreter checks the kernels). `float32`: the
// float32 pairs instead (same matching, MUL without a fused activation), for kSiluFloatKernel.
std::vector<SiluPair> find_silu_pairs(const graph::Graph& graph, bool float32 = false);

// Float SiLU in one pass: out = x * sigmoid(x), reading input 0 and writing output 0, with its
// own vectorized exp (within a few ulp of XNNPACK's LOGISTIC then MUL, which the fused pair
// replaces: two passes over the tensor and a temporary become one).
extern const Kernel kSiluFloatKernel;
// A fused float SiLU whose only reader is an ADD of a tensor of the same shape, with no fused
// activation: out = x * sigmoid(x) + addend in the same pass (inputs x, addend), the bytes of
// kSiluFloatKernel then the ADD.
extern const Kernel kSiluAddFloatKernel;
// sigmoid(x) * x for n floats (the kernel's loop; exposed for tests and fusions).
void silu_float(const float* in, float* out, size_t n);
// sigmoid(x) * x + addend for n floats, kSiluAddFloatKernel's values.
void silu_add_float(const float* in, const float* addend, float* out, size_t n);

using ByteTable = std::array<uint8_t, 256>;

// The fused kernel: reads input 0, writes output 0 through the table of its op data.
extern const Kernel kLutKernel;

// Runs `logistic` then `mul` (kernels already chosen for the ops) on every value of x's type,
// with x's, s's and the output's parameters, and returns kLutKernel's op data holding the table:
// entry (uint8_t)v or (uint16_t)v is the output for x = v.
Result<std::unique_ptr<OpData>> silu_lut(const graph::Graph& graph, const SiluPair& pair,
                                         const Kernel& logistic, const Kernel& mul);

// Plan-time tables for single ops too: an elementwise activation (op_traits role kActivation,
// input 0 its only value input: LEAKY_RELU, TANH, ELU, ...) on int8, uint8 or int16 with
// per-tensor parameters is a function of one input value; run on every value by the kernel the
// plan chose, it becomes the same table lookup, bit-exact by construction. So does a QUANTIZE
// that requantizes an integer tensor (int8/uint8 to int8/uint8, int16 to int16).
bool tabulable_unary(const graph::Graph& graph, int32_t op_index);
Result<std::unique_ptr<OpData>> unary_lut(const graph::Graph& graph, int32_t op_index, const Kernel& kernel);

// kLutKernel's 256-entry table in `data` (its op data), or nullptr for an int16 table.
const ByteTable* lut_byte_table(const OpData* data);

// out[i] = table[in[i]] for n bytes (AVX-512 VBMI where the CPU has it).
void apply_byte_table(const ByteTable& table, const uint8_t* in, uint8_t* out, size_t n);

// The table a kernel that takes Kernel::take_output_table keeps and applies to its output bytes
// (while they are in cache: 64 bytes a lookup).
struct OutputTable {
  bool on = false;
  ByteTable table{};
  // Takes `t` where the CPU has AVX-512 VBMI (without it the lookup is scalar, no faster in the
  // kernel than as its own op); false, with nothing changed, otherwise.
  bool take(const uint8_t* t);
  void apply(uint8_t* bytes, size_t n) const {
    if (on) apply_byte_table(table, bytes, bytes, n);
  }
};
// out[i] = table[(uint16_t)in[i]] for n int16 values; `table` has 65536 entries.
void apply_int16_table(const int16_t* table, const int16_t* in, int16_t* out, size_t n);

}  // namespace qdet::rt
