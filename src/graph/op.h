// Ops of the graph IR: a kind from ops.def plus flat attributes (TFLite builtin options).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qdet::graph {

enum class OpKind : uint16_t {
#define QDET_OP(kind, name, builtin) kind,
#include "graph/ops.def"
#undef QDET_OP
  kCount,
};

inline constexpr int32_t kTfliteCustomBuiltin = 32;

const char* op_name(OpKind kind);                 // "CONV_2D", "TFLite_Detection_PostProcess"
int32_t op_tflite_builtin(OpKind kind);           // TFLite BuiltinOperator value (32 for custom)
bool op_is_custom(OpKind kind);                   // true for custom ops (builtin CUSTOM)
std::optional<OpKind> op_from_tflite_builtin(int32_t builtin);   // non-custom ops only
std::optional<OpKind> op_from_custom_code(std::string_view code);
std::optional<OpKind> op_from_name(std::string_view name);

// TFLite enum values (schema.fbs): Padding and ActivationFunctionType.
enum class Padding : uint8_t { kSame = 0, kValid = 1 };
enum class Activation : uint8_t { kNone = 0, kRelu = 1, kReluN1To1 = 2, kRelu6 = 3, kTanh = 4, kSignBit = 5 };
const char* activation_name(Activation a);

// Builtin options of every op, flattened into one struct. Each field says which ops read it;
// fields an op does not use keep their defaults (and are not written to files).
struct OpAttrs {
  // CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV, AVERAGE/MAX_POOL_2D
  Padding padding = Padding::kSame;
  int32_t stride_w = 1, stride_h = 1;
  int32_t dilation_w = 1, dilation_h = 1;  // CONV_2D, DEPTHWISE_CONV_2D
  int32_t filter_w = 1, filter_h = 1;      // pools
  int32_t depth_multiplier = 1;            // DEPTHWISE_CONV_2D (informational; shapes decide)
  // fused activation: CONV_2D, DEPTHWISE_CONV_2D, pools, ADD, SUB, MUL, DIV, CONCATENATION,
  // FULLY_CONNECTED, TRANSPOSE_CONV
  Activation activation = Activation::kNone;
  // CONCATENATION, GATHER, PACK, UNPACK (axis); SPLIT, SPLIT_V (num_splits); PACK
  // (values_count), UNPACK (num, its number of outputs)
  int32_t axis = 0;
  int32_t num_splits = 0;
  int32_t values_count = 0;
  // STRIDED_SLICE
  int32_t begin_mask = 0, end_mask = 0, ellipsis_mask = 0, new_axis_mask = 0, shrink_axis_mask = 0;
  bool offset = false;
  // RESHAPE: new_shape from options when the file has them (the shape input wins when present)
  std::vector<int32_t> new_shape;
  bool has_new_shape = false;
  // RESIZE_BILINEAR, RESIZE_NEAREST_NEIGHBOR
  bool align_corners = false, half_pixel_centers = false;
  // SOFTMAX (beta), LEAKY_RELU (alpha)
  float beta = 1.0f;
  float alpha = 0.0f;
  // FULLY_CONNECTED
  bool keep_num_dims = false;
  bool asymmetric_quantize_inputs = false;  // FULLY_CONNECTED, CONV (hybrid)
  // MEAN, REDUCE_* (keep_dims); SQUEEZE (squeeze_dims)
  bool keep_dims = false;
  std::vector<int32_t> squeeze_dims;
  // ADD, SUB: int16 power-of-two scale variant (TFLite default true)
  bool pot_scale_int16 = true;
  // DEPTH_TO_SPACE, SPACE_TO_DEPTH
  int32_t block_size = 0;
  // GATHER
  int32_t batch_dims = 0;
  // ARG_MAX, ARG_MIN: the index type (TFLite's TensorType value: 2 int32, 4 int64)
  int32_t output_type = 4;
  // MIRROR_PAD: SYMMETRIC (true) or REFLECT (false)
  bool mirror_symmetric = false;
  // BATCH_MATMUL
  bool adj_x = false, adj_y = false;

  bool operator==(const OpAttrs&) const = default;
};

struct Op {
  OpKind kind = OpKind::kCount;
  int32_t version = 1;          // TFLite op version from the operator code
  std::vector<int32_t> inputs;  // tensor ids; -1 marks an absent optional input
  std::vector<int32_t> outputs;
  OpAttrs attrs;
  std::string custom_code;               // custom ops only
  std::vector<uint8_t> custom_options;   // custom ops: raw flexbuffer bytes

  const char* name() const { return op_name(kind); }
};

}  // namespace qdet::graph
