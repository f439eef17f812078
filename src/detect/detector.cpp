#include "detect/detector.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "base/log.h"
#include "base/timer.h"
#include "detect/labels.h"
#include "detect/nms.h"
#include "detect/resolve_preset.h"
#include "tflite/reader.h"

namespace qdet::detect {
namespace {

double ms_since(int64_t t0) { return static_cast<double>(now_ns() - t0) / 1e6; }

}  // namespace

HeadOptions head_options(const Preset& preset, const image::TensorFormat& format) {
  HeadOptions o;
  o.input_width = format.width;
  o.input_height = format.height;
  o.score_threshold = preset.score_threshold;
  o.multi_label = preset.multi_label;
  o.class_map = preset.class_map;
  o.strides = preset.strides;
  o.anchors = preset.anchors;
  return o;
}

Result<image::TensorFormat> model_input_format(const Preset& p, const graph::Tensor& in) {
  image::TensorFormat f = p.tensor_format();
  const Shape& s = in.shape;
  if (s.size() != 4 || s[0] != 1 || (s[3] != 3 && s[1] != 3))
    return invalid_argument("model input '{}' has shape {}: not an RGB image tensor ([1,H,W,3] or [1,3,H,W])",
                            in.name, shape_to_string(s));
  const image::Layout layout = s[3] == 3 ? image::Layout::kNhwc : image::Layout::kNchw;
  const int h = layout == image::Layout::kNhwc ? s[1] : s[2];
  const int w = layout == image::Layout::kNhwc ? s[2] : s[3];
  if (w != f.width || h != f.height)
    log_warn("preset '{}' says {}x{} but the model input is {}x{}: using the model's", p.name, f.width,
             f.height, w, h);
  f.width = w;
  f.height = h;
  f.layout = layout;
  f.dtype = in.dtype;
  if (in.dtype == DType::kUInt8 || in.dtype == DType::kInt8) {
    if (!in.quant.empty()) {
      f.quant_scale = in.quant.scale[0];
      f.quant_zero_point = in.quant.zero_point.empty() ? 0 : static_cast<int32_t>(in.quant.zero_point[0]);
    }
  } else if (in.dtype != DType::kFloat32) {
    return unsupported("model input '{}' is {}: qdet feeds float32, uint8 or int8 images", in.name,
                       dtype_name(in.dtype));
  }
  return f;
}

Detector::~Detector() = default;

Result<std::unique_ptr<Detector>> Detector::create(const std::filesystem::path& model_path,
                                                   const DetectorOptions& options) {
  QDET_ASSIGN_OR_RETURN(graph::Model model, tflite::load_tflite(model_path));
  auto graph = std::make_shared<graph::Graph>(std::move(model.graph));
  const std::string name = model_path.string();

  QDET_ASSIGN_OR_RETURN(ResolvedPreset resolved, resolve_preset(model_path, *graph, options.preset, options.sidecar));
  if (resolved.preset.head.empty())
    return invalid_argument("{}: {} names no head (add \"head\" to it, or pass --preset)", name, resolved.source);
  Preset preset = std::move(resolved.preset);
  const std::string source = std::move(resolved.source);
  auto detector = create(std::move(graph), std::move(preset), options);
  if (!detector.ok()) return detector.status().with_context(name);
  (*detector)->preset_source_ = source;
  return detector;
}

Result<std::unique_ptr<Detector>> Detector::create(std::shared_ptr<const graph::Graph> graph,
                                                   Preset preset, const DetectorOptions& options) {
  std::unique_ptr<Detector> d(new Detector());
  if (options.score_threshold) preset.score_threshold = *options.score_threshold;
  if (options.iou_threshold) preset.iou_threshold = *options.iou_threshold;
  if (options.max_detections) preset.max_detections = *options.max_detections;
  if (!options.labels.empty()) preset.labels = options.labels;
  d->preset_source_ = "given";

  if (graph->inputs.size() != 1)
    return invalid_argument("detectors take one image input; the model has {}", graph->inputs.size());
  const graph::Tensor& in = graph->tensors[graph->inputs[0]];
  // The shape the model runs at; the tensor format describes one image of it.
  QDET_ASSIGN_OR_RETURN(const Shape run_shape, rt::resolve_input_shape(options.input_shape, in.shape));
  graph::Tensor one_image;
  one_image.name = in.name;
  one_image.dtype = in.dtype;
  one_image.quant = in.quant;
  one_image.shape = run_shape;
  if (run_shape.size() == 4) one_image.shape[0] = 1;
  if (!options.input_shape.empty() && one_image.shape.size() == 4) {
    // Asked for: the preset's size follows the input (no warning that they differ).
    const bool nhwc = one_image.shape[3] == 3;
    preset.input_height = one_image.shape[nhwc ? 1 : 2];
    preset.input_width = one_image.shape[nhwc ? 2 : 3];
  }
  QDET_ASSIGN_OR_RETURN(image::TensorFormat format, model_input_format(preset, one_image));
  d->batch_ = run_shape[0];
  preset.input_width = format.width;
  preset.input_height = format.height;
  preset.layout = format.layout;
  preset.input_dtype = format.dtype;
  QDET_ASSIGN_OR_RETURN(image::TensorBuilder builder, image::TensorBuilder::create(format));
  d->builder_ = std::move(builder);

  QDET_ASSIGN_OR_RETURN(d->head_, find_head(preset.head));
  if (d->head_->num_outputs > 0 && static_cast<int>(graph->outputs.size()) != d->head_->num_outputs)
    return invalid_argument("head '{}' expects {} output tensors; the model has {}", preset.head,
                            d->head_->num_outputs, graph->outputs.size());
  d->head_options_ = head_options(preset, format);

  QDET_ASSIGN_OR_RETURN(d->labels_, resolve_labels(preset.labels));

  rt::InterpreterOptions io;
  io.num_threads = options.num_threads;
  io.use_fast_kernels = options.use_fast_kernels;
  QDET_ASSIGN_OR_RETURN(d->interpreter_, rt::Interpreter::create(graph, io));
  if (run_shape != in.shape) {
    QDET_TRY(d->interpreter_->resize_input(0, run_shape));
    QDET_TRY(d->interpreter_->allocate_tensors());
  }
  const rt::TensorRef& input = d->interpreter_->input(0);
  if (input.byte_size() != format.byte_size() * static_cast<size_t>(d->batch_))
    return internal_error("input tensor holds {} bytes, {} image tensors need {}", input.byte_size(),
                          d->batch_, format.byte_size() * static_cast<size_t>(d->batch_));
  if (d->batch_ > 1) {
    for (size_t i = 0; i < d->interpreter_->num_outputs(); ++i) {
      const rt::TensorRef& o = d->interpreter_->output(i);
      if (o.shape.empty() || o.shape[0] != d->batch_)
        return unsupported("a batch of {}: output {} '{}' has shape {}, whose dim 0 is not the "
                           "batch, so it cannot be split per image",
                           d->batch_, i, graph->tensors[o.id].name, shape_to_string(o.shape));
    }
  }
  d->graph_ = std::move(graph);
  d->preset_ = std::move(preset);
  return d;
}

Result<DetectResult> Detector::detect(const image::Image& img) {
  const image::Image* one[] = {&img};
  QDET_ASSIGN_OR_RETURN(std::vector<DetectResult> r, detect_batch(one));
  return std::move(r[0]);
}

Result<std::vector<DetectResult>> Detector::detect_batch(std::span<const image::Image* const> images) {
  if (images.empty() || images.size() > static_cast<size_t>(batch_))
    return invalid_argument("detect_batch: {} images for a batch of {}", images.size(), batch_);
  std::vector<DetectResult> results(images.size());
  rt::TensorRef& input = interpreter_->input(0);
  const size_t image_bytes = input.byte_size() / static_cast<size_t>(batch_);
  for (size_t k = 0; k < images.size(); ++k) {
    const int64_t t0 = now_ns();
    QDET_ASSIGN_OR_RETURN(results[k].geometry,
                          builder_->build(*images[k], std::span<uint8_t>(input.data + k * image_bytes, image_bytes)));
    results[k].preprocess_ms = ms_since(t0);
  }
  // Slots of a partial batch hold zeros, not an earlier call's images.
  if (images.size() < static_cast<size_t>(batch_))
    std::memset(input.data + images.size() * image_bytes, 0, (batch_ - images.size()) * image_bytes);

  int64_t t0 = now_ns();
  QDET_TRY(interpreter_->invoke());
  const double invoke_ms = ms_since(t0);

  for (size_t k = 0; k < images.size(); ++k) {
    DetectResult& r = results[k];
    r.inference_ms = invoke_ms / static_cast<double>(images.size());
    t0 = now_ns();
    views_.resize(interpreter_->num_outputs());
    for (size_t i = 0; i < views_.size(); ++i) {
      const rt::TensorRef& o = interpreter_->output(i);
      OutputView& v = views_[i];
      const size_t bytes = o.byte_size() / static_cast<size_t>(batch_);
      v.data = std::span<const uint8_t>(o.data + k * bytes, bytes);
      v.shape = o.shape;
      if (batch_ > 1) v.shape[0] = 1;  // create() checked that dim 0 is the batch
      v.dtype = o.dtype;
      v.scale = o.scale();
      v.zero_point = o.zero_point();
      v.name = graph_->tensors[o.id].name;
    }
    QDET_ASSIGN_OR_RETURN(std::vector<Detection> candidates, head_->decode(views_, head_options_));
    if (head_->needs_nms) {
      NmsOptions no;
      no.iou_threshold = preset_.iou_threshold;
      no.max_detections = preset_.max_detections;
      candidates = nms(std::move(candidates), no);
    } else {
      std::stable_sort(candidates.begin(), candidates.end(),
                       [](const Detection& a, const Detection& b) { return a.score > b.score; });
      if (preset_.max_detections > 0 && candidates.size() > static_cast<size_t>(preset_.max_detections))
        candidates.resize(preset_.max_detections);
    }
    r.detections = map_to_source(std::move(candidates), r.geometry, preset_.clip_boxes);
    r.postprocess_ms = ms_since(t0);
  }
  return results;
}

}  // namespace qdet::detect
