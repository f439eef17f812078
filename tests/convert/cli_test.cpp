// qdet convert and qdet fetch as users run them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "convert/fetch.h"
#include "convert/sha256.h"
#include "test_support.h"
#include "tflite/reader.h"

namespace qdet::convert {
namespace {

using ::qdet::testing::run_command;
using ::testing::HasSubstr;

std::string qdet(const std::string& args) { return std::string("'") + QDET_BINARY + "' " + args; }

TEST(ConvertCli, ConvertsOnnxAndDarknetWithJsonSummary) {
  const auto onnx_model = data_dir() / "models" / "FastestDet_352.onnx";
  const auto cfg = data_dir() / "models" / "darknet" / "yolo-fastest-1.1.cfg";
  QDET_REQUIRE_PATH(onnx_model);
  QDET_REQUIRE_PATH(cfg);
  const auto dir = ::qdet::testing::scratch_dir();
  std::string out;
  ASSERT_EQ(run_command(qdet("convert '" + onnx_model.string() + "' -o '" + (dir / "fd.tflite").string() + "' --json"), &out), 0)
      << out;
  auto j = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << out;
  EXPECT_EQ(j["format"], "onnx");
  EXPECT_EQ(j["inputs"][0]["shape"], nlohmann::json({1, 352, 352, 3}));
  EXPECT_EQ(j["outputs"][0]["shape"], nlohmann::json({1, 22, 22, 85}));
  auto m = tflite::load_tflite(dir / "fd.tflite");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_THAT(m->description, HasSubstr("input 'input.1' is NHWC [1,352,352,3]"));
  ASSERT_EQ(m->metadata.size(), 1u);
  EXPECT_EQ(m->metadata[0].name, "qdet_convert");

  ASSERT_EQ(run_command(qdet("convert '" + cfg.string() + "' -o '" + (dir / "yf.tflite").string() + "'"), &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("output 'yolo_121' [1,10,10,255]"));
  EXPECT_TRUE(std::filesystem::exists(dir / "yf.qdet.json"));
}

// Names are untrusted bytes: an ONNX file whose input and a tensor are named with invalid UTF-8
// ("in\xC3(t.1": a broken two-byte sequence; "inp\xFFt.4") converts, and the --json summary
// is valid JSON with U+FFFD where the bytes were (it used to abort: nlohmann type_error 316).
TEST(ConvertCli, NonUtf8OnnxNamesConvertWithValidJson) {
  const auto onnx_model = data_dir() / "models" / "FastestDet_352.onnx";
  QDET_REQUIRE_PATH(onnx_model);
  auto bytes = read_file(onnx_model);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  std::string text(bytes->begin(), bytes->end());
  // Length-prefixed protobuf strings: the same lengths, so every reference still matches.
  const auto rename = [&](const std::string& from, const std::string& to) {
    int n = 0;
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()), ++n)
      text.replace(at, from.size(), to);
    return n;
  };
  ASSERT_EQ(rename(std::string("\x07input.1"), std::string("\x07in\xC3(t.1")), 2);
  ASSERT_EQ(rename(std::string("\x07input.4"), std::string("\x07inp\xFFt.4")), 3);
  const auto dir = ::qdet::testing::scratch_dir();
  ASSERT_TRUE(write_file_atomic(dir / "bad.onnx", std::vector<uint8_t>(text.begin(), text.end())).ok());
  std::string out;
  ASSERT_EQ(run_command(qdet("convert '" + (dir / "bad.onnx").string() + "' -o '" + (dir / "bad.tflite").string() +
                             "' --json"), &out), 0)
      << out;
  auto j = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << out;
  EXPECT_EQ(j["inputs"][0]["name"], "in\uFFFD(t.1");
  // The file keeps the bytes as they were (TFLite takes any bytes in a name).
  auto m = tflite::load_tflite(dir / "bad.tflite");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->graph.tensors[m->graph.inputs[0]].name, "in\xC3(t.1");
}

