// Damaged files never crash the reader: truncations and bit flips of the real models at seeded
// positions must give either a model that verifies or a clear error naming the file.
// (Run under -DQDET_SANITIZE=ON for the ASan/UBSan check; tests/fuzz has the libFuzzer target.)
#include <gtest/gtest.h>

#include <random>

#include "base/file.h"
#include "model_files.h"
#include "test_support.h"
#include "tflite/reader.h"
#include "tflite/tflite_generated.h"

namespace qdet::tflite {
namespace {

// Byte ranges of the file that are not constant data: flipping bits in weights proves nothing
// about the reader, so most flips go to the flatbuffer's structure (tables, vtables, offsets,
// vectors of indices).
std::vector<std::pair<size_t, size_t>> structure_ranges(const std::vector<uint8_t>& file) {
  std::vector<std::pair<size_t, size_t>> data;
  const tfl::Model* m = tfl::GetModel(file.data());
  for (const tfl::Buffer* b : *m->buffers())
    if (b->data() && b->data()->size() > 64) {
      const size_t start = static_cast<size_t>(b->data()->data() - file.data());
      data.emplace_back(start, start + b->data()->size());
    }
  std::sort(data.begin(), data.end());
  std::vector<std::pair<size_t, size_t>> gaps;
  size_t pos = 0;
  for (auto [s, e] : data) {
    if (s > pos) gaps.emplace_back(pos, s);
    pos = std::max(pos, e);
  }
  if (pos < file.size()) gaps.emplace_back(pos, file.size());
  return gaps;
}

void expect_clean_result(const std::vector<uint8_t>& bytes, const std::string& what) {
  auto m = read_tflite(bytes, "damaged.tflite");
  if (m.ok()) {
    EXPECT_TRUE(m->graph.verify().ok()) << what;
  } else {
    EXPECT_EQ(m.status().message().rfind("damaged.tflite: ", 0), 0u)
        << what << ": " << m.status().message();
  }
}

class Robustness : public ::testing::TestWithParam<std::string> {};

TEST_P(Robustness, TruncationsAndBitFlipsNeverCrash) {
  testing::ModelFile file{GetParam()};
  QDET_REQUIRE_PATH(file.path());
  auto original = read_file(file.path());
  ASSERT_TRUE(original.ok());
  const std::vector<uint8_t>& bytes = *original;
  const auto gaps = structure_ranges(bytes);
  size_t structure_bytes = 0;
  for (auto [s, e] : gaps) structure_bytes += e - s;
  ASSERT_GT(structure_bytes, 0u);

  std::mt19937_64 rng(20240611 + bytes.size());
  auto structure_position = [&] {
    size_t k = std::uniform_int_distribution<size_t>(0, structure_bytes - 1)(rng);
    for (auto [s, e] : gaps) {
      if (k < e - s) return s + k;
      k -= e - s;
    }
    return size_t{0};
  };

  int failures = 0;
  constexpr int kTruncations = 24, kFlips = 300;
  for (int i = 0; i < kTruncations; ++i) {
    const size_t len = i < 8 ? static_cast<size_t>(i) * 3
                             : std::uniform_int_distribution<size_t>(0, bytes.size() - 1)(rng);
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(len));
    expect_clean_result(cut, fmt::format("truncated to {} bytes", len));
    failures += !read_tflite(cut, "damaged.tflite").ok();
  }
  std::vector<uint8_t> damaged = bytes;
  for (int i = 0; i < kFlips; ++i) {
    const int nbits = 1 + static_cast<int>(rng() % 4);
    std::vector<size_t> positions;
    for (int b = 0; b < nbits; ++b) {
      const size_t pos = (rng() % 8 == 0)
                             ? std::uniform_int_distribution<size_t>(0, bytes.size() - 1)(rng)
                             : structure_position();
      damaged[pos] ^= static_cast<uint8_t>(1u << (rng() % 8));
      positions.push_back(pos);
    }
    expect_clean_result(damaged, fmt::format("flip #{} at {}", i, fmt::join(positions, ",")));
    for (size_t pos : positions) damaged[pos] = bytes[pos];
  }
  // Truncations always fail (the flatbuffer is cut), so the loop above did reach the reader's
  // error paths.
  EXPECT_EQ(failures, kTruncations);
}

INSTANTIATE_TEST_SUITE_P(SharedModels, Robustness,
                         ::testing::Values("yolox_nano_fp32_416", "ssd_mobilenet_v1_1_metadata_1",
                                           "yolov5n-fp16", "yolov5n-int8"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

}  // namespace
}  // namespace qdet::tflite
