// `qdet run`: raw inputs, seeded random inputs identical to tflite_run.js's, output files
// named as tflite_run.js names them, JSON, and clear errors.
#include <gmock/gmock.h>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "graph_builder.h"
#include "test_support.h"
#include "tflite/writer.h"

namespace qdet::rt {
namespace {

namespace fs = std::filesystem;
using ::qdet::testing::run_command;
using ::qdet::testing::scratch_dir;
using ::testing::HasSubstr;

// A float input added to a constant, and a uint8 input reshaped; names with ':' and '/'.
fs::path write_small_model(const fs::path& dir) {
  testing::GraphBuilder b;
  int32_t x = b.input(DType::kFloat32, {1, 5});
  int32_t c = b.constant(DType::kFloat32, {5}, std::vector<float>{0.5f, 1, 2, 4, 8});
  int32_t sum = b.tensor(DType::kFloat32, {1, 5});
  b.op(graph::OpKind::kAdd, {x, c}, {sum});
  int32_t u = b.input(DType::kUInt8, {6}, testing::per_tensor(0.5f, 3));
  int32_t r = b.tensor(DType::kUInt8, {2, 3}, testing::per_tensor(0.5f, 3));
  b.op(graph::OpKind::kReshape, {u, b.ints({2, 3})}, {r});
  b.output(sum);
  b.output(r);
  b.graph().tensors[x].name = "serving:0";
  b.graph().tensors[sum].name = "Identity:0/add";
  b.graph().tensors[r].name = "model/reshape:1";
  graph::Model m;
  m.graph = b.graph();
  const fs::path path = dir / "small.tflite";
  EXPECT_TRUE(tflite::save_tflite(path, m).ok());
  return path;
}

std::string qdet() { return QDET_BINARY; }

TEST(RunCli, RandomInputsAndFileNamesMatchTflitePeer) {
  QDET_REQUIRE_PEERS();
  const fs::path dir = scratch_dir();
  const fs::path model = write_small_model(dir);
  std::string out;
  ASSERT_EQ(run_command(qdet() + " run '" + model.string() + "' --seed 7 --json --dump-dir '" +
                            (dir / "qdet").string() + "'",
                        &out),
            0)
      << out;
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["outputs"][0]["file"], (dir / "qdet" / "out_2_Identity_0_add.bin").string());
  EXPECT_EQ(j["outputs"][1]["file"], (dir / "qdet" / "out_4_model_reshape_1.bin").string());
  EXPECT_EQ(j["inputs"][0]["source"], "random (seed 7)");
  ASSERT_EQ(run_command(::qdet::testing::peer_command("tflite_run.js") + " '" + model.string() +
                            "' --seed 7 --warmup 0 --runs 0 --dump-dir '" + (dir / "peer").string() + "'",
                        &out),
            0)
      << out;
  for (const char* name : {"out_2_Identity_0_add.bin", "out_4_model_reshape_1.bin"}) {
    auto ours = read_file(dir / "qdet" / name);
    auto theirs = read_file(dir / "peer" / name);
    ASSERT_TRUE(ours.ok()) << ours.status().message();
    ASSERT_TRUE(theirs.ok()) << name << " not written by the peer";
    EXPECT_EQ(*ours, *theirs) << name;
  }
}

TEST(RunCli, RawInputFileAndTextOutput) {
  const fs::path dir = scratch_dir();
  const fs::path model = write_small_model(dir);
  ASSERT_TRUE(write_file_atomic(dir / "x.bin", testing::to_bytes(std::vector<float>{1, 2, 3, 4, 5})).ok());
  ASSERT_TRUE(write_file_atomic(dir / "u.bin", std::vector<uint8_t>{9, 8, 7, 6, 5, 4}).ok());
  std::string out;
  ASSERT_EQ(run_command(qdet() + " run '" + model.string() + "' --input '" + (dir / "x.bin").string() +
                            "' --input '" + (dir / "u.bin").string() + "' --threads 2",
                        &out),
            0)
      << out;
  EXPECT_THAT(out, HasSubstr("Identity:0/add"));
  EXPECT_THAT(out, HasSubstr("[1.5, 3, 5, 8, 13]"));
  EXPECT_THAT(out, HasSubstr("[9, 8, 7, 6, 5, 4]"));
}

TEST(RunCli, WrongInputSizeIsAClearError) {
  const fs::path dir = scratch_dir();
  const fs::path model = write_small_model(dir);
  ASSERT_TRUE(write_file_atomic(dir / "x.bin", std::vector<uint8_t>(7, 0)).ok());
  std::string out;
  EXPECT_EQ(run_command(qdet() + " run '" + model.string() + "' --input '" + (dir / "x.bin").string() + "'", &out), 1);
  EXPECT_THAT(out, HasSubstr("qdet: error: " + (dir / "x.bin").string() +
                             ": 7 bytes, input 0 'serving:0' needs 20 (float32[1,5])"));
  EXPECT_EQ(run_command(qdet() + " run '" + model.string() + "' --input a --input b --input c", &out), 1);
  EXPECT_THAT(out, HasSubstr("qdet: error:"));
}

TEST(RunCli, UnsupportedOpNamesTheOp) {
  const fs::path dir = scratch_dir();
  testing::GraphBuilder b;
  int32_t x = b.input(DType::kFloat32, {2});
  int32_t y = b.tensor(DType::kFloat32, {2});
  b.op(graph::OpKind::kFloor, {x}, {y});
  b.output(y);
  graph::Model m;
  m.graph = b.graph();
  ASSERT_TRUE(tflite::save_tflite(dir / "floor.tflite", m).ok());
  std::string out;
  EXPECT_EQ(run_command(qdet() + " run '" + (dir / "floor.tflite").string() + "'", &out), 1);
  EXPECT_THAT(out, HasSubstr("op 0 (FLOOR): qdet has no kernel for this op"));
}

}  // namespace
}  // namespace qdet::rt
