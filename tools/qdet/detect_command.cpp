// qdet detect MODEL IMAGE [--preset NAME] [--sidecar FILE] [--score S] [--iou T] [--max-det N]
//                         [--labels FILE] [--threads N] [--reference] [-o OUT.png] [--json]
//   Runs a detector on one image and prints each detection (class, score, box in image pixels);
//   with -o draws the boxes and labels into a PNG (or JPEG) copy of the image.
#include <fmt/format.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/file.h"
#include "command.h"
#include "base/json_text.h"
#include "detect/detector.h"
#include "detect/draw_detections.h"
#include "detect/labels.h"
#include "image/codec.h"

namespace qdet::cli {
namespace {

struct DetectArgs {
  std::string model, image, preset, sidecar, labels, output;
  std::optional<float> score, iou;
  std::optional<int> max_det;
  int threads = 1;
  bool reference = false;
  bool json = false;
  rt::InputShapeRequest input_shape;
};

Status run_detect(const DetectArgs& a) {
  detect::DetectorOptions o;
  o.preset = a.preset;
  o.sidecar = a.sidecar;
  o.score_threshold = a.score;
  o.iou_threshold = a.iou;
  o.max_detections = a.max_det;
  o.labels = a.labels;
  o.num_threads = a.threads;
  o.use_fast_kernels = !a.reference;
  if (!a.output.empty()) QDET_TRY(prepare_output_file(a.output));  // creates missing folders
  o.input_shape = a.input_shape;
  QDET_ASSIGN_OR_RETURN(image::Image img, image::load_image(a.image));
  QDET_ASSIGN_OR_RETURN(std::unique_ptr<detect::Detector> det, detect::Detector::create(a.model, o));
  QDET_ASSIGN_OR_RETURN(detect::DetectResult r, det->detect(img));
  const detect::Preset& p = det->preset();
  const auto& labels = det->labels();

  if (!a.output.empty()) {
    image::Image drawn = img;
    QDET_TRY(detect::draw_detections(drawn, r.detections, labels));
    QDET_TRY(image::save_image(drawn, a.output));
  }

  if (a.json) {
    nlohmann::json j;
    j["model"] = a.model;
    j["image"] = a.image;
    j["width"] = img.width;
    j["height"] = img.height;
    j["preset"] = p.name;
    j["preset_source"] = det->preset_source();
    j["input"] = {{"width", p.input_width},
                  {"height", p.input_height},
                  {"resize", image::resize_mode_name(p.resize)},
                  {"channel_order", image::channel_order_name(p.order)},
                  {"layout", image::layout_name(p.layout)},
                  {"dtype", dtype_name(p.input_dtype)}};
    j["head"] = p.head;
    j["score_threshold"] = p.score_threshold;
    j["iou_threshold"] = p.iou_threshold;
    j["detections"] = nlohmann::json::array();
    for (const detect::Detection& d : r.detections) {
      nlohmann::json e = {{"class_id", d.class_id},
                          {"label", detect::label_name(labels, d.class_id)},
                          {"score", d.score},
                          {"box", {d.x0, d.y0, d.x1, d.y1}}};
      if (p.labels == "coco80") e["category_id"] = detect::coco80_to_id(d.class_id);
      j["detections"].push_back(e);
    }
    j["timing_ms"] = {{"preprocess", r.preprocess_ms}, {"inference", r.inference_ms},
                      {"postprocess", r.postprocess_ms}};
    j["threads"] = a.threads;
    if (!a.output.empty()) j["output"] = a.output;
    std::printf("%s\n", json_text(j, 1).c_str());
    return ok_status();
  }

  std::printf("%s on %s (%dx%d)\n", a.model.c_str(), a.image.c_str(), img.width, img.height);
  std::printf("preset %s (%s): %dx%d %s %s %s, head %s, score > %.2f, iou %.2f\n", p.name.c_str(),
              det->preset_source().c_str(), p.input_width, p.input_height, image::resize_mode_name(p.resize),
              image::channel_order_name(p.order), dtype_name(p.input_dtype), p.head.c_str(),
              p.score_threshold, p.iou_threshold);
  std::printf("%zu detection%s (preprocess %.1f ms, inference %.1f ms, postprocess %.1f ms, %d thread%s)\n",
              r.detections.size(), r.detections.size() == 1 ? "" : "s", r.preprocess_ms, r.inference_ms,
              r.postprocess_ms, a.threads, a.threads == 1 ? "" : "s");
  for (const detect::Detection& d : r.detections)
    std::printf("  %-14s %.3f  [%7.1f, %7.1f, %7.1f, %7.1f]\n", detect::label_name(labels, d.class_id).c_str(),
                d.score, d.x0, d.y0, d.x1, d.y1);
  if (!a.output.empty()) std::printf("wrote %s\n", a.output.c_str());
  return ok_status();
}

}  // namespace

void add_detect_command(CLI::App& app) {
  auto args = std::make_shared<DetectArgs>();
  auto* sub = app.add_subcommand("detect", "Run a detector on one image: print and draw the detections");
  sub->add_option("model", args->model, "Model (.tflite)")->required();
  sub->add_option("image", args->image, "Image (JPEG or PNG)")->required();
  sub->add_option("--preset", args->preset,
                  "Built-in preset: yolox_nano, yolox_nano_raw, ssd_mobilenet_v1, yolov5n, yolov5n_uint8 "
                  "(default: MODEL.qdet.json or recognised from the model)");
  sub->add_option("--sidecar", args->sidecar, "Preset overrides (JSON); default MODEL.qdet.json when present");
  sub->add_option("--score", args->score, "Score threshold (default: the preset's)")
      ->check(unit_interval());
  sub->add_option("--iou", args->iou, "NMS IoU threshold (default: the preset's)")
      ->check(unit_interval());
  sub->add_option("--max-det", args->max_det, "Most detections kept (default: the preset's)")
      ->check(CLI::Range(0, 1000000));
  sub->add_option("--labels", args->labels, "Label file, one name per line (default: COCO's 80)");
  sub->add_option("--threads", args->threads, "Interpreter threads")->check(CLI::Range(1, 256));
  sub->add_flag("--reference", args->reference, "Reference kernels only (no XNNPACK)");
  sub->add_option("-o,--output", args->output, "Write the image with boxes and labels (.png or .jpg)");
  sub->add_flag("--json", args->json, "Print JSON instead of text");
  add_input_shape_options(sub, args->input_shape, /*with_batch=*/false);
  sub->callback([args] { exit_on_error(run_detect(*args)); });
}

}  // namespace qdet::cli
