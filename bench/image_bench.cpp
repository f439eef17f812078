// Image pipeline throughput: decode, OpenCV-exact bilinear resize, tensor building.
// Usage: build/bench/image_bench [--benchmark_filter=...]   (uses ../shared/data/models/dog.jpg)
// Counters: Mpx/s of output pixels for resize, of the tensor for building.
#include <benchmark/benchmark.h>

#include <random>

#include "base/file.h"
#include "base/paths.h"
#include "image/codec.h"
#include "image/preprocess.h"
#include "image/resize.h"

namespace {

using namespace qdet;
using namespace qdet::image;

Image noise(int w, int h) {
  Image img(w, h, 3);
  std::mt19937 rng(1);
  for (auto& p : img.pixels) p = static_cast<uint8_t>(rng());
  return img;
}

void BM_Resize(benchmark::State& state) {
  const int sw = static_cast<int>(state.range(0)), sh = static_cast<int>(state.range(1));
  const int dw = static_cast<int>(state.range(2)), dh = static_cast<int>(state.range(3));
  Image src = noise(sw, sh);
  Image dst(dw, dh, 3);
  for (auto _ : state) {
    resize_bilinear_into(src.pixels.data(), sw, sh, src.row_bytes(), dst.pixels.data(), dw, dh,
                         dst.row_bytes(), 3);
    benchmark::DoNotOptimize(dst.pixels.data());
  }
  state.counters["Mpx/s"] = benchmark::Counter(static_cast<double>(dw) * dh * state.iterations() / 1e6,
                                               benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Resize)->Args({768, 576, 416, 312})->Args({640, 480, 640, 480 - 1})
    ->Args({768, 576, 640, 480})->Args({768, 576, 300, 300})->Args({320, 240, 1280, 960});

void BM_BuildTensor(benchmark::State& state) {
  Image src = noise(768, 576);
  TensorFormat f;
  f.width = f.height = 640;
  f.resize = ResizeMode::kLetterboxCenter;
  f.dtype = state.range(0) ? DType::kFloat32 : DType::kUInt8;
  f.std = {255.f, 255.f, 255.f};
  auto builder = TensorBuilder::create(f);
  std::vector<uint8_t> out(f.byte_size());
  for (auto _ : state) {
    auto g = builder->build(src, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["Mpx/s"] = benchmark::Counter(640.0 * 640 * state.iterations() / 1e6,
                                               benchmark::Counter::kIsRate);
}
BENCHMARK(BM_BuildTensor)->Arg(0)->Arg(1);

void BM_DecodeDog(benchmark::State& state) {
  auto bytes = read_file(data_dir() / "models" / "dog.jpg");
  if (!bytes.ok()) {
    state.SkipWithError("dog.jpg not found");
    return;
  }
  for (auto _ : state) {
    auto img = decode_jpeg(*bytes, "dog.jpg");
    benchmark::DoNotOptimize(img);
  }
  state.counters["Mpx/s"] = benchmark::Counter(768.0 * 576 * state.iterations() / 1e6,
                                               benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DecodeDog);

}  // namespace

BENCHMARK_MAIN();
