// The kernel tests' one support layer: runs one Kernel (prepare + eval) on owned test tensors the
// way the interpreter does (run_kernel), finds the reference kernel as the interpreter does
// (run_reference), compares a fast kernel with the reference under a named tolerance
// (docs/ARCHITECTURE.md, "Code habits" 1 and 2), and KernelHarness builds one op by hand on top
// of the same runner.
#pragma once

#include <gtest/gtest.h>
#include <pthreadpool.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "graph/op.h"
#include "runtime/kernel.h"
#include "runtime/kernel_registry.h"
#include "runtime/kernels/reference/quantized/quantized_kernels.h"
#include "runtime/quantization_util.h"
#include "test_support.h"

namespace qdet::rt::testing {

using ::qdet::testing::per_tensor;
using ::qdet::testing::to_bytes;

inline constexpr float kEps = std::numeric_limits<float>::epsilon();
// Kernels may read this many bytes past an input (XNNPACK's XNN_EXTRA_BYTES); test buffers
// carry that tail room like the interpreter's arena does.
inline constexpr size_t kTailBytes = kKernelReadTailBytes;

struct TestTensor {
  DType dtype = DType::kFloat32;
  Shape shape;
  bool constant = false;
  std::vector<uint8_t> bytes;  // byte_size + kTailBytes
  QuantParams quant;

