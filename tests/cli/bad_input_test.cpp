// Bad input at every entry point of the CLI: each case gives qdet something broken, oversized or
// out of range (made here, a few bytes each) and checks the answer: the exit status and one
// "qdet: error:" line that says what was wrong. Never a signal, never a second error line.
// The cases and their actual answers are also docs/BAD_INPUT.md: the test fails when that file
// is stale; QDET_UPDATE_DOCS=1 rewrites it.
#include <gmock/gmock.h>

#include <fstream>
#include <sstream>

#include "base/file.h"
#include "convert/convert_test_util.h"
#include "image/codec.h"
#include "test_support.h"
#include "tflite/writer.h"

namespace qdet {
namespace {

namespace fs = std::filesystem;
using convert::testing::OnnxBuilder;

struct Case {
  std::string entry;    // the command, as the table shows it
  std::string given;    // what it was given
  std::string args;     // arguments after `qdet`, run in the scratch folder
  int exit_code;        // expected exit status
  std::string message;  // expected in the error line
};

void write_text(const fs::path& path, const std::string& text) {
  ASSERT_TRUE(write_file_atomic(path, text).ok()) << path;
}

// y = x + x on float32 tensors of `shape`.
void write_add_model(const fs::path& path, const Shape& shape) {
  graph::Model m;
  graph::Graph& g = m.graph;
  graph::Tensor x;
  x.name = "x";
  x.dtype = DType::kFloat32;
  x.shape = shape;
  graph::Tensor y = x;
  y.name = "y";
  const int32_t xi = g.add_tensor(std::move(x)), yi = g.add_tensor(std::move(y));
  graph::Op op;
  op.kind = graph::OpKind::kAdd;
  op.inputs = {xi, xi};
  op.outputs = {yi};
  g.ops.push_back(op);
  g.inputs = {xi};
  g.outputs = {yi};
  ASSERT_TRUE(tflite::save_tflite(path, m).ok());
}

// The files the cases read, all small: made in `dir`.
void make_inputs(const fs::path& dir) {
  write_add_model(dir / "small.tflite", {1, 4});
  write_add_model(dir / "huge_arena.tflite", {1, 65536, 65536, 64});  // 1 TiB per tensor
  write_text(dir / "garbage.tflite", std::string(64, 'x'));
  {
    auto bytes = read_file(dir / "small.tflite");
    ASSERT_TRUE(bytes.ok());
    bytes->resize(bytes->size() / 2);
    ASSERT_TRUE(write_file_atomic(dir / "truncated.tflite", *bytes).ok());
  }
  {
    OnnxBuilder b(13);
    b.input("x", {1, 4});
    b.floats("w", {INT32_MAX, 511}, {1.0f});
    b.node("Add", {"x", "w"}, {"y"});
    b.output("y");
    b.save(dir / "huge_initializer.onnx");
  }
  write_text(dir / "garbage.onnx", "\x08\x07\x12\xff\xff\xff\xff\x0f not protobuf");
  write_text(dir / "wide.cfg",
             "[net]\nwidth=100000\nheight=16\nchannels=3\n[convolutional]\nfilters=1\nsize=1\n");
  write_text(dir / "small.cfg", "[net]\nwidth=8\nheight=8\nchannels=3\n[convolutional]\nfilters=2\nsize=1\n");
  write_text(dir / "short.weights", std::string(20, '\0'));
  write_text(dir / "not_an_image.jpg", "definitely not a JPEG");
  write_text(dir / "truncated.png", std::string("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\x80\0", 20));
  write_text(dir / "broken.json", "{\"images\": [");
  write_text(dir / "deep.json", std::string(100000, '[') + std::string(100000, ']'));
  write_text(dir / "results_not_list.json", "{\"image_id\": 1}");
  write_text(dir / "afile", "a file where a folder is expected");
  {
    image::Image img(1024, 1024, 3);
    auto png = image::encode_png(img);
    ASSERT_TRUE(png.ok());
    ASSERT_TRUE(write_file_atomic(dir / "1024x1024.png", *png).ok());
    // A PNG header that claims 40000 x 40000 pixels (then nothing).
    auto header = *png;
    const uint8_t side[4] = {0x00, 0x00, 0x9c, 0x40};
    std::copy(side, side + 4, header.begin() + 16);
    std::copy(side, side + 4, header.begin() + 20);
    // The IHDR chunk's CRC-32 (over its type and 13 data bytes, bytes 12..28) follows at 29.
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 12; i < 29; ++i) {
      crc ^= header[i];
      for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    crc = ~crc;
    for (int k = 0; k < 4; ++k) header[29 + k] = static_cast<uint8_t>(crc >> (24 - 8 * k));
    header.resize(64);
    ASSERT_TRUE(write_file_atomic(dir / "huge_header.png", header).ok());
  }
  {
    // A 3.4 KB darknet network whose 16384 x 16384 input needs 19 GiB of activations.
    write_text(dir / "big.cfg",
               "[net]\nwidth=16384\nheight=16384\nchannels=3\n[convolutional]\nfilters=16\nsize=3\n"
               "stride=1\npad=1\nactivation=leaky\n");
    std::vector<uint8_t> weights(20 + 4 * (16 + 16 * 3 * 9), 0);
    weights[4] = 2;  // version 0.2.0: 20 header bytes
    ASSERT_TRUE(write_file_atomic(dir / "big.weights", weights).ok());
    std::string out;
    ASSERT_EQ(testing::run_command("cd '" + dir.string() + "' && " + QDET_BINARY +
                                       " convert big.cfg --weights big.weights -o big_darknet.tflite",
                                   &out),
              0)
        << out;
  }
}

std::vector<Case> cases() {
  return {
      {"run", "a file that does not exist", "run missing.tflite", 2,
       "model: File does not exist: missing.tflite"},
      {"run", "64 bytes of text as .tflite", "run garbage.tflite", 1, "garbage.tflite: "},
      {"run", "a .tflite cut in half", "run truncated.tflite", 1, "truncated.tflite: "},
      {"run", "a 2-tensor model whose activations need 2 TiB", "--max-memory 1G run huge_arena.tflite", 1,
       "the model's activations need at least 2.0 TiB of memory (op 0 (ADD)), over the memory budget of 1.0 GiB"},
      {"run", "--max-memory lots", "--max-memory lots run small.tflite", 2,
       "'lots' is not a size such as 512M or 4G"},
      {"inspect", "64 bytes of text as .tflite", "inspect garbage.tflite", 1, "garbage.tflite: "},
      {"convert", "an ONNX initializer declared [2^31-1, 511] holding 4 bytes",
       "convert huge_initializer.onnx -o out.tflite", 1,
       "initializer 'w': 4 bytes of raw data for shape [2147483647,511]"},
      {"convert", "bytes that are not protobuf, as .onnx", "convert garbage.onnx -o out.tflite", 1,
       "not a valid ONNX model"},
      {"convert", "a darknet cfg with width=100000", "convert wide.cfg --weights short.weights -o out.tflite",
       1, "width"},
      {"convert", "darknet weights of 20 bytes", "convert small.cfg --weights short.weights -o out.tflite", 1,
       "short.weights"},
      {"run", "a darknet conversion with a 16384x16384 input", "--max-memory 4G run big_darknet.tflite", 1,
       "over the memory budget of 4.0 GiB"},
      {"detect", "a sidecar JSON cut short", "detect small.tflite 1024x1024.png --sidecar broken.json", 1,
       "broken.json"},
      {"detect", "a PNG header claiming 40000x40000 pixels", "detect small.tflite huge_header.png", 1,
       "huge_header.png: image dimensions 40000x40000 exceed"},
      {"detect", "a 1024x1024 PNG with --max-memory 1M", "--max-memory 1M detect small.tflite 1024x1024.png", 1,
       "over the memory budget of 1.0 MiB"},
      {"quantize", "a calibration table JSON cut short",
       "quantize small.tflite --mode int8 --table broken.json -o out.tflite", 1, "broken.json"},
      {"detect", "--score nan", "detect small.tflite x.jpg --score nan", 2, "'nan' is not in [0, 1]"},
      {"detect", "--iou 5", "detect small.tflite x.jpg --iou 5", 2, "'5' is not in [0, 1]"},
      {"detect", "--max-det -1", "detect small.tflite x.jpg --max-det -1", 2, "--max-det"},
      {"detect", "text named .jpg", "detect small.tflite not_an_image.jpg", 1, "not_an_image.jpg: "},
      {"detect", "a PNG cut after its header", "detect small.tflite truncated.png", 1, "truncated.png: "},
      {"detect", "-o under a file instead of a folder", "detect small.tflite not_an_image.jpg -o afile/out.png",
       1, "afile: exists and is not a folder"},
      {"quantize", "-o under a file instead of a folder (before any calibration)",
       "quantize small.tflite --mode int8 -o afile/out.tflite", 1, "afile: exists and is not a folder"},
      {"coco-eval", "annotations JSON cut short",
       "coco-eval --annotations broken.json --results results_not_list.json", 1, "broken.json"},
      {"coco-eval", "annotations nested 100000 deep",
       "coco-eval --annotations deep.json --results results_not_list.json", 1, "deep.json"},
  };
}

// The error line with the scratch folder's path taken out.
std::string error_line(const std::string& out, const fs::path& dir) {
  std::string line;
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);)
    if (l.starts_with("qdet: error:")) line = l;
  for (size_t p; (p = line.find(dir.string() + "/")) != std::string::npos;)
    line.erase(p, dir.string().size() + 1);
  return line;
}

