#include "tflite/writer.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "base/file.h"
#include "tflite/options.h"
#include "tflite/tflite_generated.h"
#include "tflite/types.h"

namespace qdet::tflite {
namespace {

namespace fb = flatbuffers;

// The BuiltinOperator byte field holds codes up to 126; larger ones store this placeholder.
constexpr int32_t kPlaceholderForGreaterOpCodes = 127;

fb::Offset<fb::Vector<uint8_t>> aligned_bytes(fb::FlatBufferBuilder& fbb,
                                              const std::vector<uint8_t>& bytes) {
  // The schema asks for 16-byte aligned buffer data (force_align: 16) so that kernels and
  // mmap-based loaders can read constants in place.
  fbb.ForceVectorAlignment(bytes.size(), sizeof(uint8_t), 16);
  return fbb.CreateVector(bytes);
}

class Writer {
 public:
  explicit Writer(const graph::Model& model) : model_(model) {}
  Result<std::vector<uint8_t>> write();

 private:
  uint32_t add_buffer(const std::vector<uint8_t>& bytes) {
    buffers_.push_back(tfl::CreateBuffer(fbb_, aligned_bytes(fbb_, bytes)));
    return static_cast<uint32_t>(buffers_.size() - 1);
  }
  uint32_t opcode_index(const graph::Op& op);
  fb::Offset<tfl::Tensor> tensor(const graph::Tensor& t);
  // Equal vectors are written once and shared (FlatBuffers allows several tables to point at
  // one vector): per-channel zero points (all 0 for every weight and bias of a channel count),
  // shapes and scales repeat across tensors. 0 for an empty vector.
  template <typename T>
  fb::Offset<fb::Vector<T>> shared_vector(const std::vector<T>& v,
                                          std::map<std::vector<T>, fb::Offset<fb::Vector<T>>>& cache) {
    if (v.empty()) return 0;
    auto it = cache.find(v);
    if (it != cache.end()) return it->second;
    auto offset = fbb_.CreateVector(v);
    cache.emplace(v, offset);
    return offset;
  }

