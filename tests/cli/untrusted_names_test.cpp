// Tensor and node names come from model files and are untrusted bytes: a name that is not valid
// UTF-8 once aborted `qdet inspect --json` and `qdet run --json` (nlohmann::json type_error 316).
// Invalid sequences now become U+FFFD wherever a name reaches JSON.
#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "base/json_text.h"
#include "graph/graph.h"
#include "test_support.h"
#include "tflite/writer.h"

namespace qdet {
namespace {

namespace fs = std::filesystem;
using ::qdet::testing::run_command;

const std::string kBadName = std::string("act\xff\xfe") + "\xc3(";  // invalid UTF-8

TEST(UntrustedNames, JsonTextReplacesInvalidUtf8) {
  const nlohmann::json j = {{"name", kBadName}};
  EXPECT_THROW((void)j.dump(), nlohmann::json::type_error);
  const std::string text = json_text(j);
  EXPECT_NE(text.find("act\xEF\xBF\xBD"), std::string::npos) << text;
  EXPECT_NO_THROW((void)nlohmann::json::parse(text));
}

TEST(UntrustedNames, InspectAndRunPrintJsonForANonUtf8TensorName) {
  graph::Model model;
  graph::Graph& g = model.graph;
  graph::Tensor in;
  in.name = kBadName;
  in.shape = {1, 4};
  const int32_t a = g.add_tensor(in);
  graph::Tensor out;
  out.name = "out\x80";
  out.shape = {1, 4};
  const int32_t b = g.add_tensor(out);
  graph::Op op;
  op.kind = graph::OpKind::kRelu;
  op.inputs = {a};
  op.outputs = {b};
  g.ops.push_back(op);
  g.inputs = {a};
  g.outputs = {b};
  const fs::path dir = ::qdet::testing::scratch_dir();
  const fs::path path = dir / "bad_names.tflite";
  ASSERT_TRUE(tflite::save_tflite(path, model).ok());
  for (const std::string command : {"inspect", "run"}) {
    SCOPED_TRACE(command);
    std::string output;
    ASSERT_EQ(run_command(std::string(QDET_BINARY) + " " + command + " '" + path.string() +
                              "' --json 2>/dev/null",
                          &output),
              0)
        << output;
    nlohmann::json j;
    ASSERT_NO_THROW(j = nlohmann::json::parse(output)) << output;
    EXPECT_NE(output.find("act\xEF\xBF\xBD"), std::string::npos) << output;
  }
}

}  // namespace
}  // namespace qdet
