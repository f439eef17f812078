// Which implementation oneDNN runs for YOLOX-Nano's int8 convolutions, from oneDNN's own verbose
// log (ONEDNN_VERBOSE=1 prints one line per executed primitive): on a CPU with VNNI it must be a
// VNNI or AMX kernel, never a reference or plain-gemm one, and oneDNN must run most of the int8
// convolutions. The int8 file is the default quantization of YOLOX-Nano on 4 calibration images
// (the convolution shapes do not depend on the calibration). qdet's own AMX kernel, which runs
// the pointwise ones before oneDNN is asked, is turned off (QDET_AMX=0) for the oneDNN check, and
// must take them when it is on and the CPU has AMX.
#include <gtest/gtest.h>

#include <sstream>

#include "runtime/kernels/onednn/kernels.h"
#include "runtime/kernels/simd/kernels.h"
#include "test_support.h"

namespace qdet::rt {
namespace {

namespace fs = std::filesystem;
using qdet::testing::run_command;

TEST(OnednnVerbose, YoloxInt8ConvolutionsRunVnniOrAmxKernels) {
  const fs::path src = data_dir() / "models" / "yolox_nano_fp32_416.tflite";
  const fs::path calib = data_dir() / "coco" / "calib-111";
  QDET_REQUIRE_PATH(src);
  QDET_REQUIRE_PATH(calib);
  if (!onednn::has_fast_int8()) GTEST_SKIP() << "this CPU has no VNNI/AMX: oneDNN runs no qdet op here";
  const fs::path dir = qdet::testing::scratch_dir();
  const fs::path q = dir / "q.tflite";
  std::string log;
  ASSERT_EQ(run_command(std::string(QDET_BINARY) + " quantize '" + src.string() + "' --mode int8 --calib '" +
                            calib.string() + "' --calib-count 4 -o '" + q.string() + "'", &log), 0) << log;
  ASSERT_EQ(run_command("QDET_AMX=0 ONEDNN_VERBOSE=1 " + std::string(QDET_BINARY) + " bench '" + q.string() +
                            "' --runs 1 --warmup 0 --energy estimate 2>/dev/null", &log), 0) << log;
  std::istringstream lines(log);
  std::string line;
  int convolutions = 0;
  while (std::getline(lines, line)) {
    // onednn_verbose,exec,cpu,convolution,<implementation>,forward_inference,...
    if (line.rfind("onednn_verbose,exec,cpu,convolution,", 0) != 0) continue;
    const std::string impl = line.substr(36, line.find(',', 36) - 36);
    EXPECT_TRUE(impl.find("vnni") != std::string::npos || impl.find("amx") != std::string::npos) << line;
    EXPECT_EQ(impl.find("ref"), std::string::npos) << line;
    ++convolutions;
  }
  // The run's own count of ops per kernel family ("ops: 40 onednn, ...").
  const size_t at = log.find(" onednn");
  ASSERT_NE(at, std::string::npos) << log;
  const size_t start = log.find_last_of(" :", at - 1) + 1;
  const int onednn_ops = std::stoi(log.substr(start, at - start));
  EXPECT_EQ(convolutions, onednn_ops) << log;
  EXPECT_GE(onednn_ops, 30) << "YOLOX-Nano int8 has 50+ int8 CONV_2D; oneDNN should take most\n" << log;

  if (!simd::has_amx_int8()) return;
  ASSERT_EQ(run_command(std::string(QDET_BINARY) + " bench '" + q.string() +
                            "' --runs 1 --warmup 0 --energy estimate --profile 2>/dev/null", &log), 0) << log;
  // "  0.914  11.2%    58  CONV_2D int8 simd": the AMX kernel runs every pointwise one (all 58).
  // (The space keeps "DEPTHWISE_CONV_2D int8 simd" out.)
  const size_t row = log.find(" CONV_2D int8 simd");
  ASSERT_NE(row, std::string::npos) << log;
  const size_t line_start = log.rfind('\n', row) + 1;
  std::istringstream fields(log.substr(line_start, row - line_start));
  double ms = 0;
  std::string percent;
  int simd_convolutions = 0;
  fields >> ms >> percent >> simd_convolutions;
  EXPECT_GE(simd_convolutions, 50) << log;
  EXPECT_EQ(log.find("CONV_2D int8 onednn"), std::string::npos) << log;
}

}  // namespace
}  // namespace qdet::rt