  static TestTensor floats(Shape shape, const std::vector<float>& values, bool constant) {
    TestTensor t;
    t.shape = std::move(shape);
    t.constant = constant;
    t.bytes.assign(values.size() * sizeof(float) + kTailBytes, 0);
    if (!values.empty())
      std::memcpy(t.bytes.data(), values.data(), values.size() * sizeof(float));
    return t;
  }
  static TestTensor int32s(Shape shape, const std::vector<int32_t>& values) {
    TestTensor t;
    t.dtype = DType::kInt32;
    t.shape = std::move(shape);
    t.constant = true;
    t.bytes.assign(values.size() * sizeof(int32_t) + kTailBytes, 0);
    if (!values.empty())
      std::memcpy(t.bytes.data(), values.data(), values.size() * sizeof(int32_t));
    return t;
  }
  static TestTensor int8s(Shape shape, const std::vector<int8_t>& values, float scale,
                          int64_t zero_point) {
    TestTensor t;
    t.dtype = DType::kInt8;
    t.shape = std::move(shape);
    t.bytes.assign(values.size() + kTailBytes, 0);
    if (!values.empty()) std::memcpy(t.bytes.data(), values.data(), values.size());
    t.quant.scale = {scale};
    t.quant.zero_point = {zero_point};
    return t;
  }
  const float* float_data() const { return reinterpret_cast<const float*>(bytes.data()); }
  int64_t num_elements() const { return ::qdet::num_elements(shape); }
};

struct KernelOutput {
  Status prepare_status;
  Status eval_status;
  Shape shape;
  std::vector<float> values;  // float32 outputs
  std::vector<uint8_t> bytes; // the output's bytes, every dtype
};

// One pthreadpool per thread count, kept for the whole test program (nullptr for 1 thread,
// as the interpreter does).
inline pthreadpool_t shared_pool(int threads) {
  struct Pools {
    pthreadpool_t two = pthreadpool_create(2), four = pthreadpool_create(4);
    ~Pools() {
      pthreadpool_destroy(two);
      pthreadpool_destroy(four);
    }
  };
  static Pools pools;
  if (threads <= 1) return nullptr;
  return threads == 2 ? pools.two : pools.four;
}

// Runs `kernel` on `inputs` (nullptr entries are absent optional inputs): prepare with only
// constant data visible, then eval with every input bound. Output values are NaN-filled before
// eval so that an element the kernel forgets to write fails the comparison. The output is
// float32 unless `output_like` gives its dtype and quantization. `exact_float`: the plan keeps
// XNNPACK's float bytes (PrepareContext::exact_float). `after_prepare`, when given, sees the
// prepared op's data and the bound inputs before eval (a plan-time hook such as
// Kernel::fold_input_pad, which may rebind an input); false from it fails the prepare.
inline KernelOutput run_kernel(const Kernel& kernel, const graph::Op& op,
                               const std::vector<const TestTensor*>& inputs, int threads = 1,
                               const TestTensor* output_like = nullptr, bool exact_float = false,
                               const std::function<bool(OpData*, std::vector<TensorRef>&)>& after_prepare = {}) {
  static const QuantParams kNoQuant;
  pthreadpool_t pool = shared_pool(threads);
  std::vector<TensorRef> in_refs(inputs.size());
  std::vector<TensorRef*> in_ptrs(inputs.size(), nullptr);
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i] == nullptr) continue;
    TensorRef& r = in_refs[i];
    r.id = static_cast<int32_t>(i);
    r.dtype = inputs[i]->dtype;
    r.shape = inputs[i]->shape;
    r.quant = &inputs[i]->quant;
    r.is_constant = inputs[i]->constant;
    r.data = r.is_constant ? const_cast<uint8_t*>(inputs[i]->bytes.data()) : nullptr;
    in_ptrs[i] = &r;
  }
  TensorRef out_ref;
  out_ref.id = static_cast<int32_t>(inputs.size());
  out_ref.dtype = output_like != nullptr ? output_like->dtype : DType::kFloat32;
  out_ref.quant = output_like != nullptr ? &output_like->quant : &kNoQuant;
  TensorRef* out_ptrs[1] = {&out_ref};

  KernelOutput result;
  PrepareContext prepare{.op = op,
                         .op_index = 0,
                         .inputs = in_ptrs,
                         .outputs = out_ptrs,
                         .num_threads = threads,
                         .threadpool = pool,
                         .exact_float = exact_float};
  result.prepare_status = kernel.prepare(prepare);
  if (!result.prepare_status.ok()) return result;

  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i] != nullptr) in_refs[i].data = const_cast<uint8_t*>(inputs[i]->bytes.data());
  if (after_prepare && !after_prepare(prepare.op_data.get(), in_refs)) {
    result.prepare_status = internal_error("{}: the hook after prepare refused the prepared op", kernel.name);
    return result;
  }
  const size_t out_elements = static_cast<size_t>(out_ref.num_elements());
  // 0xFF bytes: NaN in float32, -1 in integers.
  std::vector<uint8_t> out(out_ref.byte_size() + kTailBytes, 0xFF);
  out_ref.data = out.data();
  std::vector<uint8_t> scratch(prepare.scratch_bytes + 64);
  uint8_t* scratch_aligned = scratch.data() + (64 - reinterpret_cast<uintptr_t>(scratch.data()) % 64) % 64;
  EvalContext eval{.op = op,
                   .inputs = in_ptrs,
                   .outputs = out_ptrs,
                   .op_data = prepare.op_data.get(),
                   .scratch = scratch_aligned,
                   .threadpool = pool};
  result.eval_status = kernel.eval(eval);
  result.shape = out_ref.shape;
  out.resize(out_ref.byte_size());
  if (out_ref.dtype == DType::kFloat32) {
    result.values.resize(out_elements);
    if (out_elements > 0) std::memcpy(result.values.data(), out.data(), out.size());
  }
  result.bytes = std::move(out);
  return result;
}

// NaN, +infinity and -infinity in turn at every `every`-th element of `x`, from the first.
inline void scatter_nan_and_infinities(std::vector<float>& x, size_t every) {
  for (size_t i = 0; i < x.size(); i += every)
    x[i] = i % 3 == 0 ? std::numeric_limits<float>::quiet_NaN()
                      : (i % 3 == 1 ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity());
}