TEST(ConvertCli, ErrorsLeaveNoFile) {
  const auto dir = ::qdet::testing::scratch_dir();
  const auto cfg = data_dir() / "models" / "darknet" / "yolo-fastest-1.1.cfg";
  const auto weights = data_dir() / "models" / "darknet" / "yolo-fastest-1.1-xl.weights";
  QDET_REQUIRE_PATH(weights);
  std::string out;
  // The XL weights with the small cfg: a size mismatch, named.
  EXPECT_EQ(run_command(qdet("convert '" + cfg.string() + "' --weights '" + weights.string() + "' -o '" +
                             (dir / "x.tflite").string() + "'"),
                        &out),
            1);
  EXPECT_THAT(out, HasSubstr("qdet: error: "));
  EXPECT_THAT(out, HasSubstr("yolo-fastest-1.1-xl.weights"));
  EXPECT_FALSE(std::filesystem::exists(dir / "x.tflite"));
  EXPECT_FALSE(std::filesystem::exists(dir / "x.qdet.json"));
  EXPECT_EQ(run_command(qdet("convert model.pb -o '" + (dir / "y.tflite").string() + "'"), &out), 1);
  EXPECT_THAT(out, HasSubstr("unknown model format '.pb'"));
  EXPECT_FALSE(std::filesystem::exists(dir / "y.tflite"));
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex({}), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const std::string abc = "abc";
  EXPECT_EQ(sha256_hex(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(abc.data()), 3)),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  EXPECT_EQ(sha256_hex(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(two.data()), two.size())),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

// The catalog's pinned checksums are those of the ../shared copies: fetching from the local
// copy verifies, a wrong checksum fails and leaves nothing, an unreachable host says offline.
TEST(FetchCli, VerifiesChecksumsAndReportsOffline) {
  const auto src = data_dir() / "models" / "yolox_nano_416.onnx";
  QDET_REQUIRE_PATH(src);
  const auto dir = ::qdet::testing::scratch_dir();
  std::string out;
  ASSERT_EQ(run_command(qdet("fetch yolox-nano-onnx -o '" + dir.string() + "' --from '" + src.string() + "'"), &out), 0)
      << out;
  EXPECT_THAT(out, HasSubstr("(verified)"));
  EXPECT_TRUE(std::filesystem::exists(dir / "yolox_nano.onnx"));

  EXPECT_EQ(run_command(qdet("fetch yolox-nano-onnx -o '" + (dir / "bad").string() + "' --from '" +
                             (data_dir() / "models" / "FastestDet_352.onnx").string() + "'"),
                        &out),
            1);
  EXPECT_THAT(out, HasSubstr("does not match the pinned e8af0749"));
  EXPECT_FALSE(std::filesystem::exists(dir / "bad" / "yolox_nano.onnx"));
  EXPECT_FALSE(std::filesystem::exists(dir / "bad" / "yolox_nano.onnx.part"));

  if (run_command("command -v curl", nullptr) == 0) {
    // Port 9 (discard) on the loopback: refused at once, like a machine without a network.
    EXPECT_EQ(run_command(qdet("fetch yolox-nano-onnx -o '" + (dir / "off").string() + "' --from http://127.0.0.1:9/x.onnx"),
                          &out),
              1);
    EXPECT_THAT(out, HasSubstr("could not connect (offline?)"));
    EXPECT_FALSE(std::filesystem::exists(dir / "off" / "yolox_nano.onnx"));
  }
  EXPECT_EQ(run_command(qdet("fetch no-such-model"), &out), 1);
  EXPECT_THAT(out, HasSubstr("no model called 'no-such-model' (known: yolox-nano-onnx,"));
  EXPECT_EQ(run_command(qdet("fetch --list"), &out), 0);
  EXPECT_THAT(out, HasSubstr("yolov3-tiny"));
}

TEST(Fetch, CatalogEntriesAreWellFormed) {
  for (const auto& e : fetch_catalog()) {
    EXPECT_FALSE(e.files.empty()) << e.name;
    for (const auto& f : e.files) {
      EXPECT_FALSE(f.urls.empty()) << f.name;
      for (const auto& u : f.urls) EXPECT_EQ(u.rfind("https://", 0), 0u) << u;
      EXPECT_TRUE(f.sha256.empty() || f.sha256.size() == 64) << f.name;
    }
  }
}

}  // namespace
}  // namespace qdet::convert