std::string escape_cell(std::string s) {
  for (size_t p = 0; (p = s.find('|', p)) != std::string::npos; p += 2) s.replace(p, 1, "\\|");
  return s;
}

TEST(BadInput, EveryEntryPointAnswersWithOneErrorLineAndTheTableIsCurrent) {
  const fs::path dir = testing::scratch_dir();
  make_inputs(dir);
  std::string table =
      "# What qdet answers to bad input\n\n"
      "Generated by the test `BadInput.EveryEntryPointAnswersWithOneErrorLineAndTheTableIsCurrent`\n"
      "(tests/cli/bad_input_test.cpp), which runs each command on the input described and checks\n"
      "the answer; regenerate with `QDET_UPDATE_DOCS=1 ctest --test-dir build -R BadInput`.\n"
      "Exit status 2 is a usage error (an option or argument), 1 a failure of the command.\n\n"
      "| command | given | exit | answer (stderr) |\n|---|---|---|---|\n";
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.args);
    std::string out;
    const int rc = testing::run_command("cd '" + dir.string() + "' && " + QDET_BINARY + " " + c.args, &out);
    EXPECT_EQ(rc, c.exit_code) << out;
    const std::string line = error_line(out, dir);
    EXPECT_THAT(line, ::testing::HasSubstr(c.message)) << out;
    size_t errors = 0;
    for (size_t p = 0; (p = out.find("qdet: error:", p)) != std::string::npos; ++p) ++errors;
    EXPECT_EQ(errors, 1u) << out;
    EXPECT_EQ(out.find("terminate called"), std::string::npos) << out;
    table += fmt::format("| `qdet {}` | {} | {} | `{}` |\n", escape_cell(c.args), escape_cell(c.given), rc,
                         escape_cell(line));
  }
  const fs::path doc = fs::path(QDET_SOURCE_DIR) / "docs" / "BAD_INPUT.md";
  const char* update = std::getenv("QDET_UPDATE_DOCS");
  if (update && std::string(update) == "1") {
    ASSERT_TRUE(write_file_atomic(doc, table).ok());
    return;
  }
  auto committed = read_text_file(doc);
  ASSERT_TRUE(committed.ok()) << committed.status().message();
  EXPECT_EQ(*committed, table) << "docs/BAD_INPUT.md is stale: QDET_UPDATE_DOCS=1 ctest --test-dir build -R BadInput";
}

TEST(BadInput, DetectCreatesTheOutputFolderLikeConvertAndQuantize) {
  const fs::path model = data_dir() / "models" / "yolox_nano_fp32_416.tflite";
  const fs::path dog = data_dir() / "models" / "dog.jpg";
  QDET_REQUIRE_PATH(model);
  QDET_REQUIRE_PATH(dog);
  const fs::path out = testing::scratch_dir() / "new" / "folder" / "dog.png";
  std::string text;
  EXPECT_EQ(testing::run_command(std::string(QDET_BINARY) + " detect '" + model.string() + "' '" + dog.string() +
                                     "' -o '" + out.string() + "'",
                                 &text),
            0)
      << text;
  EXPECT_TRUE(fs::is_regular_file(out)) << text;
}

}  // namespace
}  // namespace qdet
