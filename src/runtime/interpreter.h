// qdet's TFLite interpreter: a plan built once (op order, kernel choice, tensor lifetimes, one
// arena), then invoke() runs it with no allocation. Results do not depend on num_threads.
// Inputs can be resized as TFLite's ResizeInputTensor + AllocateTensors do: resize_input()
// records the new shape, allocate_tensors() prepares every op again (each op's prepare
// computes its output shapes from its inputs' and checks them) and plans a new arena.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "graph/graph.h"
#include "runtime/kernel.h"

namespace qdet::rt {

struct InterpreterOptions {
  int num_threads = 1;
  bool use_fast_kernels = true;    // XNNPACK (and later oneDNN) where they apply
  bool keep_intermediates = false; // give every tensor its own memory so all stay readable
  uint64_t max_memory_bytes = 0;   // the arena's budget; 0: memory_budget() (base/memory.h)
  // Float ops give XNNPACK's bytes (oneDNN's float convolutions, which sum in another order,
  // decline): the quantizer's calibration and measurements, so that a quantized file does not
  // depend on which oneDNN implementation a CPU has. Models with QUANTIZE ops always are.
  bool exact_float = false;
};

class Interpreter {
 public:
  // The graph is shared: constant tensors are read in place, never copied.
  static Result<std::unique_ptr<Interpreter>> create(std::shared_ptr<const graph::Graph> graph,
                                                     const InterpreterOptions& options = {});
  ~Interpreter();

  size_t num_inputs() const;
  size_t num_outputs() const;
  // Graph inputs/outputs in graph order. Write inputs' data before invoke().
  TensorRef& input(size_t i);
  const TensorRef& output(size_t i) const;
  // Shapes are the ones the kernels computed; they equal the graph's declared shapes, except
  // where the graph declares an empty shape for an op output (TFLite files do so for outputs
  // whose shape the op decides, e.g. TFLite_Detection_PostProcess): read shapes from here.
  // Any tensor by id; activations are valid after invoke() only with keep_intermediates
  // (otherwise their memory may have been reused).
  const TensorRef& tensor(int32_t id) const;

  // Changes graph input i's shape; takes effect at allocate_tensors() (invoke() refuses to run
  // before). Dims must be positive. `strict` (TFLite's ResizeInputTensorStrict) allows changing
  // only the dims the file's shape_signature marks -1; a file without a signature has none.
  Status resize_input(size_t i, const Shape& shape, bool strict = false);
  // Plans again for the current input shapes: every op prepared (shapes propagated), constants
  // folded, a new arena (input and output data pointers change: write inputs afterwards). An op
  // that cannot take the new shapes (e.g. a decoder's constant grid table sized for the file's
  // input) gives one error naming the resized inputs, the op and the shapes; the interpreter
  // then goes back to the shapes of its last plan and stays usable.
  Status allocate_tensors();
  // Whether any input differs from the shape stored in the file.
  bool inputs_resized() const;

  Status invoke();
  // invoke() that also adds each op's wall time (ns) to op_ns[op] (resized to the op count):
  // a per-op profile. Timing costs a clock read per op, so latency is measured with invoke().
  Status invoke_profiled(std::vector<int64_t>& op_ns);

  const graph::Graph& graph() const;
  size_t arena_bytes() const;
  // Which implementation runs op i ("xnnpack", "copy", "reference"), or "folded" for an op
  // computed once when the plan was built (DEQUANTIZE of a constant: its output is a constant).
  const char* kernel_name(size_t op_index) const;

 private:
  Interpreter();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qdet::rt