// qdet's `simd` float kernel, in a plan that keeps XNNPACK's float bytes, against the XNNPACK
// kernel `xnnpack` on the same op and inputs: the same bits in every output element (the count of
// those that differ and the first shown), and the same bytes again with 3 threads.
inline void expect_xnnpacks_float_bits(const Kernel& simd, const Kernel& xnnpack, const graph::Op& op,
                                       const std::vector<const TestTensor*>& inputs, const std::string& what) {
  const KernelOutput got = run_kernel(simd, op, inputs, 1, nullptr, /*exact_float=*/true);
  ASSERT_TRUE(got.prepare_status.ok()) << what << ": " << got.prepare_status.message();
  ASSERT_TRUE(got.eval_status.ok()) << what << ": " << got.eval_status.message();
  const KernelOutput xnn = run_kernel(xnnpack, op, inputs, 1);
  ASSERT_TRUE(xnn.prepare_status.ok() && xnn.eval_status.ok()) << what << ": " << xnn.prepare_status.message();
  ASSERT_EQ(got.shape, xnn.shape) << what;
  ASSERT_EQ(got.values.size(), xnn.values.size()) << what;
  size_t differ = 0, first = 0;
  for (size_t i = 0; i < got.values.size(); ++i)
    if (std::memcmp(&got.values[i], &xnn.values[i], sizeof(float)) != 0 && differ++ == 0) first = i;
  EXPECT_EQ(differ, 0u) << what << ": " << differ << " of " << got.values.size() << " outputs differ, the first ["
                        << first << "] " << got.values[first] << " against XNNPACK's " << xnn.values[first];
  const KernelOutput three = run_kernel(simd, op, inputs, 3, nullptr, /*exact_float=*/true);
  ASSERT_TRUE(three.prepare_status.ok() && three.eval_status.ok()) << what;
  EXPECT_TRUE(three.bytes == got.bytes) << what << ": 3 threads differ";
}

// The reference kernel of `kind` from the registry (reference implementations only).
inline const Kernel* reference_kernel(graph::OpKind kind) {
  auto candidates = default_kernel_registry().candidates(kind, /*allow_fast=*/false);
  return candidates.empty() ? nullptr : candidates.front();
}

// The reference kernel as the interpreter finds it: the first reference candidate of `registry`
// whose prepare does not answer kUnsupported (float kernels come before the quantized ones).
inline KernelOutput run_reference(graph::OpKind kind, const graph::Op& op,
                                  const std::vector<const TestTensor*>& inputs, const TestTensor& out,
                                  const KernelRegistry& registry = default_kernel_registry()) {
  KernelOutput last;
  last.prepare_status = unsupported("no kernel registered for {}", graph::op_name(kind));
  for (const Kernel* k : registry.candidates(kind, /*allow_fast=*/false)) {
    last = run_kernel(*k, op, inputs, 1, &out);
    if (last.prepare_status.code() != StatusCode::kUnsupported) return last;
  }
  return last;
}

// The fast kernel of `kind` ("xnnpack" or "copy"), looked up in the registry as the
// interpreter does: the first candidate that is neither the reference nor oneDNN's nor qdet's
// SIMD kernels (tested on their own: onednn_quantized_test.cpp, simd_*_test.cpp).
inline const Kernel* fast_kernel(graph::OpKind kind) {
  for (const Kernel* k : default_kernel_registry().candidates(kind, /*allow_fast=*/true))
    if (std::string(k->name) != "reference" && std::string(k->name) != "onednn" && std::string(k->name) != "simd")
      return k;
  return nullptr;
}

// A tensor of `values` (any element type) with its quantization, owned by the test.
template <typename T>
inline TestTensor make_tensor(DType dtype, Shape shape, const std::vector<T>& values, QuantParams quant,
                       bool constant) {
  TestTensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.constant = constant;
  t.quant = std::move(quant);
  t.bytes.assign(values.size() * sizeof(T) + kTailBytes, 0);
  if (!values.empty()) std::memcpy(t.bytes.data(), values.data(), values.size() * sizeof(T));
  return t;
}

inline std::vector<float> random_floats(std::mt19937& rng, int64_t n, float lo, float hi) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

inline std::vector<int8_t> random_int8s(std::mt19937& rng, int64_t n) {
  std::uniform_int_distribution<int> dist(-128, 127);
  std::vector<int8_t> v(static_cast<size_t>(n));
  for (int8_t& x : v) x = static_cast<int8_t>(dist(rng));
  return v;
}

inline float max_abs(const std::vector<float>& v) {
  float m = 0.0f;
  for (float x : v) m = std::max(m, std::fabs(x));
  return m;
}

