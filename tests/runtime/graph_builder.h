// Runs graphs built by hand (tests/test_graph_builder.h) through the Interpreter.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "runtime/interpreter.h"
#include "test_graph_builder.h"
#include "test_support.h"

namespace qdet::rt::testing {

using ::qdet::testing::to_bytes;

template <typename T>
std::vector<T> values_of(const TensorRef& t) {
  std::vector<T> v(static_cast<size_t>(t.num_elements()));
  if (!v.empty()) std::memcpy(v.data(), t.data, v.size() * sizeof(T));
  return v;
}

using ::qdet::testing::per_tensor;

inline constexpr DType F32 = DType::kFloat32;

using ::qdet::testing::GraphBuilder;

// Reference kernels only: what the kernel tests here check.
inline constexpr InterpreterOptions kReferenceOnly = {.use_fast_kernels = false};

// Creates an interpreter, copies `inputs` (bytes, in graph-input order) and invokes it.
inline Result<std::unique_ptr<Interpreter>> run_graph(
    std::shared_ptr<const graph::Graph> g, const std::vector<std::vector<uint8_t>>& inputs,
    InterpreterOptions options = kReferenceOnly) {
  QDET_ASSIGN_OR_RETURN(auto interp, Interpreter::create(std::move(g), options));
  if (inputs.size() != interp->num_inputs())
    return invalid_argument("test gave {} inputs for {}", inputs.size(), interp->num_inputs());
  for (size_t i = 0; i < inputs.size(); ++i) {
    TensorRef& t = interp->input(i);
    if (inputs[i].size() != t.byte_size())
      return invalid_argument("test input {} has {} bytes, tensor needs {}", i, inputs[i].size(),
                              t.byte_size());
    if (!inputs[i].empty()) std::memcpy(t.data, inputs[i].data(), inputs[i].size());
  }
  QDET_TRY(interp->invoke());
  return interp;
}

// y -> LOGISTIC -> MUL(y, sigmoid) (MUL(sigmoid, y) unless `y_first`): an int8/uint8 SiLU, the
// sigmoid with TFLite's fixed parameters; returns the MUL's output.
inline int32_t append_silu(GraphBuilder& b, int32_t y, DType t, const Shape& shape, bool y_first = true) {
  const bool s8 = t == DType::kInt8;
  const int32_t sig = b.tensor(t, shape, per_tensor(1.0f / 256, s8 ? -128 : 0));
  b.op(graph::OpKind::kLogistic, {y}, {sig});
  const int32_t out = b.tensor(t, shape, per_tensor(0.04f, s8 ? -120 : 8));
  b.op(graph::OpKind::kMul, y_first ? std::vector<int32_t>{y, sig} : std::vector<int32_t>{sig, y}, {out});
  return out;
}

// Runs `g` on `input` with the plan's fusions and with keep_intermediates (none): op 0 ran on
// `op0_kernel`, op 2 on `op2_kernel`, and every output has the unfused run's bytes.
inline void expect_unfused_bytes(const std::shared_ptr<const graph::Graph>& g, const std::vector<uint8_t>& input,
                                 const char* op0_kernel, const char* op2_kernel) {
  auto fused = run_graph(g, {input}, InterpreterOptions{});
  auto plain = run_graph(g, {input}, InterpreterOptions{.keep_intermediates = true});
  ASSERT_TRUE(fused.ok()) << fused.status().message();
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  ASSERT_STREQ((*fused)->kernel_name(0), op0_kernel);
  EXPECT_STREQ((*fused)->kernel_name(2), op2_kernel);
  for (size_t o = 0; o < (*fused)->num_outputs(); ++o)
    EXPECT_EQ(values_of<uint8_t>((*fused)->output(o)), values_of<uint8_t>((*plain)->output(o))) << "output " << o;
}

}  // namespace qdet::rt::testing
