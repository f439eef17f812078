// The quantizer's graph transforms, one per mode (docs/ARCHITECTURE.md, "Quantizer"). Each takes a Model and returns
// a new one; none reads files or runs the model. Messages for the user (what was done, what
// was kept in float and why) are appended to `Notes`.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "graph/graph.h"
#include "quant/spec.h"

namespace qdet::quant {

struct Notes {
  std::vector<std::string> info;      // what the transform did
  std::vector<std::string> warnings;  // what it could not do (an op kept in float, ...)
};

// --- float: any model to float32 ------------------------------------------------------------
// float16 constants become float32; integer tensors with quantization parameters (weights,
// biases, activations, anchors) become float32 with their real values; QUANTIZE and DEQUANTIZE
// ops disappear. With keep_integer_io (the default), a uint8/int8 graph input stays integer and
// is followed by one DEQUANTIZE, and an integer graph output is preceded by one QUANTIZE, so
// the model keeps its interface (and its preprocessing). Custom ops such as
// TFLite_Detection_PostProcess stay, now with float inputs.
struct FloatOptions {
  bool keep_integer_io = true;
};
Result<graph::Model> dequantize_model(const graph::Model& model, const FloatOptions& options,
                                      Notes* notes);

// --- fp16: float16 weights ------------------------------------------------------------------
// As the TFLite converter's float16 quantization: every float32 constant that an op reads
// becomes a float16 constant (same name) followed by a DEQUANTIZE to float32 ("<name>_dequantize")
// placed before its first reader. Activations stay float32. Ops in `float_ops` keep float32
// constants.
// `id_map` (may be null) receives old tensor id -> new id (-1 for tensors that went away).
Result<graph::Model> to_fp16(const graph::Model& float_model, const std::set<int32_t>& float_ops,
                             Notes* notes, std::vector<int32_t>* id_map = nullptr);
// The same rewrite for the float32 constants that `convert(op, tensor)` selects (called for each
// reader op of each float32 constant). Counts what it converted and the bytes it saved.
Result<graph::Model> constants_to_fp16(const graph::Model& model,
                                       const std::function<bool(int32_t op, int32_t tensor)>& convert,
                                       int* converted, size_t* bytes_saved,
                                       std::vector<int32_t>* id_map = nullptr);

// --- dynamic: int8 weights, float activations ------------------------------------------------
// As TFLite's dynamic-range quantization: the constant weights of CONV_2D, DEPTHWISE_CONV_2D and
// FULLY_CONNECTED with at least `min_elements` values (TFLite's default 1024; smaller ones stay
// float) become int8 symmetric, per channel for convolutions and per tensor for
// FULLY_CONNECTED. With `hybrid`, the ops read the int8 weights directly (TFLite's hybrid
// kernels quantize the activations on the fly; to_dynamic.cpp has the op versions and the ops
// that keep DEQUANTIZE); without, a DEQUANTIZE to float32 is inserted (weights-only
// quantization; qdet folds it at load and runs float kernels). `qdet quantize` uses the
// weights-only form unless --hybrid is given (QuantizeOptions::hybrid).
struct DynamicOptions {
  bool hybrid = true;
  bool mse_scales = true;  // per-channel scales chosen for least rounding error (else max|w|/127)
  int64_t min_elements = 1024;
  std::set<int32_t> float_ops;
};
Result<graph::Model> to_dynamic(const graph::Model& float_model, const DynamicOptions& options,
                                Notes* notes);

// --- int8 / int16x8: full integer -------------------------------------------------------------
// Ranges of float activations, by tensor key (graph_edit.h tensor_keys).
using RangeMap = std::unordered_map<std::string, Range>;

enum class IoType : uint8_t { kFloat, kInt8, kUInt8, kInt16 };
const char* io_type_name(IoType io);
Result<IoType> parse_io_type(const std::string& name);

// Per-channel (last dimension) means of float activations, by tensor key, as calibration
// measured them (calibrate.h StatisticsCollector::channel_means).
using ChannelMeans = std::unordered_map<std::string, std::vector<double>>;

struct IntegerOptions {
  DType activations = DType::kInt8;  // kInt8 (int8) or kInt16 (int16x8)
  IoType io = IoType::kFloat;        // float32 graph inputs/outputs become this
  bool per_channel = true;           // per-channel weights (false: per tensor)
  bool mse_weight_scales = false;    // weight scales for least rounding error (spec.h), else max|w|/127
  std::set<int32_t> float_ops;       // op indices kept in float (head-aware, --keep-float)
  // Bias correction (Nagel et al. 2019, empirical): for a quantized CONV_2D, DEPTHWISE_CONV_2D
  // or FULLY_CONNECTED that has a bias and whose data input has means here, the expected
  // output error of weight rounding, (W_q - W) . E[x] per output channel (summed over kernel
  // positions, padding ignored), is subtracted from the float bias before it is quantized.
  // Empty: no correction.
  ChannelMeans input_means;
  // Weights rounded elsewhere (GPTQ, gptq.h), by source tensor id: used as they are instead of
  // round(w / scale) when their layout matches (per channel on the op's axis, or per tensor).
  std::unordered_map<int32_t, QuantizedConstant> rounded_weights;
};

struct IntegerResult {
  graph::Model model;
  // For each tensor id of the input graph: the id in `model` that holds its value (quantized
  // where it was quantized, float where it stayed float), -1 when it has no counterpart.
  std::vector<int32_t> tensor_map;
  std::set<int32_t> float_ops;  // the ops that stayed float (requested or unsupported)
};

// Rewrites a float graph to integer arithmetic following the TFLite spec (spec.h): ops with an
// integer kernel for `activations` and not in float_ops are quantized; their weights per
// channel, biases int32 (int64 for 16x8), activations per tensor from `ranges`, fixed outputs
// of LOGISTIC/SOFTMAX/TANH, byte-moving ops with their input's parameters, concatenations
// with requantized inputs. QUANTIZE/DEQUANTIZE go wherever integer and float parts meet. An op
// that cannot be quantized (no integer kernel, non-float weights) stays float with a warning
// naming it. Error when a range that is needed is missing (naming the tensors).
Result<IntegerResult> quantize_integer(const graph::Model& float_model, const RangeMap& ranges,
                                       const IntegerOptions& options, Notes* notes);

// --- compaction: lossless size reductions of a finished model ------------------------------
// Each keeps the model's outputs equal (the same values; a zero's sign aside) and appends what
// it did to `notes`; `id_map` (may be null) receives old tensor id -> new id (-1: removed).
// `qdet quantize` runs both after every mode but float (--no-compact: off).
//
// SCATTER_ND into zeros is a PAD when its indices and shape are constant and the indices write
// the updates as one dense box in order: index[u] = begin + u for every update position u, so
// the output is the updates with begin zeros before and the rest after, per dimension. Exported
// decoders use it for slice assignment: YOLOX-Nano writes its decoded boxes back with two
// [1,3549,2,3] int32 index tables, 170 KB (13%) of its int8 file, which become two [3,2]
// paddings. Float32 updates only (an integer PAD fills with the zero point, SCATTER_ND with 0).
Status scatter_nd_to_pad(graph::Model& model, Notes* notes, std::vector<int32_t>* id_map = nullptr);

// Float32 constants of at least `min_elements` values that float16 holds exactly (every value
// round-trips bit for bit) and that only elementwise arithmetic reads (ADD, SUB, MUL, DIV,
// MAXIMUM, MINIMUM) become float16 + DEQUANTIZE: the grid and stride tables of decoders, which
// are small integers and powers of two.
Status exact_fp16_constants(graph::Model& model, Notes* notes, int64_t min_elements = 64,
                            std::vector<int32_t>* id_map = nullptr);

}  // namespace qdet::quant
