// The op cases: one row per (op, dtype, option set) qdet claims to run as TFLite does, each a
// one-op graph on seeded inputs. Three things read this one table:
//   - the conformance suite (tests/conformance): each row is written as a .tflite by qdet's
//     writer and run in the official TFLite (WebAssembly peer) and in every qdet kernel family
//     that accepts it, on the same inputs (edge values first: qmin, qmax, the zero point and its
//     neighbours; 0, -0, large magnitudes for floats); float outputs agree within 1e-5 of the
//     output's range, integer outputs bit for bit, or within `tolerance` steps where TFLite's own
//     reference and XNNPACK-delegate kernels differ (the row says why);
//   - `qdet ops`: which kernel family serves each (op, dtype) cell, found by preparing the rows;
//   - the quantizer's closure test: every (op, dtype) the quantizer may write has a row.
// Adding an op or a dtype adds rows to op_cases.cpp, not test code.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <memory>

#include "graph/graph.h"
#include "graph/op.h"
#include "runtime/kernel_registry.h"
#include "tensor/dtype.h"
#include "tensor/shape.h"

namespace qdet::rt {

struct Quant {
  float scale = 0.0f;  // 0: not quantized (float tensors)
  int64_t zero_point = 0;
};

// A constant int32 input (axes, paddings, sizes) placed after the data inputs.
struct IntParam {
  Shape shape;
  std::vector<int32_t> values;
};

// A constant data input (weights, bias): its values are seeded random in the dtype's range
// (float: [-1, 1]); per-channel scales when `scales` has more than one entry.
struct ConstInput {
  DType dtype = DType::kFloat32;
  Shape shape;
  std::vector<float> scales;  // empty: not quantized
  int32_t axis = 0;           // quantized dimension
  bool like_input = false;    // quantized as the data inputs (PADV2's pad value)
};

struct OpCase {
  std::string name;  // unique, [A-Za-z0-9_]: the ctest name is Conformance/Ops.Run/<name>
  graph::OpKind op = graph::OpKind::kCount;
  DType dtype = DType::kFloat32;  // every data input
  std::vector<Shape> inputs;      // data inputs (graph inputs, seeded random)
  Quant in_q, out_q;              // of the data inputs / of the output
  graph::OpAttrs attrs;
  std::vector<IntParam> params;   // constant int32 inputs after the data inputs
  std::vector<ConstInput> consts;  // constant data inputs after the data inputs (weights, bias)
  bool params_first = false;       // the int32 params come before the data inputs (SPLIT)
  bool consts_last = false;        // the constant data inputs come after the params (PADV2)
  int consts_before_data = 0;      // this many constant inputs come before the data inputs
                                   // (TRANSPOSE_CONV: output shape, weights, input, bias)
  DType out_dtype = DType::kUnknown;  // kUnknown: the same as dtype
  int tolerance = 0;                  // integer steps allowed (0: bit-exact)
  std::string why;                    // why tolerance > 0: which TFLite kernels differ
  bool peer_lacks_op = false;  // the TFLite peer has no kernel (BROADCAST_TO): every family is
                               // compared with qdet's reference family instead
  bool positive_inputs = false;  // float data inputs in [1e-3, 8] (SQRT, RSQRT); int8 ones at
                                 // or above the zero point (values below mirrored)
  bool every_value = false;      // 8-bit data inputs hold each value of the dtype in turn (a
                                 // {256, 1} and a {1, 256} input: every pair of values)
  uint32_t seed = 0;  // nonzero: the inputs always come from this seed, not the suite's (inputs
                      // another QDET_CONFORMANCE_SEED found, kept as a regression case)
};

// Every row (built once).
const std::vector<OpCase>& op_cases();

// A row as a graph: its inputs, and the raw bytes of each graph input (seeded by `seed`).
// The output's shape is what qdet's kernels compute; `error` says why no graph was made
// (no kernel family accepts the row).
struct CaseGraph {
  std::shared_ptr<graph::Graph> graph;
  std::vector<std::vector<uint8_t>> inputs;
  std::string error;
};
CaseGraph build_case(const OpCase& c, uint32_t seed);

// The input dtypes in which some kernel family runs `kind` (its op cases that prepare): what
// the interpreter's "no kernel" error lists.
std::vector<DType> supported_input_dtypes(graph::OpKind kind);

// The kernel families whose kernels prepare the case's op (fast first).
std::vector<KernelImpl> accepting_families(const std::shared_ptr<const graph::Graph>& graph);

}  // namespace qdet::rt
