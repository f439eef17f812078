// ModelProto -> onnx::Model. The only file that sees the protobuf classes.
#include <onnx/onnx_pb.h>

#include <cstring>
#include <set>

#include "base/file.h"
#include "convert/onnx/onnx_model.h"
#include "tensor/fp16.h"

namespace qdet::convert::onnx {
namespace {

namespace pb = ::onnx;

// Files bigger than this are not ONNX models qdet can hold in one protobuf (2 GiB limit).
constexpr size_t kMaxModelBytes = size_t{2000} << 20;

Result<Shape> dims_of(const pb::TensorProto& t, std::string_view what) {
  Shape shape;
  for (int64_t d : t.dims()) {
    if (d < 0 || d > INT32_MAX) return parse_error("{}: dimension {} out of range", what, d);
    shape.push_back(static_cast<int32_t>(d));
  }
  if (!checked_num_elements(shape))
    return parse_error("{}: shape {} has too many elements", what, shape_to_string(shape));
  return shape;
}

Result<HostTensor> tensor_from_proto(const pb::TensorProto& t, std::string_view what) {
  if (t.has_data_location() && t.data_location() == pb::TensorProto::EXTERNAL)
    return unsupported("{}: data stored in an external file is not supported", what);
  if (t.has_segment()) return unsupported("{}: segmented tensors are not supported", what);
  HostTensor out;
  QDET_ASSIGN_OR_RETURN(out.shape, dims_of(t, what));
  const int64_t n = num_elements(out.shape);
  const int32_t type = t.data_type();
  const bool is_double = type == pb::TensorProto::DOUBLE;
  if (is_double) {
    out.dtype = DType::kFloat32;  // doubles become float32: TFLite has no float64 math
  } else {
    auto dt = dtype_from_onnx(type);
    if (!dt) return unsupported("{}: element type {} is not supported", what, type);
    out.dtype = *dt;
  }
  const size_t es = dtype_size(out.dtype);
  auto count_error = [&](size_t have) {
    return parse_error("{}: {} values for shape {}", what, have, shape_to_string(out.shape));
  };
  // The declared shape is checked against the values the file holds before anything is
  // allocated for it: a few bytes of protobuf can declare a shape of 2^31 x 511.
  if (t.has_raw_data()) {
    const std::string& raw = t.raw_data();
    const size_t want = static_cast<size_t>(n) * (is_double ? 8 : es);
    if (raw.size() != want)
      return parse_error("{}: {} bytes of raw data for shape {} of {} ({} expected)", what,
                         raw.size(), shape_to_string(out.shape), is_double ? "float64" : dtype_name(out.dtype), want);
  } else {
    int64_t have = -1;
    switch (type) {
      case pb::TensorProto::FLOAT: have = t.float_data_size(); break;
      case pb::TensorProto::DOUBLE: have = t.double_data_size(); break;
      case pb::TensorProto::INT64: have = t.int64_data_size(); break;
      case pb::TensorProto::INT32:
      case pb::TensorProto::INT16:
      case pb::TensorProto::INT8:
      case pb::TensorProto::UINT8:
      case pb::TensorProto::BOOL:
      case pb::TensorProto::FLOAT16: have = t.int32_data_size(); break;
      default: return unsupported("{}: element type {} is not supported", what, type);
    }
    if (have != n) return count_error(static_cast<size_t>(have));
  }
  out.data.resize(static_cast<size_t>(n) * es);
  if (t.has_raw_data()) {
    const std::string& raw = t.raw_data();
    if (is_double) {
      for (int64_t i = 0; i < n; ++i) {
        double d;
        std::memcpy(&d, raw.data() + 8 * i, 8);
        float f = static_cast<float>(d);
        std::memcpy(out.data.data() + 4 * i, &f, 4);
      }
    } else if (!raw.empty()) {
      std::memcpy(out.data.data(), raw.data(), raw.size());
    }
    return out;
  }
  switch (type) {
    case pb::TensorProto::FLOAT:
      if (t.float_data_size() != n) return count_error(t.float_data_size());
      if (n) std::memcpy(out.data.data(), t.float_data().data(), out.data.size());
      break;
    case pb::TensorProto::DOUBLE:
      if (t.double_data_size() != n) return count_error(t.double_data_size());
      for (int64_t i = 0; i < n; ++i) {
        float f = static_cast<float>(t.double_data(static_cast<int>(i)));
        std::memcpy(out.data.data() + 4 * i, &f, 4);
      }
      break;
    case pb::TensorProto::INT64:
      if (t.int64_data_size() != n) return count_error(t.int64_data_size());
      if (n) std::memcpy(out.data.data(), t.int64_data().data(), out.data.size());
      break;
    case pb::TensorProto::INT32:
    case pb::TensorProto::INT16:
    case pb::TensorProto::INT8:
    case pb::TensorProto::UINT8:
    case pb::TensorProto::BOOL:
    case pb::TensorProto::FLOAT16:
      // The spec stores these widened in int32_data (float16 as its bit pattern).
      if (t.int32_data_size() != n) return count_error(t.int32_data_size());
      for (int64_t i = 0; i < n; ++i) {
        int32_t v = t.int32_data(static_cast<int>(i));
        std::memcpy(out.data.data() + es * i, &v, es);  // little endian: low bytes first
      }
      break;
    default:
      return unsupported("{}: element type {} is not supported", what, type);
  }
  return out;
}

Attribute attribute_from_proto(const pb::AttributeProto& a) {
  Attribute out;
  out.name = a.name();
  switch (a.type()) {
    case pb::AttributeProto::FLOAT: out.type = Attribute::Type::kFloat; out.f = a.f(); break;
    case pb::AttributeProto::INT: out.type = Attribute::Type::kInt; out.i = a.i(); break;
    case pb::AttributeProto::STRING: out.type = Attribute::Type::kString; out.s = a.s(); break;
    case pb::AttributeProto::FLOATS:
      out.type = Attribute::Type::kFloats;
      out.floats.assign(a.floats().begin(), a.floats().end());
      break;
    case pb::AttributeProto::INTS:
      out.type = Attribute::Type::kInts;
      out.ints.assign(a.ints().begin(), a.ints().end());
      break;
    case pb::AttributeProto::STRINGS:
      out.type = Attribute::Type::kStrings;
      out.strings.assign(a.strings().begin(), a.strings().end());
      break;
    case pb::AttributeProto::TENSOR: out.type = Attribute::Type::kTensor; break;
    default: out.type = Attribute::Type::kOther; break;
  }
  return out;
}

ValueInfo value_info_from_proto(const pb::ValueInfoProto& v) {
  ValueInfo out;
  out.name = v.name();
  if (!v.type().has_tensor_type()) return out;
  const auto& tt = v.type().tensor_type();
  out.dtype = dtype_from_onnx(tt.elem_type()).value_or(DType::kUnknown);
  if (tt.has_shape()) {
    out.has_shape = true;
    for (const auto& d : tt.shape().dim())
      out.dims.push_back(d.has_dim_value() && d.dim_value() >= 0 ? d.dim_value() : -1);
  }
  return out;
}

}  // namespace

std::optional<DType> dtype_from_onnx(int32_t onnx_type) {
  switch (onnx_type) {
    case pb::TensorProto::FLOAT: return DType::kFloat32;
    case pb::TensorProto::FLOAT16: return DType::kFloat16;
    case pb::TensorProto::INT8: return DType::kInt8;
    case pb::TensorProto::UINT8: return DType::kUInt8;
    case pb::TensorProto::INT16: return DType::kInt16;
    case pb::TensorProto::INT32: return DType::kInt32;
    case pb::TensorProto::INT64: return DType::kInt64;
    case pb::TensorProto::BOOL: return DType::kBool;
    default: return std::nullopt;
  }
}

Result<Model> parse_model(std::span<const uint8_t> bytes, std::string_view source) {
  if (bytes.size() > kMaxModelBytes)
    return unsupported("{}: {} bytes is beyond the 2 GB protobuf limit", source, bytes.size());
  pb::ModelProto proto;
  if (bytes.empty() || !proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return parse_error("{}: not a valid ONNX model (the protobuf does not parse)", source);
  if (!proto.has_graph() || proto.graph().node_size() == 0)
    return parse_error("{}: not a valid ONNX model (no graph or an empty graph)", source);

  Model m;
  m.source = std::string(source);
  m.ir_version = proto.ir_version();
  m.producer = proto.producer_name() + (proto.producer_version().empty() ? "" : " " + proto.producer_version());
  for (const auto& op : proto.opset_import())
    if (op.domain().empty() || op.domain() == "ai.onnx") m.opset = op.version();
  if (m.opset == 0) m.opset = 1;  // no default-domain opset: the spec says version 1

  const auto& g = proto.graph();
  m.graph_name = g.name();
  for (const auto& init : g.initializer()) {
    auto t = tensor_from_proto(init, fmt::format("{}: initializer '{}'", source, init.name()));
    if (!t.ok()) return t.status();
    m.initializers[init.name()] = std::move(t).value();
  }
  if (g.sparse_initializer_size() > 0)
    return unsupported("{}: sparse initializers are not supported", source);

  for (int i = 0; i < g.node_size(); ++i) {
    const auto& pn = g.node(i);
    Node n;
    n.op_type = pn.op_type();
    n.name = pn.name().empty() ? fmt::format("{}_{}", pn.op_type(), i) : pn.name();
    n.domain = pn.domain();
    n.inputs.assign(pn.input().begin(), pn.input().end());
    n.outputs.assign(pn.output().begin(), pn.output().end());
    if (n.op_type.empty()) return parse_error("{}: node {} has no op_type", source, i);
    for (const auto& pa : pn.attribute()) {
      Attribute a = attribute_from_proto(pa);
      if (a.type == Attribute::Type::kTensor) {
        auto t = tensor_from_proto(pa.t(), fmt::format("{}: node '{}' attribute '{}'", source, n.name, a.name));
        if (!t.ok()) return t.status();
        a.t = std::move(t).value();
      }
      n.attributes.push_back(std::move(a));
    }
    m.nodes.push_back(std::move(n));
  }
  for (const auto& vi : g.input())
    if (!m.initializers.count(vi.name())) m.inputs.push_back(value_info_from_proto(vi));
  for (const auto& vo : g.output()) m.outputs.push_back(value_info_from_proto(vo));
  if (m.inputs.empty()) return parse_error("{}: the graph has no inputs", source);
  if (m.outputs.empty()) return parse_error("{}: the graph has no outputs", source);
  return m;
}

Result<Model> load_model(const std::filesystem::path& path) {
  QDET_ASSIGN_OR_RETURN(auto bytes, read_file(path));
  return parse_model(bytes, path.string());
}

const Attribute* Node::find(std::string_view attr) const {
  for (const auto& a : attributes)
    if (a.name == attr) return &a;
  return nullptr;
}

int64_t Node::get_int(std::string_view attr, int64_t fallback) const {
  const Attribute* a = find(attr);
  return a && a->type == Attribute::Type::kInt ? a->i : fallback;
}

float Node::get_float(std::string_view attr, float fallback) const {
  const Attribute* a = find(attr);
  return a && a->type == Attribute::Type::kFloat ? a->f : fallback;
}

std::string Node::get_string(std::string_view attr, std::string_view fallback) const {
  const Attribute* a = find(attr);
  return a && a->type == Attribute::Type::kString ? a->s : std::string(fallback);
}

std::vector<int64_t> Node::get_ints(std::string_view attr) const {
  const Attribute* a = find(attr);
  return a && a->type == Attribute::Type::kInts ? a->ints : std::vector<int64_t>{};
}

const std::string& Node::input(size_t index) const {
  static const std::string kEmpty;
  return index < inputs.size() ? inputs[index] : kEmpty;
}

}  // namespace qdet::convert::onnx