// Runs reference and XNNPACK on the same inputs and checks every output element with
// |fast - ref| <= tolerance(i). `what` names the parameters for failure messages.
// Outputs that are not float32 (`output_like`) must match byte for byte.
template <typename Tolerance>
void expect_matches_reference(graph::OpKind kind, const graph::Op& op,
                              const std::vector<const TestTensor*>& inputs, Tolerance tolerance,
                              const std::string& what, const TestTensor* output_like = nullptr) {
  const Kernel* ref = reference_kernel(kind);
  const Kernel* fast = fast_kernel(kind);
  ASSERT_NE(ref, nullptr) << "no reference kernel for " << graph::op_name(kind);
  ASSERT_NE(fast, nullptr) << "no fast kernel for " << graph::op_name(kind);
  const KernelOutput expected = run_kernel(*ref, op, inputs, 1, output_like);
  ASSERT_TRUE(expected.prepare_status.ok()) << what << ": reference prepare: "
                                            << expected.prepare_status.message();
  ASSERT_TRUE(expected.eval_status.ok()) << what << ": reference eval: "
                                         << expected.eval_status.message();
  const KernelOutput actual = run_kernel(*fast, op, inputs, 1, output_like);
  ASSERT_TRUE(actual.prepare_status.ok()) << what << ": fast prepare: "
                                          << actual.prepare_status.message();
  ASSERT_TRUE(actual.eval_status.ok()) << what << ": fast eval: "
                                       << actual.eval_status.message();
  ASSERT_EQ(actual.shape, expected.shape) << what;
  ASSERT_EQ(actual.bytes.size(), expected.bytes.size()) << what;
  if (output_like != nullptr && output_like->dtype != DType::kFloat32) {
    EXPECT_TRUE(actual.bytes == expected.bytes) << what << ": output bytes differ";
    return;
  }
  int reported = 0;
  for (size_t i = 0; i < expected.values.size(); ++i) {
    const float e = expected.values[i], a = actual.values[i];
    const double tol = tolerance(i);
    const bool ok = std::isnan(e) ? std::isnan(a) : std::fabs(double(a) - double(e)) <= tol;
    if (!ok) {
      ADD_FAILURE() << what << ": output[" << i << "] fast " << a << " reference " << e
                    << " |diff| " << std::fabs(double(a) - double(e)) << " > tolerance " << tol;
      if (++reported >= 5) return;
    }
  }
}

// The fast kernel gives bit-identical outputs with 1, 2 and 4 threads.
inline void expect_thread_invariant(graph::OpKind kind, const graph::Op& op,
                                    const std::vector<const TestTensor*>& inputs,
                                    const std::string& what,
                                    const TestTensor* output_like = nullptr) {
  const Kernel* fast = fast_kernel(kind);
  ASSERT_NE(fast, nullptr);
  const KernelOutput one = run_kernel(*fast, op, inputs, 1, output_like);
  ASSERT_TRUE(one.prepare_status.ok() && one.eval_status.ok())
      << what << ": " << one.prepare_status.message() << one.eval_status.message();
  for (int threads : {2, 4}) {
    const KernelOutput many = run_kernel(*fast, op, inputs, threads, output_like);
    ASSERT_EQ(pthreadpool_get_threads_count(shared_pool(threads)), size_t(threads));
    ASSERT_TRUE(many.prepare_status.ok() && many.eval_status.ok()) << what;
    EXPECT_TRUE(many.bytes == one.bytes)
        << what << ": " << threads << " threads differ from 1 thread";
  }
}


