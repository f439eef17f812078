// Images, labels and the detection pipeline: qdet.load_image, qdet.coco_labels, qdet.Detector,
// qdet.detect, qdet.draw (image/codec.h, detect/detector.h, detect/draw_detections.h).
//
// Images cross as numpy uint8 arrays [H, W, 3] (RGB). Arrays qdet returns own their pixels
// without a copy (the decoded image is handed to numpy); an array passed in is copied once
// into qdet's image type.
#include <pybind11/numpy.h>

#include <array>
#include <memory>
#include <mutex>
#include <optional>

#include "base/paths.h"
#include "common.h"
#include "detect/detector.h"
#include "detect/draw_detections.h"
#include "detect/labels.h"
#include "image/codec.h"

namespace qdet::py {
namespace {

using Array8 = pb::array_t<uint8_t, pb::array::c_style | pb::array::forcecast>;

// Hands the image's pixel vector to numpy (no copy).
pb::array to_numpy(image::Image&& img) {
  auto* owned = new image::Image(std::move(img));
  pb::capsule owner(owned, [](void* p) { delete static_cast<image::Image*>(p); });
  return pb::array_t<uint8_t>({owned->height, owned->width, owned->channels}, owned->pixels.data(), owner);
}

// numpy [H, W, 3] uint8 (or [H, W] gray, [H, W, 4] RGBA) -> an RGB image (one copy).
image::Image from_numpy(const pb::handle& obj) {
  if (pb::isinstance<pb::str>(obj) || pb::hasattr(obj, "__fspath__")) {
    const auto path = obj.cast<std::filesystem::path>();
    require_file(path, "image");
    pb::gil_scoped_release nogil;
    return take(image::load_image(path));
  }
  pb::array raw = pb::array::ensure(obj);
  if (!raw) throw StatusError{invalid_argument("image: expected a numpy array [H, W, 3] or a path")};
  if (!raw.dtype().equal(pb::dtype::of<uint8_t>()))
    throw StatusError{invalid_argument("image: expected dtype uint8, got {}", pb::str(raw.dtype()).cast<std::string>())};
  Array8 a = Array8::ensure(raw);
  const int ndim = static_cast<int>(a.ndim());
  const int64_t h = ndim >= 2 ? a.shape(0) : 0, w = ndim >= 2 ? a.shape(1) : 0;
  const int64_t c = ndim == 3 ? a.shape(2) : 1;
  if ((ndim != 2 && ndim != 3) || (c != 1 && c != 3 && c != 4))
    throw StatusError{invalid_argument("image: expected shape [H, W, 3] (or [H, W] / [H, W, 4]), got {} dimensions",
                                       ndim)};
  check(image::check_image_dims(w, h, c, "image"));
  image::Image img(static_cast<int>(w), static_cast<int>(h), 3);
  const uint8_t* src = a.data();
  const size_t n = static_cast<size_t>(w * h);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* p = src + i * c;
    uint8_t* q = img.pixels.data() + i * 3;
    q[0] = p[0];
    q[1] = c >= 3 ? p[1] : p[0];
    q[2] = c >= 3 ? p[2] : p[0];
  }
  return img;
}

class PyDetector {
 public:
  PyDetector(const std::filesystem::path& model, std::optional<std::string> preset,
             std::optional<std::filesystem::path> sidecar, std::optional<float> score, std::optional<float> iou,
             std::optional<int> max_det, std::optional<std::string> labels, int num_threads, bool reference) {
    require_file(model, "model");
    if (sidecar) require_file(*sidecar, "sidecar");
    detect::DetectorOptions o;
    o.preset = preset.value_or("");
    o.sidecar = sidecar.value_or(std::filesystem::path());
    o.score_threshold = score;
    o.iou_threshold = iou;
    o.max_detections = max_det;
    o.labels = labels.value_or("");
    o.num_threads = num_threads;
    o.use_fast_kernels = !reference;
    model_ = model.string();
    pb::gil_scoped_release nogil;
    detector_ = take(detect::Detector::create(model, o));
  }

