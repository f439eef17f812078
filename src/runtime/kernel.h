// The kernel interface (TFLite's prepare/eval split; docs/ARCHITECTURE.md, "The kernel contract").
//
// prepare: runs once when the plan is built. Checks dtypes, shapes and quantization parameters,
//   computes every output shape (writes TensorRef::shape of each output), asks for scratch
//   memory, and precomputes whatever eval needs (fixed-point multipliers, packed weights) into
//   an OpData it owns. Constant inputs already have `data` at prepare time; other tensors do not.
//   A kernel that does not handle this op's dtypes or attributes returns a Status with code
//   kUnsupported so that the next candidate (e.g. the reference kernel) is tried.
// eval: arithmetic only, no allocation. Reads inputs, writes outputs and scratch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "base/status.h"
#include "graph/graph.h"
#include "tensor/dtype.h"
#include "tensor/quant_params.h"
#include "tensor/shape.h"

typedef struct pthreadpool* pthreadpool_t;

namespace qdet::rt {

// Fast kernels (XNNPACK: XNN_EXTRA_BYTES) may read up to this many bytes past the end of an
// input tensor (never write past an output): the arena keeps that much room after its last
// buffer, and a kernel reading a constant tensor at eval time copies it into a padded buffer.
inline constexpr size_t kKernelReadTailBytes = 16;

// A tensor as a kernel sees it. `data` points into the arena, a constant buffer, or a
// user-visible input buffer; it is nullptr at prepare time for non-constant tensors.
struct TensorRef {
  int32_t id = -1;
  DType dtype = DType::kFloat32;
  Shape shape;
  const QuantParams* quant = nullptr;  // never null; empty params when not quantized
  uint8_t* data = nullptr;
  bool is_constant = false;

  int64_t num_elements() const { return ::qdet::num_elements(shape); }
  size_t byte_size() const { return static_cast<size_t>(num_elements()) * dtype_size(dtype); }
  template <typename T>
  T* as() const { return reinterpret_cast<T*>(data); }
  // Single scale / zero point for per-tensor quantized tensors.
  float scale() const { return quant->scale.empty() ? 1.0f : quant->scale[0]; }
  int32_t zero_point() const {
    return quant->zero_point.empty() ? 0 : static_cast<int32_t>(quant->zero_point[0]);
  }
};

// Per-op state a kernel precomputes in prepare.
class OpData {
 public:
  virtual ~OpData() = default;
};

struct PrepareContext {
  const graph::Op& op;
  int32_t op_index;
  std::span<TensorRef* const> inputs;   // nullptr for absent optional inputs
  std::span<TensorRef* const> outputs;
  int num_threads = 1;
  pthreadpool_t threadpool = nullptr;   // nullptr when single-threaded
  // The model quantizes float values later (QUANTIZE ops: the float islands of int8 models), so
  // float kernels must give XNNPACK's bytes, those of the official TFLite's delegate.
  bool exact_float = false;
  // Set by the kernel:
  size_t scratch_bytes = 0;
  std::unique_ptr<OpData> op_data;
};

struct EvalContext {
  const graph::Op& op;
  std::span<TensorRef* const> inputs;
  std::span<TensorRef* const> outputs;
  OpData* op_data = nullptr;
  uint8_t* scratch = nullptr;  // scratch_bytes requested in prepare, 64-byte aligned
  pthreadpool_t threadpool = nullptr;
};

// Zeros added around H and W of an [N, H, W, C] input by a PAD that a convolution can take as
// its own padding instead.
struct SpatialPad {
  int32_t top = 0, bottom = 0, left = 0, right = 0;
};

struct Kernel {
  const char* name;  // "reference", "xnnpack", ...
  Status (*prepare)(PrepareContext& ctx);
  Status (*eval)(EvalContext& ctx);
  // Optional, for convolutions: re-plans a prepared op to read the unpadded [N, H, W, C] input
  // of a zero PAD, with `pad` added to its own padding, so the padded copy is never written.
  // The outputs must stay the same bits. False, with nothing changed, when it cannot.
  bool (*fold_input_pad)(OpData* data, const Shape& unpadded, const SpatialPad& pad) = nullptr;
  // Optional, for 8-bit kernels: makes a prepared op write table[q] for each output byte q (a
  // 256-entry lookup that alone reads its output, such as a tabulated SiLU, fused into it). False,
  // with nothing changed, when it cannot.
  bool (*take_output_table)(OpData* data, const uint8_t* table) = nullptr;
  // Optional, for float kernels of plans that keep XNNPACK's bytes: makes a prepared op write
  // the SiLU of each output, x * sigmoid(x), with the arithmetic of simd::kSiluExact (XNNPACK's
  // sigmoid and multiply operators), instead of x. False, with nothing changed, when it cannot.
  bool (*take_output_silu)(OpData* data) = nullptr;
};

// The last step of a prepare that made data for eval: hands it to the interpreter, which keeps
// it for the op (eval reads it back with op_data_as).
inline Status keep_op_data(PrepareContext& ctx, std::unique_ptr<OpData> data) {
  ctx.op_data = std::move(data);
  return ok_status();
}

template <typename T>
T* op_data_as(EvalContext& ctx) { return static_cast<T*>(ctx.op_data); }

}  // namespace qdet::rt
