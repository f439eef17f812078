// Resized models against the official TFLite interpreter (TFLite ~2.12 WebAssembly, through
// ../shared/peers/tflite_run.js), one row per model and shape: the shared models' ops
// (CONV_2D, DEPTHWISE_CONV_2D, MAX_POOL_2D, RESIZE_NEAREST_NEIGHBOR, CONCATENATION, ADD, MUL,
// LOGISTIC, PAD, STRIDED_SLICE, RESHAPE, TRANSPOSE, SPLIT, and the quantized ones) at a second
// shape reached by resizing the input of the model as stored, not by building a new one.
//
// qdet: Interpreter::resize_input + allocate_tensors. The peer: its Web API has no
// ResizeInputTensor, so it gets the same file with only the input tensor's shape changed (and
// the outputs listed below); TFLite prepares every op at load from that shape, the same shape
// propagation ResizeInputTensor + AllocateTensors runs (the other tensors' shapes in the file
// are stale and TFLite's prepare replaces them, as qdet's does). The outputs compared: the
// model's, and the first and last op of every kind (each kind's output after a resize, without
// dumping every activation). Float within 1e-4 of the tensor's largest magnitude (summation
// order differs), quantized within one step (printed: how many exact).
#include <gmock/gmock.h>

#include <cmath>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "base/file.h"
#include "base/paths.h"
#include "convert/convert.h"
#include "runtime/interpreter.h"
#include "test_support.h"
#include "tflite/reader.h"
#include "tflite/writer.h"

