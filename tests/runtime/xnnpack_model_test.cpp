// Whole-model checks of the fast kernels on YOLOX-Nano fp32 (../shared/data/models): the
// interpreter with fast kernels agrees with the reference-only interpreter, picks the fast
// kernels for the hot ops, and gives bit-identical outputs with 1, 2 and 4 threads.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <string>

#include "base/paths.h"
#include "runtime/interpreter.h"
#include "test_support.h"
#include "tflite/reader.h"

namespace qdet::rt::testing {
namespace {

std::filesystem::path yolox_path() {
  return data_dir() / "models" / "yolox_nano_fp32_416.tflite";
}

std::shared_ptr<const graph::Graph> load_graph(const std::filesystem::path& path) {
  auto model = tflite::load_tflite(path);
  EXPECT_TRUE(model.ok()) << model.status().message();
  if (!model.ok()) return nullptr;
  return std::make_shared<const graph::Graph>(std::move(model->graph));
}

struct RunOutput {
  std::vector<std::vector<uint8_t>> outputs;
  std::map<std::string, std::string> kernel_of_op;  // "CONV_2D" -> kernel names seen
};

// Runs the model on seeded random pixels in [0, 255].
RunOutput run_model(std::shared_ptr<const graph::Graph> graph, bool fast, int threads) {
  RunOutput result;
  InterpreterOptions options;
  options.use_fast_kernels = fast;
  options.num_threads = threads;
  auto interp = Interpreter::create(graph, options);
  EXPECT_TRUE(interp.ok()) << interp.status().message();
  if (!interp.ok()) return result;
  Interpreter& in = **interp;
  std::mt19937 rng(2024);
  std::uniform_real_distribution<float> pixel(0.0f, 255.0f);
  for (size_t i = 0; i < in.num_inputs(); ++i) {
    TensorRef& t = in.input(i);
    EXPECT_EQ(t.dtype, DType::kFloat32);
    for (int64_t k = 0; k < t.num_elements(); ++k) t.as<float>()[k] = pixel(rng);
  }
  const Status s = in.invoke();
  EXPECT_TRUE(s.ok()) << s.message();
  for (size_t i = 0; i < in.num_outputs(); ++i) {
    const TensorRef& t = in.output(i);
    result.outputs.emplace_back(t.data, t.data + t.byte_size());
  }
  for (size_t i = 0; i < graph->ops.size(); ++i) {
    std::string& names = result.kernel_of_op[graph->ops[i].name()];
    const std::string k = in.kernel_name(i);
    if (names.find(k) == std::string::npos) names += (names.empty() ? "" : ",") + k;
  }
  return result;
}

std::vector<float> as_floats(const std::vector<uint8_t>& bytes) {
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
  return v;
}

TEST(XnnpackModel, YoloxNanoFastKernelsMatchReference) {
  QDET_REQUIRE_PATH(yolox_path());
  auto graph = load_graph(yolox_path());
  ASSERT_NE(graph, nullptr);
  const RunOutput fast = run_model(graph, /*fast=*/true, 1);
  const RunOutput ref = run_model(graph, /*fast=*/false, 1);
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(fast.kernel_of_op.at("DEPTHWISE_CONV_2D"), "xnnpack");
  // The residual ADDs after a SiLU are taken into it (silu-add; "fused" where a concatenation
  // took that in); the decode's two tensor_scatter_nd_updates are one pass each
  // (scatter-update); the head's grid ADD stays on XNNPACK. Its constant masks (BROADCAST_TO,
  // SCATTER_ND, SUB of constants) are folded.
  EXPECT_EQ(fast.kernel_of_op.at("ADD"), "fused,silu-add,xnnpack,scatter-update");
  EXPECT_EQ(fast.kernel_of_op.at("BROADCAST_TO"), "folded");
  EXPECT_EQ(fast.kernel_of_op.at("SUB"), "folded");
  EXPECT_EQ(fast.kernel_of_op.at("SCATTER_ND"), "folded,fused");
  // Float convolutions: qdet's own for 1x1 filters and oneDNN's JIT kernels for the others where
  // the CPU has AVX-512 (QDET_ONEDNN=0: XNNPACK for those).
  const std::string convs = fast.kernel_of_op.at("CONV_2D");
  EXPECT_TRUE(convs == "onednn,simd" || convs == "xnnpack,simd" || convs == "onednn" || convs == "xnnpack") << convs;
  // SiLU, MUL(x, LOGISTIC(x)), runs as one pass (silu_float.cpp; "fused" where an ADD took it
  // in); the head's other MULs and its score LOGISTIC stay on XNNPACK.
  EXPECT_EQ(fast.kernel_of_op.at("MUL"), "silu,fused,xnnpack");
  EXPECT_EQ(fast.kernel_of_op.at("LOGISTIC"), "fused,xnnpack");
  EXPECT_EQ(fast.kernel_of_op.at("RESIZE_NEAREST_NEIGHBOR"), "copy");
  // The head's NCHW join (3 TRANSPOSEs, RESHAPEs, a CONCATENATION, a TRANSPOSE back) is one copy
  // run by the last TRANSPOSE (transpose_concat.h); the CSP concatenations compute the SiLUs
  // that feed them (concat-silu); the others copy.
  EXPECT_EQ(fast.kernel_of_op.at("CONCATENATION"), "copy,concat-silu,fused");
  EXPECT_EQ(fast.kernel_of_op.at("TRANSPOSE"), "fused,copy");
  ASSERT_EQ(fast.outputs.size(), ref.outputs.size());
  for (size_t o = 0; o < ref.outputs.size(); ++o) {
    const std::vector<float> a = as_floats(fast.outputs[o]), e = as_floats(ref.outputs[o]);
    ASSERT_EQ(a.size(), e.size());
    // Both runs are float32 with different summation orders (and FMA) in every convolution;
    // the rounding differences (~1e-7 relative per op) compound through ~80 convolutions and
    // the head's exp(). Each output element must agree to 1e-4 of its own magnitude or of the
    // tensor's largest magnitude times 1e-5, whichever is larger: a wrong kernel (a padding,
    // stride, broadcast or activation error) moves outputs by far more.
    float max_ref = 0.0f;
    for (float x : e) max_ref = std::max(max_ref, std::fabs(x));
    int reported = 0;
    double worst = 0.0;  // largest |diff| / tolerance, printed to show the margin
    for (size_t i = 0; i < e.size(); ++i) {
      const double tol = std::max(1e-4 * std::fabs(e[i]), 1e-5 * max_ref);
      const double diff = std::fabs(double(a[i]) - double(e[i]));
      worst = std::max(worst, diff / tol);
      if (!(diff <= tol) && ++reported <= 5)
        ADD_FAILURE() << "output " << o << "[" << i << "]: fast " << a[i] << " reference "
                      << e[i] << " tolerance " << tol;
    }
    std::printf("output %zu: %zu values, largest |diff| is %.3g of the tolerance\n", o, e.size(),
                worst);
  }
}

TEST(XnnpackModel, YoloxNanoThreadCountInvariant) {
  QDET_REQUIRE_PATH(yolox_path());
  auto graph = load_graph(yolox_path());
  ASSERT_NE(graph, nullptr);
  const RunOutput one = run_model(graph, /*fast=*/true, 1);
  for (int threads : {2, 4}) {
    const RunOutput many = run_model(graph, /*fast=*/true, threads);
    ASSERT_EQ(many.outputs.size(), one.outputs.size());
    for (size_t o = 0; o < one.outputs.size(); ++o)
      EXPECT_TRUE(many.outputs[o] == one.outputs[o])
          << "output " << o << " with " << threads << " threads differs from 1 thread";
  }
}

}  // namespace
}  // namespace qdet::rt::testing
