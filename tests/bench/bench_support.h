// A tiny float model (two 1x1 convolutions) and a synthetic powercap tree for bench tests.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include "quant/graph_builder.h"
#include "tflite/writer.h"

namespace qdet::bench::testing {

// in [1,3,3,8] -> conv 1x1 -> [1,3,3,4] -> conv 1x1 -> [1,3,3,1].
// MACs: 9*4*8 + 9*1*4 = 324 (float32). Constants: 32 + 4 + 4 + 1 floats = 164 bytes.
// Activations: 72 + 36 + 9 floats = 468 bytes, each written and read once: 936 bytes.
inline graph::Model tiny_conv_model() {
  quant::testing::GraphBuilder b;
  const int32_t in = b.input("in", {1, 3, 3, 8});
  std::vector<float> wv(32), bv(4, 0.25f);
  for (size_t i = 0; i < wv.size(); ++i) wv[i] = static_cast<float>(i % 7) - 3.f;
  const int32_t w = b.constant("w", {4, 1, 1, 8}, wv);
  const int32_t bias = b.constant("b", {4}, bv);
  const int32_t c = b.activation("c", {1, 3, 3, 4});
  const int32_t w2 = b.constant("w2", {1, 1, 1, 4}, std::vector<float>(4, 1.f));
  const int32_t b2 = b.constant("b2", {1}, {0.f});
  const int32_t d = b.activation("d", {1, 3, 3, 1});
  b.op(graph::OpKind::kConv2d, {in, w, bias}, {c});
  b.op(graph::OpKind::kConv2d, {c, w2, b2}, {d});
  b.output(d);
  return b.model();
}
constexpr double kTinyMacs = 324;
constexpr int64_t kTinyWeightBytes = 164;
constexpr double kTinyBytesMoved = 164 + 936;

inline void write_text(const std::filesystem::path& p, const std::string& s) { std::ofstream(p) << s << "\n"; }

// One package domain (and a core sub-domain that must not be counted) with the given counters.
inline void make_powercap_tree(const std::filesystem::path& root, uint64_t energy_uj, uint64_t max_uj) {
  for (const auto& [dir, name] : {std::pair{"intel-rapl:0", "package-0"}, std::pair{"intel-rapl:0:0", "core"}}) {
    std::filesystem::create_directories(root / dir);
    write_text(root / dir / "name", name);
    write_text(root / dir / "energy_uj", std::to_string(energy_uj));
    write_text(root / dir / "max_energy_range_uj", std::to_string(max_uj));
  }
}

}  // namespace qdet::bench::testing
