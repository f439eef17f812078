// An ONNX model as plain structs: what the importer needs from the protobuf, nothing more.
// Only onnx_parse.cpp sees the protobuf classes; everything after it works on these, so tests
// and rewrites need no protobuf.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "convert/host_tensor.h"

namespace qdet::convert::onnx {

struct Attribute {
  enum class Type { kFloat, kInt, kString, kTensor, kFloats, kInts, kStrings, kOther };
  std::string name;
  Type type = Type::kOther;
  float f = 0.f;
  int64_t i = 0;
  std::string s;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  std::optional<HostTensor> t;
};

struct Node {
  std::string name;     // may be empty in the file; the parser names it "<op_type>_<index>"
  std::string op_type;  // "Conv"
  std::string domain;   // "" or "ai.onnx" for the default domain
  std::vector<std::string> inputs;  // "" marks an absent optional input
  std::vector<std::string> outputs;
  std::vector<Attribute> attributes;

  const Attribute* find(std::string_view attr) const;
  int64_t get_int(std::string_view attr, int64_t fallback) const;
  float get_float(std::string_view attr, float fallback) const;
  std::string get_string(std::string_view attr, std::string_view fallback) const;
  std::vector<int64_t> get_ints(std::string_view attr) const;  // empty when absent
  // The input at `index`, or "" when absent.
  const std::string& input(size_t index) const;
};

// A graph input or output: name, element type, dims (-1 where symbolic or unknown).
struct ValueInfo {
  std::string name;
  DType dtype = DType::kUnknown;
  std::vector<int64_t> dims;
  bool has_shape = false;
};

struct Model {
  std::string source;  // file name, prefixes messages
  int64_t ir_version = 0;
  int64_t opset = 0;   // default-domain opset version
  std::string producer;
  std::string graph_name;
  std::vector<Node> nodes;                     // topological order (ONNX requires it)
  std::map<std::string, HostTensor> initializers;
  std::vector<ValueInfo> inputs;   // real inputs only: initializers listed as inputs are dropped
  std::vector<ValueInfo> outputs;
};

// Parses serialized ModelProto bytes. Errors name `source`: malformed protobuf, external data,
// a tensor whose data does not match its dims and type, a graph without inputs or outputs.
Result<Model> parse_model(std::span<const uint8_t> bytes, std::string_view source);
Result<Model> load_model(const std::filesystem::path& path);

// The ONNX TensorProto.DataType value -> DType (nullopt for types qdet does not carry).
std::optional<DType> dtype_from_onnx(int32_t onnx_type);

}  // namespace qdet::convert::onnx
