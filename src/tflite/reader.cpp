#include "tflite/reader.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "base/file.h"
#include "tflite/options.h"
#include "tflite/sparsity.h"
#include "tflite/tflite_generated.h"
#include "tflite/types.h"

namespace qdet::tflite {
namespace {

// Verifier limits: TFLite tables nest about six deep (Model > SubGraph > Tensor >
// QuantizationParameters > ...); the table count is bounded by the file size anyway, the limit
// keeps a crafted file from making verification slow.
constexpr uint32_t kMaxDepth = 32;
constexpr uint32_t kMaxTables = 4'000'000;
constexpr size_t kMaxRank = 16;

bool verifies(const uint8_t* data, size_t size) {
  flatbuffers::Verifier::Options opts;
  opts.max_depth = kMaxDepth;
  opts.max_tables = kMaxTables;
  flatbuffers::Verifier verifier(data, size, opts);
  return tfl::VerifyModelBuffer(verifier);
}

// The flatbuffer's own length: the shortest prefix of the file that still verifies (every
// object the verifier reaches lies inside it, so verification is monotonic in the prefix
// length). Whatever follows, e.g. the zip that TFLite metadata tools append, is not part of it.
size_t flatbuffer_extent(const uint8_t* data, size_t size) {
  size_t lo = 0, hi = size;  // verifies(hi) holds
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (verifies(data, mid))
      hi = mid;
    else
      lo = mid + 1;
  }
  return hi;
}

std::string printable_identifier(const uint8_t* p) {
  std::string s;
  for (int i = 0; i < 4; ++i) {
    if (p[i] >= 0x20 && p[i] < 0x7f)
      s += static_cast<char>(p[i]);
    else
      s += fmt::format("\\x{:02x}", p[i]);
  }
  return s;
}

template <typename T>
size_t size_of(const flatbuffers::Vector<T>* v) {
  return v ? v->size() : 0;
}

std::string name_of(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

// One SparseIndexVector (int32, uint16 or uint8 values) as int64s; an absent vector is empty. A
// union whose type is set but whose table is absent is an error (the verifier accepts it).
Result<std::vector<int64_t>> index_vector(tfl::SparseIndexVector type, const void* table, const char* what) {
  std::vector<int64_t> out;
  if (table == nullptr) return invalid_argument("sparsity: {} is missing", what);
  auto copy = [&](const auto* values) {
    if (values) out.assign(values->begin(), values->end());
  };
  switch (type) {
    case tfl::SparseIndexVector::Int32Vector:
      copy(static_cast<const tfl::Int32Vector*>(table)->values());
      break;
    case tfl::SparseIndexVector::Uint16Vector:
      copy(static_cast<const tfl::Uint16Vector*>(table)->values());
      break;
    case tfl::SparseIndexVector::Uint8Vector:
      copy(static_cast<const tfl::Uint8Vector*>(table)->values());
      break;
    default: return invalid_argument("sparsity: {} is missing or of an unknown type", what);
  }
  return out;
}

Result<Sparsity> sparsity_of(const tfl::SparsityParameters& p) {
  Sparsity s;
  if (p.traversal_order()) s.traversal_order.assign(p.traversal_order()->begin(), p.traversal_order()->end());
  if (p.block_map()) s.block_map.assign(p.block_map()->begin(), p.block_map()->end());
  if (p.dim_metadata()) {
    // Bounded before copying: a level per dimension and block dimension of a rank <= 16 tensor.
    if (p.dim_metadata()->size() > 32)
      return invalid_argument("sparsity: {} dim_metadata entries", p.dim_metadata()->size());
    for (const tfl::DimensionMetadata* m : *p.dim_metadata()) {
      SparseLevel level;
      level.dense = m->format() == tfl::DimensionType::DENSE;
      if (!level.dense && m->format() != tfl::DimensionType::SPARSE_CSR)
        return invalid_argument("sparsity: dimension format {} is neither DENSE nor SPARSE_CSR",
                                static_cast<int>(m->format()));
      level.dense_size = m->dense_size();
      if (!level.dense) {
        QDET_ASSIGN_OR_RETURN(level.segments, index_vector(m->array_segments_type(), m->array_segments(), "array_segments"));
        QDET_ASSIGN_OR_RETURN(level.indices, index_vector(m->array_indices_type(), m->array_indices(), "array_indices"));
      }
      s.levels.push_back(std::move(level));
    }
  }
  return s;
}

class Reader {
 public:
  Reader(std::span<const uint8_t> file, const tfl::Model& model) : file_(file), model_(model) {}

  Result<graph::Model> read();
  bool uses_external_buffers() const { return external_; }

 private:
  Result<std::span<const uint8_t>> buffer_bytes(uint32_t index);
  Status read_tensor(int32_t id, const tfl::Tensor& src, graph::Tensor& dst);
  Status read_quant(int32_t id, const tfl::QuantizationParameters& q, graph::Tensor& dst);
  Status read_op(int32_t index, const tfl::Operator& src, graph::Op& dst);
  static Status fold_densify(graph::Model& model);
  Status check_tensor_list(const flatbuffers::Vector<int32_t>* ids, const char* what,
                           bool allow_absent);

  std::span<const uint8_t> file_;
  const tfl::Model& model_;
  size_t num_buffers_ = 0;
  int32_t num_tensors_ = 0;
  bool external_ = false;
};

Result<std::span<const uint8_t>> Reader::buffer_bytes(uint32_t index) {
  const tfl::Buffer* b = model_.buffers()->Get(index);
  if (!b) return std::span<const uint8_t>();
  // Models over 2 GiB keep data after the flatbuffer: offset from the start of the file, used
  // when > 1 (TFLite's convention; 1 is a placeholder written by the converter).
  if (b->offset() > 1) {
    const uint64_t offset = b->offset(), size = b->size();
    if (offset > file_.size() || size > file_.size() - offset)
      return out_of_range("buffer {} points at bytes {}..{} beyond the end of the file ({} bytes)",
                          index, offset, offset + size, file_.size());
    external_ = true;
    return file_.subspan(offset, size);
  }
  if (!b->data()) return std::span<const uint8_t>();
  return std::span<const uint8_t>(b->data()->data(), b->data()->size());
}

Status Reader::check_tensor_list(const flatbuffers::Vector<int32_t>* ids, const char* what,
                                 bool allow_absent) {
  if (!ids) return ok_status();
  for (int32_t id : *ids) {
    if (id == -1 && allow_absent) continue;
    if (id < 0 || id >= num_tensors_)
      return out_of_range("{} refers to tensor {} of {}", what, id, num_tensors_);
  }
  return ok_status();
}

Status Reader::read_quant(int32_t id, const tfl::QuantizationParameters& q, graph::Tensor& t) {
  auto fail = [&](const std::string& why) {
    return invalid_argument("tensor {} ('{}'): {}", id, t.name, why);
  };
  if (q.details_type() != tfl::QuantizationDetails::NONE)
    return unsupported("tensor {} ('{}') uses custom quantization, which qdet does not read", id,
                       t.name);
  const size_t n_scale = size_of(q.scale()), n_zp = size_of(q.zero_point());
  if (size_of(q.min()) != size_of(q.max()))
    return fail(fmt::format("{} quantization minimums but {} maximums", size_of(q.min()),
                            size_of(q.max())));
  if (n_scale != n_zp)
    return fail(fmt::format("{} quantization scales but {} zero points", n_scale, n_zp));
  const int32_t qd = q.quantized_dimension();
  const auto rank = static_cast<int32_t>(t.shape.size());
  if (n_scale > 1) {
    if (qd < 0 || qd >= rank)
      return fail(fmt::format("quantized_dimension {} is outside shape {}", qd,
                              shape_to_string(t.shape)));
    if (static_cast<size_t>(t.shape[qd]) != n_scale)
      return fail(fmt::format("{} quantization scales for dimension {} of shape {}", n_scale, qd,
                              shape_to_string(t.shape)));
  } else if (qd < 0 || (qd > 0 && qd >= rank)) {
    return fail(fmt::format("quantized_dimension {} is outside shape {}", qd,
                            shape_to_string(t.shape)));
  }
  if (q.scale())
    for (float s : *q.scale())
      if (!std::isfinite(s)) return fail("quantization scale is not finite");
  if (q.scale()) t.quant.scale.assign(q.scale()->begin(), q.scale()->end());
  if (q.zero_point()) t.quant.zero_point.assign(q.zero_point()->begin(), q.zero_point()->end());
  if (q.min()) t.quant.min.assign(q.min()->begin(), q.min()->end());
  if (q.max()) t.quant.max.assign(q.max()->begin(), q.max()->end());
  t.quant.quantized_dimension = qd;
  return ok_status();
}

Status Reader::read_tensor(int32_t id, const tfl::Tensor& src, graph::Tensor& t) {
  t.name = name_of(src.name());
  auto dtype = dtype_from_tflite(src.type());
  if (!dtype) {
    const char* type_name = tfl::EnumNameTensorType(src.type());
    return unsupported("tensor {} ('{}') has type {}, which qdet does not support", id, t.name,
                       *type_name ? type_name : fmt::format("{}", static_cast<int>(src.type())));
  }
  t.dtype = *dtype;
  if (src.shape()) {
    if (src.shape()->size() > kMaxRank)
      return invalid_argument("tensor {} ('{}') has rank {} (at most {} supported)", id, t.name,
                              src.shape()->size(), kMaxRank);
    t.shape.assign(src.shape()->begin(), src.shape()->end());
  }
  for (int32_t d : t.shape)
    if (d < 0)
      return invalid_argument("tensor {} ('{}') has a negative dimension in shape {}", id, t.name,
                              shape_to_string(t.shape));
  auto count = checked_num_elements(t.shape);
  if (!count)
    return invalid_argument("tensor {} ('{}') has an absurd shape {} (over 2^40 elements)", id,
                            t.name, shape_to_string(t.shape));
  if (src.shape_signature()) {
    if (src.shape_signature()->size() != t.shape.size())
      return invalid_argument("tensor {} ('{}'): shape_signature has rank {}, shape {}", id,
                              t.name, src.shape_signature()->size(), shape_to_string(t.shape));
    t.shape_signature.assign(src.shape_signature()->begin(), src.shape_signature()->end());
    for (int32_t d : t.shape_signature)
      if (d < -1)
        return invalid_argument("tensor {} ('{}') has an invalid shape_signature {}", id, t.name,
                                shape_to_string(t.shape_signature));
  }
  t.is_variable = src.is_variable();
  if (src.buffer() >= num_buffers_)
    return out_of_range("tensor {} refers to buffer {} of {}", id, src.buffer(), num_buffers_);
  QDET_ASSIGN_OR_RETURN(auto data, buffer_bytes(src.buffer()));
  if (src.sparsity()) {  // densified here: the graph holds dense tensors only
    if (data.empty())
      return invalid_argument("tensor {} ('{}') is sparse but holds no values", id, t.name);
    auto sparsity = sparsity_of(*src.sparsity());
    auto dense = sparsity.ok() ? densify(*sparsity, t.shape, dtype_size(t.dtype), data)
                               : Result<std::vector<uint8_t>>(sparsity.status());
    if (!dense.ok()) return dense.status().with_context(fmt::format("tensor {} ('{}')", id, t.name));
    t.data = std::move(dense).value();
  } else if (!data.empty()) {
    const uint64_t expected = static_cast<uint64_t>(*count) * dtype_size(t.dtype);
    if (data.size() != expected)
      return invalid_argument(
          "tensor {} ('{}'): buffer {} holds {} bytes, but shape {} of {} needs {}", id, t.name,
          src.buffer(), data.size(), shape_to_string(t.shape), dtype_name(t.dtype), expected);
    t.data.assign(data.begin(), data.end());
  }
  if (src.quantization()) QDET_TRY(read_quant(id, *src.quantization(), t));
  return ok_status();
}

Status Reader::read_op(int32_t index, const tfl::Operator& src, graph::Op& op) {
  const size_t num_codes = size_of(model_.operator_codes());
  if (src.opcode_index() >= num_codes)
    return out_of_range("op {} refers to operator code {} of {}", index, src.opcode_index(),
                        num_codes);
  const tfl::OperatorCode* code = model_.operator_codes()->Get(src.opcode_index());
  // Files written before TFLite 2.4 only set the byte field; newer ones set both, with 127
  // (PLACEHOLDER_FOR_GREATER_OP_CODES) in the byte field for codes above it.
  const int32_t builtin =
      std::max<int32_t>(code->deprecated_builtin_code(), static_cast<int32_t>(code->builtin_code()));
  op.version = code->version();
  if (builtin == graph::kTfliteCustomBuiltin) {
    op.custom_code = name_of(code->custom_code());
    auto kind = graph::op_from_custom_code(op.custom_code);
    if (!kind)
      return unsupported("op {} uses unsupported custom op '{}'", index, op.custom_code);
    op.kind = *kind;
  } else {
    auto kind = graph::op_from_tflite_builtin(builtin);
    if (!kind)
      return unsupported("op {} uses unsupported builtin {} ({})", index,
                         tflite_builtin_name(builtin), builtin);
    op.kind = *kind;
  }
  const std::string context = fmt::format("op {} ({})", index, op.name());
  QDET_TRY(check_tensor_list(src.inputs(), (context + " input").c_str(), true));
  QDET_TRY(check_tensor_list(src.outputs(), (context + " output").c_str(), false));
  if (src.inputs()) op.inputs.assign(src.inputs()->begin(), src.inputs()->end());
  if (src.outputs()) op.outputs.assign(src.outputs()->begin(), src.outputs()->end());
  if (src.large_custom_options_offset() > 1)
    return unsupported("{} keeps its custom options outside the flatbuffer (models over 2 GiB "
                       "are not supported)",
                       context);
  if (src.custom_options())
    op.custom_options.assign(src.custom_options()->begin(), src.custom_options()->end());
  Status s = read_builtin_options(src, op);
  if (!s.ok()) return s.with_context(context);
  return ok_status();
}

Result<graph::Model> Reader::read() {
  graph::Model out;
  out.version = model_.version();
  out.description = name_of(model_.description());
  num_buffers_ = size_of(model_.buffers());

  const size_t num_subgraphs = size_of(model_.subgraphs());
  if (num_subgraphs == 0) return invalid_argument("model has no subgraphs");
  if (num_subgraphs > 1)
    return unsupported(
        "model has {} subgraphs; qdet reads single-subgraph models only (no control flow)",
        num_subgraphs);
  const tfl::SubGraph& sg = *model_.subgraphs()->Get(0);
  graph::Graph& g = out.graph;
  g.name = name_of(sg.name());

  const size_t num_tensors = size_of(sg.tensors());
  if (num_tensors > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    return out_of_range("model has {} tensors", num_tensors);
  num_tensors_ = static_cast<int32_t>(num_tensors);
  g.tensors.resize(num_tensors);
  for (int32_t i = 0; i < num_tensors_; ++i)
    QDET_TRY(read_tensor(i, *sg.tensors()->Get(i), g.tensors[i]));

  QDET_TRY(check_tensor_list(sg.inputs(), "subgraph input", false));
  QDET_TRY(check_tensor_list(sg.outputs(), "subgraph output", false));
  if (sg.inputs()) g.inputs.assign(sg.inputs()->begin(), sg.inputs()->end());
  if (sg.outputs()) g.outputs.assign(sg.outputs()->begin(), sg.outputs()->end());

  const size_t num_ops = size_of(sg.operators());
  g.ops.resize(num_ops);
  for (size_t i = 0; i < num_ops; ++i)
    QDET_TRY(read_op(static_cast<int32_t>(i), *sg.operators()->Get(i), g.ops[i]));

  if (model_.metadata()) {
    for (const tfl::Metadata* m : *model_.metadata()) {
      graph::Metadata md;
      md.name = name_of(m->name());
      if (m->buffer() >= num_buffers_)
        return out_of_range("metadata '{}' refers to buffer {} of {}", md.name, m->buffer(),
                            num_buffers_);
      QDET_ASSIGN_OR_RETURN(auto data, buffer_bytes(m->buffer()));
      md.data.assign(data.begin(), data.end());
      out.metadata.push_back(std::move(md));
    }
  }

  if (model_.signature_defs()) {
    for (const tfl::SignatureDef* s : *model_.signature_defs()) {
      graph::SignatureDef sig;
      sig.key = name_of(s->signature_key());
      if (s->subgraph_index() >= num_subgraphs)
        return out_of_range("signature '{}' refers to subgraph {} of {}", sig.key,
                            s->subgraph_index(), num_subgraphs);
      sig.subgraph_index = static_cast<int32_t>(s->subgraph_index());
      auto read_maps = [&](const flatbuffers::Vector<flatbuffers::Offset<tfl::TensorMap>>* maps,
                           std::vector<graph::SignatureTensor>& dst) -> Status {
        if (!maps) return ok_status();
        for (const tfl::TensorMap* m : *maps) {
          if (m->tensor_index() >= num_tensors)
            return out_of_range("signature '{}' tensor '{}' refers to tensor {} of {}", sig.key,
                                name_of(m->name()), m->tensor_index(), num_tensors);
          dst.push_back({name_of(m->name()), static_cast<int32_t>(m->tensor_index())});
        }
        return ok_status();
      };
      QDET_TRY(read_maps(s->inputs(), sig.inputs));
      QDET_TRY(read_maps(s->outputs(), sig.outputs));
      out.signatures.push_back(std::move(sig));
    }
  }

  QDET_TRY(fold_densify(out));
  QDET_TRY(g.verify());
  return out;
}

// DENSIFY turns a constant sparse tensor (dense once read) into a dense one: its output becomes
// that constant and the op goes, so that every later stage sees ordinary constant weights.
Status Reader::fold_densify(graph::Model& model) {
  graph::Graph& g = model.graph;
  bool folded = false;
  for (size_t i = 0; i < g.ops.size();) {
    const graph::Op& op = g.ops[i];
    if (op.kind != graph::OpKind::kDensify) {
      ++i;
      continue;
    }
    if (op.inputs.size() != 1 || op.outputs.size() != 1 || op.inputs[0] < 0)
      return invalid_argument("op {} (DENSIFY) needs one input and one output", i);
    const graph::Tensor& in = g.tensors[static_cast<size_t>(op.inputs[0])];
    graph::Tensor& out = g.tensors[static_cast<size_t>(op.outputs[0])];
    if (!in.is_constant())
      return invalid_argument("op {} (DENSIFY): input tensor {} ('{}') is not a constant sparse tensor",
                              i, op.inputs[0], in.name);
    if (in.dtype != out.dtype || in.shape != out.shape)
      return invalid_argument("op {} (DENSIFY): output {} {} differs from input {} {}", i,
                              dtype_name(out.dtype), shape_to_string(out.shape), dtype_name(in.dtype),
                              shape_to_string(in.shape));
    out.data = in.data;
    if (out.quant.empty()) out.quant = in.quant;
    g.ops.erase(g.ops.begin() + static_cast<std::ptrdiff_t>(i));
    folded = true;
  }
  if (folded) remove_unused_tensors(model);  // the sparse originals
  return ok_status();
}

}  // namespace

std::string tflite_builtin_name(int32_t code) {
  if (code < static_cast<int32_t>(tfl::BuiltinOperator::MIN) ||
      code > static_cast<int32_t>(tfl::BuiltinOperator::MAX))
    return "UNKNOWN";
  const char* name = tfl::EnumNameBuiltinOperator(static_cast<tfl::BuiltinOperator>(code));
  return *name ? name : "UNKNOWN";
}

Result<graph::Model> read_tflite(std::span<const uint8_t> bytes, std::string_view source_name) {
  auto fail = [&](const Status& s) { return s.with_context(source_name); };
  if (bytes.size() < 8)
    return fail(parse_error("file is too small to be a TFLite model ({} bytes)", bytes.size()));
  if (std::memcmp(bytes.data() + 4, tfl::ModelIdentifier(), 4) != 0)
    return fail(parse_error("not a TFLite model: file identifier is '{}', expected 'TFL3'",
                            printable_identifier(bytes.data() + 4)));
  if (bytes.size() >= FLATBUFFERS_MAX_BUFFER_SIZE)
    return fail(unsupported("file is {} bytes; qdet reads TFLite files under 2 GiB",
                            bytes.size()));
  // flatbuffers reads scalars in place: keep them aligned, whatever the caller's span.
  std::vector<uint8_t> aligned_copy;
  if (reinterpret_cast<uintptr_t>(bytes.data()) % 16 != 0) {
    aligned_copy.assign(bytes.begin(), bytes.end());
    bytes = aligned_copy;
  }
  if (!verifies(bytes.data(), bytes.size()))
    return fail(parse_error("not a valid TFLite flatbuffer ({} bytes: truncated or corrupt)",
                            bytes.size()));
  Reader reader(bytes, *tfl::GetModel(bytes.data()));
  auto model = reader.read();
  if (!model.ok()) return fail(model.status());
  if (!reader.uses_external_buffers()) {
    const size_t end = flatbuffer_extent(bytes.data(), bytes.size());
    model->trailing.assign(bytes.begin() + static_cast<std::ptrdiff_t>(end), bytes.end());
  }
  return model;
}

Result<graph::Model> load_tflite(const std::filesystem::path& path) {
  QDET_ASSIGN_OR_RETURN(auto bytes, read_file(path));
  return read_tflite(bytes, path.string());
}

}  // namespace qdet::tflite
