// Float SiLU in one pass (lut_fusion.h): x * sigmoid(x) with sigmoid from exp(-|x|):
//   z = exp(-|x|) in (0, 1], sigmoid(x) = 1 / (1 + z) for x >= 0, z / (1 + z) for x < 0,
// which never overflows. exp by Cody-Waite range reduction (n = round(t * log2 e), r = t - n ln2
// in two parts) and a degree-6 polynomial on |r| <= ln2 / 2 (relative error about 1 ulp), then
// scaled by 2^n through the exponent bits. t below -87.3365 flushes to z = 0 as XNNPACK's
// sigmoid does (x * sigmoid(x) is under 2e-36 in magnitude there anyway). Branch-free so the loop
// vectorizes (with -fno-trapping-math, set for this file in CMakeLists.txt); compiled for AVX-512
// and AVX2 as target clones.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "base/simd_clones.h"
#include "runtime/denormals.h"
#include "runtime/kernels/reference/common.h"
#include "runtime/lut_fusion.h"

namespace qdet::rt {
namespace {

// Below this exp(t) is not a normal float: sigmoid(x) flushes to 0 there, as XNNPACK's does.
constexpr float kCutoff = -0x1.5D589Ep+6f;  // about -87.3365

// x * sigmoid(x) for one value; inlined into the loops below, which vectorize it.
__attribute__((always_inline)) inline float silu_value(float x) {
  const float t_raw = -std::fabs(x);
  const float t = std::max(t_raw, kCutoff);
  // Round to nearest by the 1.5 * 2^23 trick (|t * log2 e| < 127 here): std::nearbyint is a
  // library call that keeps the loop scalar (about 7 ns an element).
  const float k = (t * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = t - k * 0.693359375f;      // ln2 high part (exact product for |k| < 2^11)
  r = r - k * -2.12194440e-4f;         // ln2 low part
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t e = (static_cast<int32_t>(k) + 127) << 23;
  float scale;
  std::memcpy(&scale, &e, sizeof scale);
  // Every value computed, then selected: a conditional multiply or divide is control flow that
  // only AVX-512's masks vectorize (they may trap), a select of computed values is a blend.
  const float scaled = p * scale;
  const float z = t_raw < kCutoff ? 0.0f : scaled;
  const float numerator = x >= 0.0f ? 1.0f : z;
  const float denominator = 1.0f + z;
  return x * (numerator / denominator);
}

QDET_SIMD_CLONES void silu_loop(const float* __restrict in, float* __restrict out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = silu_value(in[i]);
}

// The SiLU of `in` plus `addend`, as the fused pair then XNNPACK's ADD without a fused
// activation gives it: one rounding of the sum, then XNNPACK's clamp to [-inf, inf], whose
// maximum (x86's, taking its second operand when the first is NaN) makes a NaN sum -inf; run
// in XNNPACK's denormals-off mode by the caller.
QDET_SIMD_CLONES void add_clamped(const float* __restrict a, const float* __restrict b, float* __restrict out,
                                  size_t n) {
  constexpr float kMinusInf = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < n; ++i) {
    const float sum = a[i] + b[i];
    out[i] = sum >= kMinusInf ? sum : kMinusInf;
  }
}

// The SiLU goes through an L1-sized buffer by silu_loop itself: written as one expression the
// compiler would contract x * q + addend into one FMA, a rounding the unfused ops do not make.
void silu_add_loop(const float* in, const float* addend, float* out, size_t n) {
  constexpr size_t kChunk = 1024;
  alignas(64) float silu[kChunk];
  for (size_t i = 0; i < n; i += kChunk) {
    const size_t m = std::min(kChunk, n - i);
    silu_loop(in + i, silu, m);
    DenormalsOff xnnpack_mode;  // XNNPACK's ADD flushes subnormal inputs and results
    add_clamped(silu, addend + i, out + i, m);
  }
}

constexpr size_t kBlock = 16 * 1024;  // elements a task

Status silu_prepare(PrepareContext& ctx) {
  if (ctx.inputs.empty() || ctx.outputs.empty() || !ctx.inputs[0]) return invalid_argument("silu: no input");
  if (ctx.inputs[0]->dtype != DType::kFloat32) return unsupported("silu: input is not float32");
  ctx.outputs[0]->shape = ctx.inputs[0]->shape;
  return ok_status();
}

Status silu_eval(EvalContext& ctx) {
  const float* in = ctx.inputs[0]->as<const float>();
  float* out = ctx.outputs[0]->as<float>();
  const size_t n = static_cast<size_t>(ctx.inputs[0]->num_elements());
  const size_t blocks = (n + kBlock - 1) / kBlock;
  ref::parallel_for(blocks > 1 ? ctx.threadpool : nullptr, blocks, [&](size_t b) {
    const size_t begin = b * kBlock;
    silu_loop(in + begin, out + begin, std::min(kBlock, n - begin));
  });
  return ok_status();
}

// Input 0 is x, input 1 the addend (same shape).
Status silu_add_eval(EvalContext& ctx) {
  const float* in = ctx.inputs[0]->as<const float>();
  const float* addend = ctx.inputs[1]->as<const float>();
  float* out = ctx.outputs[0]->as<float>();
  const size_t n = static_cast<size_t>(ctx.inputs[0]->num_elements());
  const size_t blocks = (n + kBlock - 1) / kBlock;
  ref::parallel_for(blocks > 1 ? ctx.threadpool : nullptr, blocks, [&](size_t b) {
    const size_t begin = b * kBlock;
    silu_add_loop(in + begin, addend + begin, out + begin, std::min(kBlock, n - begin));
  });
  return ok_status();
}

}  // namespace

void silu_float(const float* in, float* out, size_t n) { silu_loop(in, out, n); }
void silu_add_float(const float* in, const float* addend, float* out, size_t n) { silu_add_loop(in, addend, out, n); }

const Kernel kSiluFloatKernel = {"silu", silu_prepare, silu_eval};
const Kernel kSiluAddFloatKernel = {"silu-add", silu_prepare, silu_add_eval};

}  // namespace qdet::rt