inline QuantParams per_channel(std::vector<float> scales, int32_t axis) {
  QuantParams q;
  q.zero_point.assign(scales.size(), 0);
  q.scale = std::move(scales);
  q.quantized_dimension = axis;
  return q;
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

// Float model of quantization: round(real / scale) + zp, clamped, in double.
inline int32_t quantize_double(double real, double scale, int32_t zp, int32_t qmin, int32_t qmax) {
  const double q = std::round(real / scale) + zp;
  return static_cast<int32_t>(std::clamp<double>(q, qmin, qmax));
}

// One op assembled by hand (inputs, attrs, the output's dtype and quantization) and run by
// run_reference on the reference quantized kernels (or on `registry`'s reference kernels).
class KernelHarness {
 public:
  explicit KernelHarness(graph::OpKind kind) { op.kind = kind; }

  graph::Op op;  // set attrs before run()

  template <typename T>
  int add_input(Shape shape, const std::vector<T>& values, QuantParams quant = {}, bool constant = false) {
    inputs_.push_back(make_tensor(kDTypeOf<T>, std::move(shape), values, std::move(quant), constant));
    return static_cast<int>(inputs_.size()) - 1;
  }
  void add_absent_input() { inputs_.push_back(std::nullopt); }
  void add_output(DType dtype, QuantParams quant) {
    output_like_.dtype = dtype;
    output_like_.quant = std::move(quant);
  }

  // Runs the op (prepare, then eval when prepare succeeds); gives prepare's status: that of the
  // first reference kernel not answering kUnsupported, or the last kUnsupported one.
  Status prepare(const KernelRegistry* registry = nullptr) {
    std::vector<const TestTensor*> inputs;
    for (const auto& t : inputs_) inputs.push_back(t ? &*t : nullptr);
    result_ = run_reference(op.kind, op, inputs, output_like_, registry ? *registry : quantized_registry());
    return result_.prepare_status;
  }
  Status eval() const { return result_.eval_status; }

  // prepare + eval; fails the test with the message on error.
  void run() {
    Status s = prepare();
    ASSERT_TRUE(s.ok()) << s.message();
    s = eval();
    ASSERT_TRUE(s.ok()) << s.message();
  }

  const Shape& output_shape() const { return result_.shape; }
  template <typename T>
  std::vector<T> output() const {
    std::vector<T> v(result_.bytes.size() / sizeof(T));
    if (!v.empty()) std::memcpy(v.data(), result_.bytes.data(), v.size() * sizeof(T));
    return v;
  }

 private:
  static const KernelRegistry& quantized_registry() {
    static KernelRegistry registry;
    static const bool filled = (register_reference_quantized_kernels(registry), true);
    (void)filled;
    return registry;
  }
  std::vector<std::optional<TestTensor>> inputs_;
  TestTensor output_like_;
  KernelOutput result_;
};

inline const char* padding_name(graph::Padding p) {
  return p == graph::Padding::kSame ? "SAME" : "VALID";
}

// Output byte i of an int8 or uint8 tensor as its value.
inline int32_t element(const std::vector<uint8_t>& bytes, DType dtype, size_t i) {
  return dtype == DType::kInt8 ? int32_t{static_cast<int8_t>(bytes[i])} : int32_t{bytes[i]};
}

// An 8-bit kernel of qdet's SIMD family (its 1-thread run `got`) against XNNPACK's kernel for the
// same op, whose bytes it must give; the reference (TFLite's fixed-point requantization: within
// one step, and with more than 10 distinct values when there are over `distinct_from` outputs, so
// the case is not saturated); and itself on 3 threads.
inline void expect_xnnpacks_bytes(const Kernel& simd, const Kernel& xnnpack, const graph::Op& op,
                                  const std::vector<const TestTensor*>& inputs, const TestTensor& out,
                                  const KernelOutput& got, const std::string& what, size_t distinct_from) {
  const KernelOutput xnn = run_kernel(xnnpack, op, inputs, 1, &out);
  ASSERT_TRUE(xnn.prepare_status.ok() && xnn.eval_status.ok()) << what << ": " << xnn.prepare_status.message();
  EXPECT_TRUE(got.bytes == xnn.bytes) << what << ": not XNNPACK's bytes";
  const KernelOutput ref = run_reference(op.kind, op, inputs, out);
  ASSERT_TRUE(ref.prepare_status.ok() && ref.eval_status.ok()) << what;
  ASSERT_EQ(got.shape, ref.shape) << what;
  std::vector<char> seen(256, 0);
  for (size_t i = 0; i < ref.bytes.size(); ++i) {
    const int32_t a = element(got.bytes, out.dtype, i), e = element(ref.bytes, out.dtype, i);
    seen[static_cast<uint8_t>(got.bytes[i])] = 1;
    ASSERT_LE(std::abs(a - e), 1) << what << ": output[" << i << "] simd " << a << " reference " << e;
  }
  if (ref.bytes.size() > distinct_from) {
    EXPECT_GT(std::count(seen.begin(), seen.end(), 1), 10) << what;
  }
  const KernelOutput three = run_kernel(simd, op, inputs, 3, &out);
  ASSERT_TRUE(three.prepare_status.ok() && three.eval_status.ok()) << what;
  EXPECT_TRUE(three.bytes == got.bytes) << what << ": 3 threads differ";
}

}  // namespace qdet::rt::testing
