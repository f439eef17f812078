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

}  // namespace qdet::rt::testing
