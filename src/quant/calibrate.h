// Calibration: run the float model on representative images with the model's own
// preprocessing, collect a histogram of every float activation, turn them into ranges
// (docs/ARCHITECTURE.md, "Quantizer"). Also the per-tensor error report, which runs the float and the quantized
// model side by side on the same images.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "detect/preset.h"
#include "graph/graph.h"
#include "image/preprocess.h"
#include "quant/calib_table.h"
#include "quant/observers.h"
#include "runtime/interpreter.h"

namespace qdet::quant {

// The preset of a model, by detect::resolve_preset's one rule: --preset NAME (or the recognised
// family) with the sidecar MODEL.qdet.json beside the model applied on top.
Result<detect::Preset> resolve_preset(const std::filesystem::path& model_path,
                                      const graph::Graph& graph, const std::string& preset_name);

// The input tensor format for `graph`: the preset's preprocessing with the model's own input
// type and quantization (a uint8 input kept by the float mode stays uint8).
Result<image::TensorFormat> input_format(const detect::Preset& preset, const graph::Graph& graph);

// The images (.jpg .jpeg .png, sorted by name) in `dir`, the first `count` of them (all when
// count <= 0). Error when the folder is missing or unreadable or holds no image.
Result<std::vector<std::filesystem::path>> list_images(const std::filesystem::path& dir, int count);

// Histograms of every float32 activation (non-constant tensor, graph inputs included) of a
// float model over the samples added.
class StatisticsCollector {
 public:
  static Result<std::unique_ptr<StatisticsCollector>> create(const graph::Model& float_model,
                                                             int num_threads = 1);
  // One input tensor's bytes (single-input models).
  Status add_sample(std::span<const uint8_t> input);
  // Decodes, preprocesses and adds each image; `progress` (may be null) is called after each.
  Status add_images(const std::vector<std::filesystem::path>& images,
                    const image::TensorFormat& format,
                    void (*progress)(size_t done, size_t total) = nullptr);

  int samples() const { return samples_; }
  const std::map<std::string, Histogram>& histograms() const { return histograms_; }
  // Per-channel (last dimension) extremes of the tensors that per-channel ops read: the data
  // input of DEPTHWISE_CONV_2D, where no later op mixes the channels before the per-channel
  // weights scale them up again.
  const std::map<std::string, std::vector<Range>>& channel_ranges() const { return channel_ranges_; }
  // Per-channel (last dimension) means of the data input of every CONV_2D, DEPTHWISE_CONV_2D
  // and FULLY_CONNECTED over the samples added, for bias correction (modes.h ChannelMeans).
  ChannelMeans channel_means() const;
  // Ranges of every tensor under the observer; `model` and method are recorded in the table.
  CalibrationTable table(const ObserverOptions& observer, const std::string& model) const;

 private:
  StatisticsCollector() = default;
  std::shared_ptr<const graph::Graph> graph_;
  std::unique_ptr<rt::Interpreter> interp_;
  std::vector<std::pair<int32_t, std::string>> observed_;  // tensor id, key
  std::map<std::string, Transfer> transfers_;                // readers' transfer per key
  std::map<std::string, Histogram> histograms_;
  std::vector<std::pair<int32_t, std::string>> per_channel_;  // tensor id, key
  std::map<std::string, std::vector<Range>> channel_ranges_;
  std::vector<std::pair<int32_t, std::string>> mean_inputs_;  // tensor id, key
  std::map<std::string, std::pair<std::vector<double>, int64_t>> channel_sums_;  // sums, rows
  int samples_ = 0;
};

// How unevenly a tensor's channels use its range: the tensor's range (max - min over all
// channels) over the range of its 10th-percentile channel, ignoring channels that are constant.
// 1 = balanced; YOLOX-Nano's stem output (channels up to 93, a tenth of them within 0.3) ~300.
// 0 when no channel varies.
double channel_spread(const std::vector<Range>& channels);

// What each float tensor's readers do with it (observers.h Transfer): kSigmoid when every reader
// is a LOGISTIC, kSilu when the readers are exactly LOGISTIC(x) and MUL(x, LOGISTIC(x)).
std::map<std::string, Transfer> reader_transfers(const graph::Graph& graph);

// --- the per-tensor error report -------------------------------------------------------------

// The real values of a runtime tensor: float32 as is, int8/uint8/int16 with per-tensor
// parameters dequantized. False (and `out` sized but unset) for other tensors.
bool real_values(const rt::TensorRef& t, std::vector<float>* out);

struct TensorError {
  std::string name;    // the float model's tensor key
  std::string dtype;   // its type in the quantized model
  int64_t elements = 0;
  double sqnr_db = 0;  // 10 log10(sum f^2 / sum (f - q)^2); +inf when equal
  double cosine = 1;   // cosine similarity of f and q
  double max_abs_error = 0;
  bool is_output = false;
};

// Runs both models on each input and compares every float32 activation of the float model with
// its counterpart (tensor_map[id], dequantized when integer) in the quantized one. Sorted worst
// first (lowest SQNR).
Result<std::vector<TensorError>> compare_models(const graph::Model& float_model,
                                                const graph::Model& quantized_model,
                                                const std::vector<int32_t>& tensor_map,
                                                const std::vector<std::filesystem::path>& images,
                                                const image::TensorFormat& float_format,
                                                const image::TensorFormat& quantized_format,
                                                int num_threads = 1);

std::string error_report_json(const std::vector<TensorError>& errors, const std::string& model,
                              const std::string& mode, int images);

}  // namespace qdet::quant
