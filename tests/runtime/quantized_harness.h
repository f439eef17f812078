// Test-only harness: runs one kernel's prepare/eval on TensorRefs, the way the interpreter does
// (non-constant inputs have no data at prepare time; outputs get their memory after prepare
// computed their shapes), plus small helpers to build quantized tensors and float models of
// the arithmetic.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <span>
#include <vector>

#include "graph/op.h"
#include "runtime/kernel.h"
#include "runtime/kernel_registry.h"
#include "runtime/kernels/reference/quantized/quantized_kernels.h"
#include "runtime/quantization_util.h"

namespace qdet::rt::testing {

inline QuantParams per_tensor(float scale, int64_t zero_point) {
  QuantParams q;
  q.scale = {scale};
  q.zero_point = {zero_point};
  return q;
}

inline QuantParams per_channel(std::vector<float> scales, int32_t axis) {
  QuantParams q;
  q.zero_point.assign(scales.size(), 0);
  q.scale = std::move(scales);
  q.quantized_dimension = axis;
  return q;
}

template <typename T>
std::vector<uint8_t> to_bytes(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

template <typename T>
DType dtype_of() {
  if constexpr (std::is_same_v<T, int8_t>) return DType::kInt8;
  if constexpr (std::is_same_v<T, uint8_t>) return DType::kUInt8;
  if constexpr (std::is_same_v<T, int16_t>) return DType::kInt16;
  if constexpr (std::is_same_v<T, int32_t>) return DType::kInt32;
  if constexpr (std::is_same_v<T, int64_t>) return DType::kInt64;
  if constexpr (std::is_same_v<T, float>) return DType::kFloat32;
  return DType::kUnknown;
}

// Uniform random integers over T's full range (or [lo, hi]).
template <typename T>
std::vector<T> random_values(std::mt19937& rng, int64_t n, int64_t lo = std::numeric_limits<T>::min(),
                             int64_t hi = std::numeric_limits<T>::max()) {
  std::uniform_int_distribution<int64_t> dist(lo, hi);
  std::vector<T> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<T>(dist(rng));
  return v;
}

class KernelHarness {
 public:
  explicit KernelHarness(graph::OpKind kind) { op.kind = kind; }

  graph::Op op;  // set attrs before run()

  template <typename T>
  int add_input(Shape shape, const std::vector<T>& values, QuantParams quant = {},
                bool constant = false) {
    auto t = std::make_unique<Slot>();
    t->ref.id = static_cast<int32_t>(slots_.size());
    t->ref.dtype = dtype_of<T>();
    t->ref.shape = std::move(shape);
    t->quant = std::move(quant);
    t->bytes = to_bytes(values);
    t->ref.is_constant = constant;
    slots_.push_back(std::move(t));
    inputs_.push_back(&slots_.back()->ref);
    return static_cast<int>(inputs_.size()) - 1;
  }
  void add_absent_input() { inputs_.push_back(nullptr); }

  void add_output(DType dtype, QuantParams quant) {
    auto t = std::make_unique<Slot>();
    t->ref.id = static_cast<int32_t>(slots_.size());
    t->ref.dtype = dtype;
    t->quant = std::move(quant);
    slots_.push_back(std::move(t));
    outputs_.push_back(&slots_.back()->ref);
    output_slots_.push_back(slots_.back().get());
  }

  // Finds the kernel like the interpreter: the first reference candidate whose prepare does not
  // answer kUnsupported. Returns that prepare's status (or the last kUnsupported one).
  Status prepare(const KernelRegistry* registry = nullptr) {
    if (registry == nullptr) {
      own_registry_ = std::make_unique<KernelRegistry>();
      register_reference_quantized_kernels(*own_registry_);
      registry = own_registry_.get();
    }
    for (auto& s : slots_) {
      s->ref.quant = &s->quant;
      s->ref.data = s->ref.is_constant ? s->bytes.data() : nullptr;
    }
    Status last = unsupported("no kernel registered for {}", graph::op_name(op.kind));
    for (const Kernel* k : registry->candidates(op.kind, /*allow_fast=*/false)) {
      PrepareContext ctx{op, 0, std::span<TensorRef* const>(inputs_),
                         std::span<TensorRef* const>(outputs_)};
      Status s = k->prepare(ctx);
      if (s.code() == StatusCode::kUnsupported) {
        last = s;
        continue;
      }
      if (!s.ok()) return s;
      kernel_ = k;
      op_data_ = std::move(ctx.op_data);
      scratch_.assign(ctx.scratch_bytes + 64, 0);
      return s;
    }
    return last;
  }

  Status eval() {
    for (auto& s : slots_) s->ref.data = s->bytes.data();
    for (Slot* o : output_slots_) {
      o->bytes.assign(o->ref.byte_size(), 0xA5);  // poison: every element must be written
      o->ref.data = o->bytes.data();
    }
    // The interpreter gives 64-byte aligned scratch.
    auto addr = reinterpret_cast<uintptr_t>(scratch_.data());
    uint8_t* scratch = scratch_.data() + ((64 - addr % 64) % 64);
    EvalContext ctx{op, std::span<TensorRef* const>(inputs_),
                    std::span<TensorRef* const>(outputs_), op_data_.get(), scratch};
    return kernel_->eval(ctx);
  }

  // prepare + eval; fails the test with the message on error.
  void run() {
    Status s = prepare();
    ASSERT_TRUE(s.ok()) << s.message();
    s = eval();
    ASSERT_TRUE(s.ok()) << s.message();
  }

  const Shape& output_shape(size_t i = 0) const { return output_slots_[i]->ref.shape; }
  template <typename T>
  std::vector<T> output(size_t i = 0) const {
    const Slot* o = output_slots_[i];
    std::vector<T> v(o->bytes.size() / sizeof(T));
    if (!v.empty()) std::memcpy(v.data(), o->bytes.data(), o->bytes.size());
    return v;
  }

 private:
  struct Slot {
    TensorRef ref;
    QuantParams quant;
    std::vector<uint8_t> bytes;
  };
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<TensorRef*> inputs_, outputs_;
  std::vector<Slot*> output_slots_;
  std::unique_ptr<KernelRegistry> own_registry_;
  const Kernel* kernel_ = nullptr;
  std::unique_ptr<OpData> op_data_;
  std::vector<uint8_t> scratch_;
};

// Float model of quantization: round(real / scale) + zp, clamped, in double.
inline int32_t quantize_double(double real, double scale, int32_t zp, int32_t qmin, int32_t qmax) {
  const double q = std::round(real / scale) + zp;
  return static_cast<int32_t>(std::clamp<double>(q, qmin, qmax));
}

}  // namespace qdet::rt::testing
