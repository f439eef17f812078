// Malformed files: each test builds a small TFLite flatbuffer by hand (with the generated
// builders, so that it can hold what qdet's writer never writes) and asserts the exact message.
#include <gtest/gtest.h>

#include "tflite/reader.h"
#include "tflite/tflite_generated.h"

namespace qdet::tflite {
namespace {

namespace fb = flatbuffers;

// ADD(input, constant) -> output, all float32 [1,4]; each field can be broken on purpose.
struct RawModel {
  std::vector<int32_t> const_shape = {1, 4};
  uint32_t const_buffer = 1;
  size_t const_bytes = 16;
  int32_t op_input = 0;
  uint32_t opcode_index = 0;
  int8_t deprecated_code = 0;  // ADD
  int32_t builtin_code = 0;
  std::string custom_code;
  int num_subgraphs = 1;
  std::vector<float> scales;
  std::vector<int64_t> zero_points;
  int32_t quantized_dimension = 0;
  tfl::BuiltinOptions options_type = tfl::BuiltinOptions::AddOptions;

  std::vector<uint8_t> build() const {
    fb::FlatBufferBuilder b;
    std::vector<uint8_t> weights(const_bytes, 0);
    std::vector<fb::Offset<tfl::Buffer>> buffers = {
        tfl::CreateBuffer(b), tfl::CreateBuffer(b, b.CreateVector(weights))};
    auto quant = scales.empty() ? 0
                                : tfl::CreateQuantizationParameters(
                                      b, 0, 0, b.CreateVector(scales),
                                      b.CreateVector(zero_points), tfl::QuantizationDetails::NONE,
                                      0, quantized_dimension);
    std::vector<int32_t> shape = {1, 4};
    std::vector<fb::Offset<tfl::Tensor>> tensors = {
        tfl::CreateTensor(b, b.CreateVector(shape), tfl::TensorType::FLOAT32, 0,
                          b.CreateString("input")),
        tfl::CreateTensor(b, b.CreateVector(const_shape), tfl::TensorType::FLOAT32, const_buffer,
                          b.CreateString("weights"), quant),
        tfl::CreateTensor(b, b.CreateVector(shape), tfl::TensorType::FLOAT32, 0,
                          b.CreateString("output"))};
    std::vector<int32_t> op_inputs = {op_input, 1}, op_outputs = {2};
    auto options = tfl::CreateAddOptions(b).Union();
    std::vector<fb::Offset<tfl::Operator>> ops = {tfl::CreateOperator(
        b, opcode_index, b.CreateVector(op_inputs), b.CreateVector(op_outputs),
        options_type, options)};
    std::vector<int32_t> inputs = {0}, outputs = {2};
    std::vector<fb::Offset<tfl::SubGraph>> subgraphs;
    for (int i = 0; i < num_subgraphs; ++i)
      subgraphs.push_back(tfl::CreateSubGraph(b, b.CreateVector(tensors), b.CreateVector(inputs),
                                              b.CreateVector(outputs), b.CreateVector(ops),
                                              b.CreateString("main")));
    std::vector<fb::Offset<tfl::OperatorCode>> codes = {tfl::CreateOperatorCode(
        b, deprecated_code, custom_code.empty() ? 0 : b.CreateString(custom_code), 1,
        static_cast<tfl::BuiltinOperator>(builtin_code))};
    auto model = tfl::CreateModel(b, 3, b.CreateVector(codes), b.CreateVector(subgraphs),
                                  b.CreateString("test"), b.CreateVector(buffers));
    tfl::FinishModelBuffer(b, model);
    return {b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()};
  }
};

std::string error_of(const std::vector<uint8_t>& bytes) {
  auto m = read_tflite(bytes, "model.tflite");
  return m.ok() ? "ok" : m.status().message();
}

TEST(BadInput, TheBaselineReads) {
  auto m = read_tflite(RawModel{}.build(), "model.tflite");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->graph.ops.size(), 1u);
  EXPECT_EQ(m->graph.ops[0].kind, graph::OpKind::kAdd);
  EXPECT_EQ(m->description, "test");
  EXPECT_TRUE(m->trailing.empty());
}

TEST(BadInput, TooSmall) {
  EXPECT_EQ(error_of({1, 2, 3}), "model.tflite: file is too small to be a TFLite model (3 bytes)");
}

TEST(BadInput, WrongFileIdentifier) {
  auto bytes = RawModel{}.build();
  bytes[4] = 'O';
  bytes[7] = 0x01;
  EXPECT_EQ(error_of(bytes),
            "model.tflite: not a TFLite model: file identifier is 'OFL\\x01', expected 'TFL3'");
}

TEST(BadInput, Truncated) {
  auto bytes = RawModel{}.build();
  bytes.resize(bytes.size() / 2);
  EXPECT_EQ(error_of(bytes),
            fmt::format("model.tflite: not a valid TFLite flatbuffer ({} bytes: truncated or "
                        "corrupt)",
                        bytes.size()));
}

TEST(BadInput, BufferIndexOutOfRange) {
  RawModel r;
  r.const_buffer = 93;
  EXPECT_EQ(error_of(r.build()), "model.tflite: tensor 1 refers to buffer 93 of 2");
}

TEST(BadInput, TensorIndexOutOfRange) {
  RawModel r;
  r.op_input = 17;
  EXPECT_EQ(error_of(r.build()), "model.tflite: op 0 (ADD) input refers to tensor 17 of 3");
  r.op_input = -2;
  EXPECT_EQ(error_of(r.build()), "model.tflite: op 0 (ADD) input refers to tensor -2 of 3");
}

TEST(BadInput, OpcodeIndexOutOfRange) {
  RawModel r;
  r.opcode_index = 5;
  EXPECT_EQ(error_of(r.build()), "model.tflite: op 0 refers to operator code 5 of 1");
}

TEST(BadInput, AbsurdShape) {
  RawModel r;
  r.const_shape = {100000, 100000, 100000};
  EXPECT_EQ(error_of(r.build()),
            "model.tflite: tensor 1 ('weights') has an absurd shape [100000,100000,100000] (over "
            "2^40 elements)");
  r.const_shape = {1, -4};
  EXPECT_EQ(error_of(r.build()),
            "model.tflite: tensor 1 ('weights') has a negative dimension in shape [1,-4]");
}

TEST(BadInput, BufferSizeMismatch) {
  RawModel r;
  r.const_bytes = 12;
  EXPECT_EQ(error_of(r.build()),
            "model.tflite: tensor 1 ('weights'): buffer 1 holds 12 bytes, but shape [1,4] of "
            "float32 needs 16");
}

TEST(BadInput, UnsupportedBuiltin) {
  RawModel r;
  r.deprecated_code = 127;  // PLACEHOLDER_FOR_GREATER_OP_CODES, as the converter writes
  r.builtin_code = 150;
  EXPECT_EQ(error_of(r.build()), "model.tflite: op 0 uses unsupported builtin GELU (150)");
  r.deprecated_code = 7;
  r.builtin_code = 0;  // an old file: only the byte field is set
  EXPECT_EQ(error_of(r.build()),
            "model.tflite: op 0 uses unsupported builtin EMBEDDING_LOOKUP (7)");
}

TEST(BadInput, UnsupportedCustomOp) {
  RawModel r;
  r.deprecated_code = 32;
  r.builtin_code = 32;
  r.custom_code = "MyFancyOp";
  EXPECT_EQ(error_of(r.build()), "model.tflite: op 0 uses unsupported custom op 'MyFancyOp'");
}

TEST(BadInput, WrongOptionsTypeForOp) {
  RawModel r;
  r.deprecated_code = 18;  // MUL with AddOptions
  r.builtin_code = 18;
  EXPECT_EQ(error_of(r.build()),
            "model.tflite: op 0 (MUL): builtin options have type AddOptions (11), expected "
            "MulOptions");
}

// Found by the fuzzer: an options table whose union type says NONE is not verified, so it must
// not be read (it reads as absent options).
TEST(BadInput, OptionsValueWithoutType) {
  RawModel r;
  r.deprecated_code = 3;  // CONV_2D
  r.builtin_code = 3;
  r.options_type = tfl::BuiltinOptions::NONE;
  auto m = read_tflite(r.build(), "model.tflite");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->graph.ops[0].kind, graph::OpKind::kConv2d);
  EXPECT_EQ(m->graph.ops[0].attrs, graph::OpAttrs{});
}