  pb::list detect(const pb::object& image) {
    image::Image img = from_numpy(image);
    detect::DetectResult r;
    {
      pb::gil_scoped_release nogil;
      std::lock_guard lock(mu_);
      r = take(detector_->detect(img));
    }
    last_timing_ = {r.preprocess_ms, r.inference_ms, r.postprocess_ms};
    const auto& labels = detector_->labels();
    const bool coco = detector_->preset().labels == "coco80";
    pb::list out;
    for (const detect::Detection& d : r.detections) {
      pb::dict e;
      e["class_id"] = d.class_id;
      e["name"] = detect::label_name(labels, d.class_id);
      e["score"] = d.score;
      e["box"] = pb::make_tuple(d.x0, d.y0, d.x1, d.y1);
      if (coco) e["category_id"] = detect::coco80_to_id(d.class_id);
      out.append(e);
    }
    return out;
  }

  pb::dict timing() const {
    pb::dict t;
    t["preprocess_ms"] = last_timing_[0];
    t["inference_ms"] = last_timing_[1];
    t["postprocess_ms"] = last_timing_[2];
    return t;
  }

  pb::dict info() const {
    const detect::Preset& p = detector_->preset();
    pb::dict d;
    d["model"] = model_;
    d["preset"] = p.name;
    d["preset_source"] = detector_->preset_source();
    d["input_size"] = pb::make_tuple(p.input_width, p.input_height);
    d["resize"] = image::resize_mode_name(p.resize);
    d["channel_order"] = image::channel_order_name(p.order);
    d["head"] = p.head;
    d["score_threshold"] = p.score_threshold;
    d["iou_threshold"] = p.iou_threshold;
    d["max_detections"] = p.max_detections;
    return d;
  }

  const std::vector<std::string>& labels() const { return detector_->labels(); }

 private:
  std::string model_;
  std::unique_ptr<detect::Detector> detector_;
  std::mutex mu_;
  std::array<double, 3> last_timing_{};
};

// Detections as qdet.detect returns them (dicts with class_id, score, box, optional name).
std::pair<std::vector<detect::Detection>, std::vector<std::string>> detections_from_python(
    const pb::iterable& detections) {
  std::vector<detect::Detection> dets;
  std::vector<std::string> labels;
  for (const auto& name : detect::coco80_names()) labels.emplace_back(name);
  for (const auto& item : detections) {
    if (!pb::isinstance<pb::dict>(item))
      throw StatusError{invalid_argument("draw: each detection must be a dict with class_id, score and box")};
    pb::dict e = item.cast<pb::dict>();
    if (!e.contains("box") || !e.contains("class_id"))
      throw StatusError{invalid_argument("draw: a detection lacks 'box' or 'class_id'")};
    detect::Detection d;
    d.class_id = e["class_id"].cast<int>();
    d.score = e.contains("score") ? e["score"].cast<float>() : 1.f;
    std::vector<float> box = e["box"].cast<std::vector<float>>();
    if (box.size() != 4) throw StatusError{invalid_argument("draw: a box has 4 numbers (x0, y0, x1, y1)")};
    d.x0 = box[0], d.y0 = box[1], d.x1 = box[2], d.y1 = box[3];
    if (d.class_id < 0 || d.class_id > 100000)
      throw StatusError{invalid_argument("draw: class_id {} out of range", d.class_id)};
    if (e.contains("name")) {
      if (labels.size() <= static_cast<size_t>(d.class_id)) labels.resize(d.class_id + 1);
      labels[d.class_id] = e["name"].cast<std::string>();
    }
    dets.push_back(d);
  }
  return {std::move(dets), std::move(labels)};
}

}  // namespace

