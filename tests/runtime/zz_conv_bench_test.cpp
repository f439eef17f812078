// scratch benchmark (not committed)
#include <gtest/gtest.h>
#include <time.h>
#include <random>
#include "runtime/kernels/onednn/kernels.h"
#include "runtime/kernels/xnnpack/kernels.h"
#include "kernel_test_support.h"
namespace qdet::rt::testing {
namespace {
double cpu_now() { timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
inline double time_kernel(const Kernel& kernel, const graph::Op& op,
                               const std::vector<const TestTensor*>& inputs, int threads = 1,
                               const TestTensor* output_like = nullptr, int reps = 20) {
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
                         .threadpool = pool};
  result.prepare_status = kernel.prepare(prepare);
  if (!result.prepare_status.ok()) return -1;

  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i] != nullptr) in_refs[i].data = const_cast<uint8_t*>(inputs[i]->bytes.data());
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
  kernel.eval(eval);
  double best = 1e9;
  for (int r = 0; r < reps; ++r) { const double t0 = cpu_now(); kernel.eval(eval); best = std::min(best, cpu_now() - t0); }
  return best;
}

TEST(ZZConvBench, DISABLED_Run) {
  struct C { int h, w, ci, co, k, s; };
  for (C cs : {C{208, 208, 12, 16, 3, 1}, C{104,104,32,32,1,1}, C{52,52,64,64,1,1}, C{13,13,256,256,1,1}}) {
    std::mt19937 rng(1);
    TestTensor in = TestTensor::floats({1, cs.h, cs.w, cs.ci}, random_floats(rng, int64_t{cs.h} * cs.w * cs.ci, -1, 1), false);
    TestTensor f = TestTensor::floats({cs.co, cs.k, cs.k, cs.ci}, random_floats(rng, int64_t{cs.co} * cs.k * cs.k * cs.ci, -1, 1), true);
    TestTensor b = TestTensor::floats({cs.co}, random_floats(rng, cs.co, -1, 1), true);
    graph::Op op; op.kind = graph::OpKind::kConv2d; op.attrs.stride_h = op.attrs.stride_w = cs.s;
    op.attrs.padding = graph::Padding::kSame;
    for (const Kernel* k : {&onednn::kConv2dFloat, &xnn::kConv2d}) {
      const double best = time_kernel(*k, op, {&in, &f, &b}, 1);
      printf("%dx%dx%d->%d k%d s%d %s: %.1f us (eval, min)\n", cs.h, cs.w, cs.ci, cs.co, cs.k, cs.s, k->name, best * 1e6);
    }
  }
}
}
}
namespace qdet::rt::testing {
namespace {
TEST(ZZMulBench, DISABLED_Run) {
  std::mt19937 rng(1);
  TestTensor a = TestTensor::floats({1, 3549, 85}, random_floats(rng, 3549 * 85, -1, 1), false);
  TestTensor b = TestTensor::floats({1, 3549, 85}, random_floats(rng, 3549 * 85, -1, 1), false);
  graph::Op op; op.kind = graph::OpKind::kMul;
  printf("mul xnn: %.1f us\n", time_kernel(xnn::kMul, op, {&a, &b}, 1) * 1e6);
  op.kind = graph::OpKind::kAdd;
  printf("add xnn: %.1f us\n", time_kernel(xnn::kAdd, op, {&a, &b}, 1) * 1e6);
}
}
}
