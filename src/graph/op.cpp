#include "graph/op.h"

namespace qdet::graph {
namespace {

struct OpRow {
  OpKind kind;
  const char* name;
  int32_t builtin;
};

constexpr OpRow kOps[] = {
#define QDET_OP(kind, name, builtin) {OpKind::kind, name, builtin},
#include "graph/ops.def"
#undef QDET_OP
};
static_assert(sizeof(kOps) / sizeof(kOps[0]) == static_cast<size_t>(OpKind::kCount),
              "one row per OpKind");

}  // namespace

const char* op_name(OpKind kind) {
  auto i = static_cast<size_t>(kind);
  return i < static_cast<size_t>(OpKind::kCount) ? kOps[i].name : "UNKNOWN";
}

int32_t op_tflite_builtin(OpKind kind) {
  auto i = static_cast<size_t>(kind);
  return i < static_cast<size_t>(OpKind::kCount) ? kOps[i].builtin : -1;
}

bool op_is_custom(OpKind kind) { return op_tflite_builtin(kind) == kTfliteCustomBuiltin; }

std::optional<OpKind> op_from_tflite_builtin(int32_t builtin) {
  if (builtin == kTfliteCustomBuiltin) return std::nullopt;
  for (const auto& row : kOps)
    if (row.builtin == builtin) return row.kind;
  return std::nullopt;
}

std::optional<OpKind> op_from_custom_code(std::string_view code) {
  for (const auto& row : kOps)
    if (row.builtin == kTfliteCustomBuiltin && code == row.name) return row.kind;
  return std::nullopt;
}

std::optional<OpKind> op_from_name(std::string_view name) {
  for (const auto& row : kOps)
    if (name == row.name) return row.kind;
  return std::nullopt;
}

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::kNone: return "NONE";
    case Activation::kRelu: return "RELU";
    case Activation::kReluN1To1: return "RELU_N1_TO_1";
    case Activation::kRelu6: return "RELU6";
    case Activation::kTanh: return "TANH";
    case Activation::kSignBit: return "SIGN_BIT";
  }
  return "UNKNOWN";
}

}  // namespace qdet::graph