void bind_pipeline(pb::module_& m) {
  m.def(
      "load_image",
      [](const std::filesystem::path& path) {
        require_file(path, "image");
        image::Image img;
        {
          pb::gil_scoped_release nogil;
          img = take(image::load_image(path));
        }
        return to_numpy(std::move(img));
      },
      pb::arg("path"),
      R"doc(Decodes a JPEG or PNG file into a numpy uint8 array [H, W, 3], RGB.

The pixels equal PIL's ``np.asarray(Image.open(path).convert("RGB"))`` (same libjpeg-turbo,
accurate IDCT). A missing file raises FileNotFoundError, a corrupt one ValueError.)doc");

  m.def(
      "save_image",
      [](const pb::object& image, const std::filesystem::path& path) {
        image::Image img = from_numpy(image);
        pb::gil_scoped_release nogil;
        check(image::save_image(img, path));
      },
      pb::arg("image"), pb::arg("path"), "Writes a numpy image as .png or .jpg (atomically).");

  m.def(
      "coco_labels",
      [](bool by_category_id) -> pb::object {
        if (!by_category_id) {
          pb::list l;
          for (const char* n : detect::coco80_names()) l.append(pb::str(n));
          return l;
        }
        pb::dict d;
        for (int i = 0; i < detect::kCocoClasses; ++i)
          d[pb::int_(detect::coco80_to_id(i))] = pb::str(detect::coco80_names()[i]);
        return d;
      },
      pb::arg("by_category_id") = false,
      R"doc(COCO's 80 detection classes.

A list indexed by the contiguous class index detectors output (0 'person' .. 79 'toothbrush');
with by_category_id=True a dict from the official category id (1..90, with gaps) to the name,
the label map of annotation and results files.)doc");

  pb::class_<PyDetector>(m, "Detector", R"doc(
A detector: a .tflite model with its preprocessing and post-processing (head, NMS), loaded once.

The preset (input size, resize, channel order, head) is recognised from the model, read from a
sidecar MODEL.qdet.json, or named with preset=. score, iou and max_det override its thresholds.
)doc")
      .def(pb::init<std::filesystem::path, std::optional<std::string>, std::optional<std::filesystem::path>,
                    std::optional<float>, std::optional<float>, std::optional<int>, std::optional<std::string>,
                    int, bool>(),
           pb::arg("model"), pb::kw_only(), pb::arg("preset") = pb::none(), pb::arg("sidecar") = pb::none(),
           pb::arg("score") = pb::none(), pb::arg("iou") = pb::none(), pb::arg("max_det") = pb::none(),
           pb::arg("labels") = pb::none(), pb::arg("num_threads") = 1, pb::arg("reference_kernels") = false)
      .def("detect", &PyDetector::detect, pb::arg("image"),
           "Detections on an image (numpy uint8 [H, W, 3] RGB, or a path): a list of dicts with class_id, "
           "name, score, box (x0, y0, x1, y1 in image pixels) and, for COCO models, category_id; best first. "
           "Releases the GIL.")
      .def_property_readonly("labels", &PyDetector::labels, "Class names, indexed by class_id.")
      .def_property_readonly("info", &PyDetector::info, "The preset in use: name, source, input size, head, thresholds.")
      .def_property_readonly("last_timing", &PyDetector::timing,
                             "preprocess_ms, inference_ms, postprocess_ms of the last detect().");

  m.def(
      "detect",
      [](const pb::object& model, const pb::object& image, const pb::kwargs& settings) {
        if (pb::isinstance<PyDetector>(model)) {
          if (settings.size() > 0)
            throw StatusError{invalid_argument("detect: settings go to the Detector when a Detector is given")};
          return model.cast<PyDetector&>().detect(image);
        }
        pb::object det = pb::module_::import("qdet._core").attr("Detector")(model, **settings);
        return det.cast<PyDetector&>().detect(image);
      },
      pb::arg("model"), pb::arg("image"),
      R"doc(detect(model, image, **settings) -> list of dicts

Runs a detector once: model is a .tflite path (settings as qdet.Detector's: preset, score, iou,
max_det, labels, num_threads) or a qdet.Detector; image a numpy uint8 [H, W, 3] or a path.
Each detection: class_id, name, score, box (x0, y0, x1, y1 in image pixels), category_id.)doc");

  m.def(
      "draw",
      [](const pb::object& image, const pb::iterable& detections) {
        image::Image img = from_numpy(image);
        auto [dets, labels] = detections_from_python(detections);
        {
          pb::gil_scoped_release nogil;
          check(detect::draw_detections(img, dets, labels));
        }
        return to_numpy(std::move(img));
      },
      pb::arg("image"), pb::arg("detections"),
      R"doc(A copy of the image with each detection's box and "name score" label drawn (qdet detect -o).

detections: dicts as qdet.detect returns them (class_id, score, box; name when present, else
COCO's name of class_id). Returns a numpy uint8 [H, W, 3].)doc");

  m.def("data_dir", [] { return data_dir(); },
        "The shared data folder ($QDET_DATA, else $QDET_SHARED/data, else the source tree's ../shared/data).");
  m.def("shared_dir", [] { return shared_dir(); }, "The shared folder ($QDET_SHARED, else the source tree's ../shared).");
}

}  // namespace qdet::py