  const graph::Model& model_;
  fb::FlatBufferBuilder fbb_{1 << 20};
  std::vector<fb::Offset<tfl::Buffer>> buffers_;
  std::vector<fb::Offset<tfl::OperatorCode>> codes_;
  std::map<std::tuple<int32_t, std::string, int32_t>, uint32_t> code_index_;
  std::map<std::vector<float>, fb::Offset<fb::Vector<float>>> floats_;
  std::map<std::vector<int64_t>, fb::Offset<fb::Vector<int64_t>>> int64s_;
  std::map<std::vector<int32_t>, fb::Offset<fb::Vector<int32_t>>> int32s_;
};

uint32_t Writer::opcode_index(const graph::Op& op) {
  const int32_t builtin = graph::op_tflite_builtin(op.kind);
  const std::string custom = graph::op_is_custom(op.kind)
                                 ? (op.custom_code.empty() ? op.name() : op.custom_code)
                                 : std::string();
  auto key = std::make_tuple(builtin, custom, op.version);
  auto it = code_index_.find(key);
  if (it != code_index_.end()) return it->second;
  auto code = tfl::CreateOperatorCode(
      fbb_, static_cast<int8_t>(std::min(builtin, kPlaceholderForGreaterOpCodes)),
      custom.empty() ? 0 : fbb_.CreateString(custom), op.version,
      static_cast<tfl::BuiltinOperator>(builtin));
  codes_.push_back(code);
  const auto index = static_cast<uint32_t>(codes_.size() - 1);
  code_index_.emplace(key, index);
  return index;
}

fb::Offset<tfl::Tensor> Writer::tensor(const graph::Tensor& t) {
  const uint32_t buffer = t.is_constant() ? add_buffer(t.data) : 0;
  fb::Offset<tfl::QuantizationParameters> quant = 0;
  const QuantParams& q = t.quant;
  if (!q.scale.empty() || !q.zero_point.empty() || !q.min.empty() || !q.max.empty()) {
    quant = tfl::CreateQuantizationParameters(
        fbb_, shared_vector(q.min, floats_), shared_vector(q.max, floats_),
        shared_vector(q.scale, floats_), shared_vector(q.zero_point, int64s_),
        tfl::QuantizationDetails::NONE, 0, q.quantized_dimension);
  }
  auto signature = shared_vector(t.shape_signature, int32s_);
  // A scalar's shape is an empty vector, not an absent one.
  auto shape = t.shape.empty() ? fbb_.CreateVector(t.shape) : shared_vector(t.shape, int32s_);
  return tfl::CreateTensor(fbb_, shape, dtype_to_tflite(t.dtype), buffer,
                           fbb_.CreateString(t.name), quant, t.is_variable, 0, signature);
}

Result<std::vector<uint8_t>> Writer::write() {
  const graph::Graph& g = model_.graph;
  QDET_TRY(g.verify());
  // FlatBuffers addresses everything with 32-bit offsets: keep well clear of 2 GiB.
  uint64_t payload = 0;
  for (const auto& t : g.tensors) payload += t.data.size();
  for (const auto& m : model_.metadata) payload += m.data.size();
  if (payload > (uint64_t{1} << 31) - (uint64_t{64} << 20))
    return unsupported("model holds {} bytes of constants; TFLite files over 2 GiB are not "
                       "supported",
                       payload);

  buffers_.push_back(tfl::CreateBuffer(fbb_));  // the empty sentinel
  std::vector<fb::Offset<tfl::Tensor>> tensors;
  tensors.reserve(g.tensors.size());
  for (const auto& t : g.tensors) tensors.push_back(tensor(t));

  std::vector<fb::Offset<tfl::Operator>> ops;
  ops.reserve(g.ops.size());
  for (const auto& op : g.ops) {
    const uint32_t code = opcode_index(op);
    auto inputs = fbb_.CreateVector(op.inputs);
    auto outputs = fbb_.CreateVector(op.outputs);
    WrittenOptions options = write_builtin_options(fbb_, op);
    auto custom = op.custom_options.empty() ? 0 : fbb_.CreateVector(op.custom_options);
    ops.push_back(tfl::CreateOperator(fbb_, code, inputs, outputs, options.type, options.table,
                                      custom, tfl::CustomOptionsFormat::FLEXBUFFERS));
  }
  auto subgraph = tfl::CreateSubGraph(fbb_, fbb_.CreateVector(tensors),
                                      fbb_.CreateVector(g.inputs), fbb_.CreateVector(g.outputs),
                                      fbb_.CreateVector(ops), fbb_.CreateString(g.name));

  std::vector<fb::Offset<tfl::Metadata>> metadata;
  for (const auto& m : model_.metadata) {
    const uint32_t buffer = add_buffer(m.data);
    metadata.push_back(tfl::CreateMetadata(fbb_, fbb_.CreateString(m.name), buffer));
  }

  std::vector<fb::Offset<tfl::SignatureDef>> signatures;
  for (const auto& s : model_.signatures) {
    if (s.subgraph_index != 0)
      return invalid_argument("signature '{}' refers to subgraph {}; qdet writes one subgraph",
                              s.key, s.subgraph_index);
    auto maps = [&](const std::vector<graph::SignatureTensor>& list) -> Result<
                    fb::Offset<fb::Vector<fb::Offset<tfl::TensorMap>>>> {
      std::vector<fb::Offset<tfl::TensorMap>> out;
      for (const auto& m : list) {
        if (m.tensor < 0 || static_cast<size_t>(m.tensor) >= g.tensors.size())
          return out_of_range("signature '{}' tensor '{}' refers to tensor {} of {}", s.key,
                              m.name, m.tensor, g.tensors.size());
        out.push_back(tfl::CreateTensorMap(fbb_, fbb_.CreateString(m.name),
                                           static_cast<uint32_t>(m.tensor)));
      }
      return fbb_.CreateVector(out);
    };
    QDET_ASSIGN_OR_RETURN(auto inputs, maps(s.inputs));
    QDET_ASSIGN_OR_RETURN(auto outputs, maps(s.outputs));
    signatures.push_back(
        tfl::CreateSignatureDef(fbb_, inputs, outputs, fbb_.CreateString(s.key), 0));
  }

  std::vector<fb::Offset<tfl::SubGraph>> subgraphs = {subgraph};
  auto root = tfl::CreateModel(
      fbb_, model_.version, fbb_.CreateVector(codes_), fbb_.CreateVector(subgraphs),
      model_.description.empty() ? 0 : fbb_.CreateString(model_.description),
      fbb_.CreateVector(buffers_), 0, metadata.empty() ? 0 : fbb_.CreateVector(metadata),
      signatures.empty() ? 0 : fbb_.CreateVector(signatures));
  tfl::FinishModelBuffer(fbb_, root);

  std::vector<uint8_t> out;
  out.reserve(fbb_.GetSize() + model_.trailing.size());
  out.assign(fbb_.GetBufferPointer(), fbb_.GetBufferPointer() + fbb_.GetSize());
  out.insert(out.end(), model_.trailing.begin(), model_.trailing.end());
  return out;
}

}  // namespace

Result<std::vector<uint8_t>> write_tflite(const graph::Model& model) {
  auto bytes = Writer(model).write();
  if (!bytes.ok()) return bytes.status().with_context("writing TFLite");
  return bytes;
}

Status save_tflite(const std::filesystem::path& path, const graph::Model& model) {
  QDET_ASSIGN_OR_RETURN(auto bytes, write_tflite(model));
  Status s = write_file_atomic(path, bytes);
  return s.ok() ? s : s.with_context(path.string());
}

}  // namespace qdet::tflite