TEST(BadInput, SeveralSubgraphs) {
  RawModel r;
  r.num_subgraphs = 2;
  EXPECT_EQ(error_of(r.build()),
            "model.tflite: model has 2 subgraphs; qdet reads single-subgraph models only (no "
            "control flow)");
}

TEST(BadInput, QuantizationVectors) {
  RawModel r;
  r.scales = {0.5f, 0.25f};
  r.zero_points = {0};
  EXPECT_EQ(error_of(r.build()),
            "model.tflite: tensor 1 ('weights'): 2 quantization scales but 1 zero points");
  r.zero_points = {0, 0};
  EXPECT_EQ(error_of(r.build()),
            "model.tflite: tensor 1 ('weights'): 2 quantization scales for dimension 0 of shape "
            "[1,4]");
  r.quantized_dimension = 2;
  EXPECT_EQ(error_of(r.build()),
            "model.tflite: tensor 1 ('weights'): quantized_dimension 2 is outside shape [1,4]");
  r.scales = {0.5f, 0.5f, 0.5f, 0.5f};
  r.zero_points = {0, 0, 0, 0};
  r.quantized_dimension = 1;
  EXPECT_TRUE(read_tflite(r.build(), "model.tflite").ok());
}

}  // namespace
}  // namespace qdet::tflite
