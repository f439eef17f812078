// The detection pipeline: model + preset -> preprocess -> Interpreter -> head -> NMS -> boxes in
// original-image pixels.
//
// Which preset: --preset NAME when given; else the sidecar's "preset" key; else recognition from
// the model's tensors and ops (preset.h). The sidecar (MODEL.qdet.json beside the model, or an
// explicit path) then overrides fields, and the options' thresholds override last. The model
// itself has the final word on its input: size and layout from its input shape, type and
// quantization from its input tensor.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "detect/detection.h"
#include "detect/head.h"
#include "detect/preset.h"
#include "graph/graph.h"
#include "image/image.h"
#include "image/preprocess.h"
#include "runtime/input_shape.h"
#include "runtime/interpreter.h"

namespace qdet::detect {

struct DetectorOptions {
  std::string preset;                  // built-in preset name; empty: sidecar or recognition
  std::filesystem::path sidecar;       // empty: MODEL.qdet.json beside the model, if it exists
  std::optional<float> score_threshold;
  std::optional<float> iou_threshold;
  std::optional<int> max_detections;
  std::string labels;                  // "coco80" or a label file; empty: the preset's
  int num_threads = 1;
  bool use_fast_kernels = true;
  // Run the model at another input size or batch (Interpreter::resize_input): the letterbox
  // and the head follow the new size; a batch of N makes detect_batch() take N images per
  // invoke. Empty: the model's own shape.
  rt::InputShapeRequest input_shape;
};

struct DetectResult {
  std::vector<Detection> detections;  // original-image pixels, best score first
  image::Geometry geometry;
  double preprocess_ms = 0, inference_ms = 0, postprocess_ms = 0;
};

// The preset's tensor format corrected by the model's input tensor: size and layout from its
// shape ([1,H,W,3] or [1,3,H,W]), type from its dtype, quantization from its parameters.
Result<image::TensorFormat> model_input_format(const Preset& preset, const graph::Tensor& input);

// The head's decoding options for a model run with `preset` at `format`'s input size (what the
// Detector decodes with; for decoding another runtime's outputs of the same model alike).
HeadOptions head_options(const Preset& preset, const image::TensorFormat& format);

class Detector {
 public:
  // Reads a .tflite file and sets everything up (errors name the file).
  static Result<std::unique_ptr<Detector>> create(const std::filesystem::path& model,
                                                  const DetectorOptions& options = {});
  // From a graph already in memory and a resolved preset (no sidecar, no recognition).
  static Result<std::unique_ptr<Detector>> create(std::shared_ptr<const graph::Graph> graph,
                                                  Preset preset, const DetectorOptions& options = {});
  ~Detector();

  // Runs the whole pipeline on a decoded RGB image (the other images of a batch are zeros).
  Result<DetectResult> detect(const image::Image& img);
  // Up to batch_size() images in one invoke, a result per image in order. Each result's
  // inference_ms is its share of the invoke (the invoke's time / the images given).
  Result<std::vector<DetectResult>> detect_batch(std::span<const image::Image* const> images);
  // Images per invoke: dim 0 of the model's input as run (1 unless resized to a batch).
  int batch_size() const { return batch_; }

  const Preset& preset() const { return preset_; }
  // Where the preset came from: "--preset", "sidecar <path>", "recognised", with overrides noted.
  const std::string& preset_source() const { return preset_source_; }
  const std::vector<std::string>& labels() const { return labels_; }
  const image::TensorFormat& input_format() const { return builder_->format(); }
  rt::Interpreter& interpreter() { return *interpreter_; }

 private:
  Detector() = default;

  Preset preset_;
  std::string preset_source_;
  std::vector<std::string> labels_;
  const HeadInfo* head_ = nullptr;
  HeadOptions head_options_;
  std::optional<image::TensorBuilder> builder_;
  std::shared_ptr<const graph::Graph> graph_;
  std::unique_ptr<rt::Interpreter> interpreter_;
  std::vector<OutputView> views_;
  int batch_ = 1;
};

}  // namespace qdet::detect