namespace qdet::rt {
namespace {

namespace fs = std::filesystem;
using ::qdet::testing::peer_command;
using ::qdet::testing::run_command;
using ::qdet::testing::scratch_dir;

struct ResizeRow {
  const char* name;
  const char* source;  // under ../shared/data/models: .tflite as stored, .onnx / .cfg converted
  Shape shape;         // input 0 resized to this
  float input_range;   // float inputs uniform in [0, range)
  // The ops before the first RESIZE_NEAREST_NEIGHBOR only: a file's upsample has a constant
  // size, so these detectors change H and W only up to there (in TFLite as in qdet); batches
  // run the whole model.
  bool body_only;
  // Op kinds whose outputs must be among the compared tensors (the row's coverage).
  std::vector<const char*> kinds;
};

const ResizeRow kRows[] = {
    {"YoloxBody320", "yolox_nano_fp32_416.tflite", {1, 320, 320, 3}, 255, true,
     {"STRIDED_SLICE", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "LOGISTIC", "MUL", "ADD",
      "MAX_POOL_2D", "PAD"}},
    {"YoloxBody256x384", "yolox_nano_fp32_416.tflite", {1, 256, 384, 3}, 255, true,
     {"STRIDED_SLICE", "CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "PAD"}},
    {"Yolov5nInt8Batch2", "yolov5n-int8.tflite", {2, 640, 640, 3}, 0, false,
     {"QUANTIZE", "CONV_2D", "MAX_POOL_2D", "RESIZE_NEAREST_NEIGHBOR", "CONCATENATION", "RESHAPE",
      "STRIDED_SLICE", "ADD", "MUL", "LOGISTIC"}},
    {"YoloFastestBody256x416", "darknet/yolo-fastest-1.1.cfg", {1, 256, 416, 3}, 1, true,
     {"CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "CONCATENATION"}},
    {"YoloFastestBatch3", "darknet/yolo-fastest-1.1.cfg", {3, 320, 320, 3}, 1, false,
     {"CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "RESIZE_NEAREST_NEIGHBOR", "CONCATENATION"}},
    {"Yolov5nInt8Body320", "yolov5n-int8.tflite", {1, 320, 320, 3}, 0, true,
     {"QUANTIZE", "CONV_2D", "LOGISTIC", "MUL", "ADD", "CONCATENATION", "MAX_POOL_2D"}},
};

Result<graph::Model> load_row_model(const ResizeRow& row) {
  const fs::path path = data_dir() / "models" / row.source;
  graph::Model m;
  if (path.extension() == ".tflite") {
    QDET_ASSIGN_OR_RETURN(m, tflite::load_tflite(path));
  } else {
    convert::ConvertOptions options;
    options.model = path;
    QDET_ASSIGN_OR_RETURN(convert::Converted c, convert::convert_model(options));
    m = std::move(c.model);
  }
  if (row.body_only) {
    graph::Graph& g = m.graph;
    const auto upsample = std::find_if(g.ops.begin(), g.ops.end(), [](const graph::Op& op) {
      return op.kind == graph::OpKind::kResizeNearestNeighbor;
    });
    if (upsample == g.ops.begin() || upsample == g.ops.end())
      return invalid_argument("{}: no RESIZE_NEAREST_NEIGHBOR after the first op", row.source);
    g.ops.erase(upsample, g.ops.end());
    g.outputs = {g.ops.back().outputs[0]};
    m.signatures.clear();
  }
  return m;
}

// The model's outputs, then the first and last op output of every op kind (activations only).
std::vector<int32_t> tensors_to_compare(const graph::Graph& g) {
  std::vector<int32_t> ids = g.outputs;
  std::map<graph::OpKind, std::pair<int32_t, int32_t>> by_kind;
  for (const graph::Op& op : g.ops) {
    if (op.outputs.empty() || op.outputs[0] < 0 || g.tensors[op.outputs[0]].is_constant()) continue;
    auto [it, fresh] = by_kind.try_emplace(op.kind, op.outputs[0], op.outputs[0]);
    if (!fresh) it->second.second = op.outputs[0];
  }
  for (const auto& [kind, first_last] : by_kind)
    for (int32_t id : {first_last.first, first_last.second})
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  return ids;
}

std::string kind_of(const graph::Graph& g, int32_t tensor) {
  for (const graph::Op& op : g.ops)
    if (!op.outputs.empty() && op.outputs[0] == tensor) return op.name();
  return "input";
}

std::vector<uint8_t> random_input(const TensorRef& t, float range) {
  std::mt19937 rng(2026);
  std::vector<uint8_t> bytes(t.byte_size());
  if (t.dtype == DType::kFloat32) {
    std::uniform_real_distribution<float> u(0.0f, range);
    for (size_t i = 0; i < bytes.size() / 4; ++i) {
      const float v = u(rng);
      std::memcpy(bytes.data() + 4 * i, &v, 4);
    }
  } else {
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
  }
  return bytes;
}

// The file out_<id>_*.bin in `dir`, or an empty path.
fs::path dumped(const fs::path& dir, int32_t id) {
  const std::string prefix = "out_" + std::to_string(id) + "_";
  if (fs::exists(dir))
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().filename().string().rfind(prefix, 0) == 0) return e.path();
  return {};
}

// How far a tensor is from the peer's: floats relative to the largest magnitude, quantized in
// steps; the message names the worst element.
struct Difference {
  bool within = true;
  double exact_fraction = 1;
  std::string message;
};

Difference compare(const TensorRef& t, const std::vector<uint8_t>& want) {
  Difference d;
  const int64_t n = t.num_elements();
  int64_t exact = 0, worst = 0;
  if (t.dtype == DType::kFloat32) {
    const float* got = t.as<const float>();
    const auto* ref = reinterpret_cast<const float*>(want.data());
    float max_mag = 0, max_diff = 0;
    for (int64_t k = 0; k < n; ++k) {
      max_mag = std::max(max_mag, std::fabs(ref[k]));
      const float diff = std::fabs(got[k] - ref[k]);
      exact += diff == 0;
      if (!(diff <= max_diff)) {  // also catches NaN
        max_diff = diff;
        worst = k;
      }
    }
    d.within = max_diff <= 1e-4f * max_mag;
    d.message = fmt::format("worst element {}: {} vs TFLite {} (largest magnitude {})", worst,
                            got[worst], ref[worst], max_mag);
  } else if (t.dtype == DType::kInt8 || t.dtype == DType::kUInt8) {
    const bool is_signed = t.dtype == DType::kInt8;
    int32_t max_diff = 0;
    for (int64_t k = 0; k < n; ++k) {
      const int32_t x = is_signed ? int32_t{static_cast<int8_t>(t.data[k])} : int32_t{t.data[k]};
      const int32_t y = is_signed ? int32_t{static_cast<int8_t>(want[k])} : int32_t{want[k]};
      exact += x == y;
      if (std::abs(x - y) > max_diff) {
        max_diff = std::abs(x - y);
        worst = k;
      }
    }
    d.within = max_diff <= 1;
    d.message = fmt::format("worst element {}: {} steps", worst, max_diff);
  } else {
    exact = std::memcmp(t.data, want.data(), want.size()) == 0 ? n : 0;
    d.within = exact == n;
    d.message = "bytes differ";
  }
  d.exact_fraction = n ? static_cast<double>(exact) / static_cast<double>(n) : 1;
  return d;
}

class ResizedModel : public ::testing::TestWithParam<ResizeRow> {};

TEST_P(ResizedModel, EveryOpKindMatchesTfliteResizedTheSameWay) {
  const ResizeRow& row = GetParam();
  QDET_REQUIRE_PATH(data_dir() / "models" / row.source);
  QDET_REQUIRE_PEERS();
  auto model = load_row_model(row);
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto graph = std::make_shared<const graph::Graph>(model->graph);
  const std::vector<int32_t> ids = tensors_to_compare(*graph);
  // Seen by the test's own check: the row really runs at another shape than the file's.
  ASSERT_NE(graph->tensors[graph->inputs[0]].shape, row.shape);

  // qdet: the model as loaded, then resized.
  auto interp = Interpreter::create(graph, {.keep_intermediates = true});
  ASSERT_TRUE(interp.ok()) << interp.status().message();
  ASSERT_TRUE((*interp)->resize_input(0, row.shape).ok());
  Status planned = (*interp)->allocate_tensors();
  ASSERT_TRUE(planned.ok()) << planned.message();
  TensorRef& in = (*interp)->input(0);
  ASSERT_EQ(in.shape, row.shape);
  const std::vector<uint8_t> input = random_input(in, row.input_range);
  std::memcpy(in.data, input.data(), input.size());
  ASSERT_TRUE((*interp)->invoke().ok());

  // The peer: the same file with the input's shape changed and these tensors as outputs.
  graph::Model peer_model = std::move(*model);
  graph::Tensor& peer_in = peer_model.graph.tensors[peer_model.graph.inputs[0]];
  peer_in.shape = row.shape;
  if (!peer_in.shape_signature.empty()) peer_in.shape_signature = row.shape;
  peer_model.graph.outputs = ids;
  peer_model.signatures.clear();  // their output lists name the original outputs
  const fs::path dir = scratch_dir();
  ASSERT_TRUE(tflite::save_tflite(dir / "resized.tflite", peer_model).ok());
  ASSERT_TRUE(write_file_atomic(dir / "input.bin", input).ok());
  std::string log;
  const int rc = run_command(peer_command("tflite_run.js") + " '" + (dir / "resized.tflite").string() +
                                 "' --input '" + (dir / "input.bin").string() +
                                 "' --warmup 0 --runs 0 --first 0 --dump-dir '" +
                                 (dir / "peer").string() + "' > '" + (dir / "peer.json").string() + "'",
                             &log);
  ASSERT_EQ(rc, 0) << log;
  auto peer_json = read_text_file(dir / "peer.json");
  ASSERT_TRUE(peer_json.ok());
  const auto peer = nlohmann::json::parse(*peer_json);
  std::map<int32_t, Shape> peer_shapes;
  for (const auto& o : peer["outputs"]) peer_shapes[o["id"].get<int32_t>()] = o["shape"].get<Shape>();

  std::set<std::string> covered;
  for (int32_t id : ids) {
    const TensorRef& t = (*interp)->tensor(id);
    const std::string what = fmt::format("{}: tensor {} '{}' ({} output, {} {})", row.name, id,
                                          graph->tensors[id].name, kind_of(*graph, id),
                                          dtype_name(t.dtype), shape_to_string(t.shape));
    ASSERT_TRUE(peer_shapes.count(id)) << what << ": not among the peer's outputs";
    // TFLite reports a scalar's shape as [] and a shape with no dims as [0]-free: compare dims.
    EXPECT_EQ(t.shape, peer_shapes[id]) << what << ": TFLite computed " << shape_to_string(peer_shapes[id]);
    const fs::path file = dumped(dir / "peer", id);
    ASSERT_FALSE(file.empty()) << what << ": no dump";
    auto want = read_file(file);
    ASSERT_TRUE(want.ok());
    ASSERT_EQ(want->size(), t.byte_size()) << what;
    const Difference diff = compare(t, *want);
    EXPECT_TRUE(diff.within) << what << ": " << diff.message;
    if (diff.exact_fraction < 1 && t.dtype != DType::kFloat32)
      std::printf("[ resize peer ] %s: %.4f%% exact\n", what.c_str(), 100 * diff.exact_fraction);
    covered.insert(kind_of(*graph, id));
  }
  for (const char* kind : row.kinds) EXPECT_TRUE(covered.count(kind)) << row.name << ": no " << kind << " compared";
  std::printf("[ resize peer ] %s at %s: %zu tensors of %zu op kinds match TFLite\n", row.name,
              shape_to_string(row.shape).c_str(), ids.size(), covered.size());
}

INSTANTIATE_TEST_SUITE_P(SharedModels, ResizedModel, ::testing::ValuesIn(kRows),
                         [](const auto& info) { return std::string(info.param.name); });

// A model whose upsample size and decoder grid table are constants sized for its stored input
// (the shipped YOLOX) cannot run at another resolution: qdet says which op and which shapes
// (the first to fail: the concatenation after the 26x26 upsample), and TFLite refuses the same
// file too.
TEST(ResizedModel, ConstantSizesStopBothRuntimesAtAnotherResolution) {
  const fs::path path = data_dir() / "models" / "yolox_nano_fp32_416.tflite";
  QDET_REQUIRE_PATH(path);
  QDET_REQUIRE_PEERS();
  auto model = tflite::load_tflite(path);
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto graph = std::make_shared<const graph::Graph>(model->graph);
  auto interp = Interpreter::create(graph);
  ASSERT_TRUE(interp.ok()) << interp.status().message();
  ASSERT_TRUE((*interp)->resize_input(0, {1, 320, 320, 3}).ok());
  const Status s = (*interp)->allocate_tensors();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(),
            "input 0 'serving_default_images:0' resized from [1,416,416,3] to [1,320,320,3]: op 169 "
            "(CONCATENATION): input 1 has shape [1,20,20,128], input 0 [1,26,26,128]: only dim 3 may "
            "differ");
  EXPECT_TRUE((*interp)->invoke().ok());  // still planned at 416

  graph::Model peer_model = std::move(*model);
  peer_model.graph.tensors[peer_model.graph.inputs[0]].shape = {1, 320, 320, 3};
  const fs::path dir = scratch_dir();
  ASSERT_TRUE(tflite::save_tflite(dir / "resized.tflite", peer_model).ok());
  std::string log;
  const int rc = run_command(peer_command("tflite_run.js") + " '" + (dir / "resized.tflite").string() +
                                 "' --warmup 0 --runs 0",
                             &log);
  EXPECT_NE(rc, 0) << "TFLite ran YOLOX's 416 decoder at 320: " << log;
}

}  // namespace
}  // namespace qdet::rt
