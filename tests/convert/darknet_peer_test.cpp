// Yolo-Fastest converted by qdet against Debian's darknet on dog.jpg: `darknet detector test`
// prints dog 94%, car 88%, bicycle 86% for yolo-fastest-1.1-xl; `darknet detector valid` gives
// every detection's box and score (COCO results JSON), which qdet's conversion, interpreter,
// preprocessing (letterbox, RGB 0..1) and yolo head must reproduce.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "convert/convert.h"
#include "convert/darknet/importer.h"
#include "convert_test_util.h"
#include "detect/head.h"
#include "detect/labels.h"
#include "detect/nms.h"
#include "detect/preset.h"
#include "image/codec.h"
#include "image/preprocess.h"

namespace qdet::convert::testing {
namespace {

struct Found {
  int class_id;
  float score;
  float x, y, w, h;  // image pixels
};

// qdet's pipeline as `qdet detect` runs it from the sidecar, with darknet's thresholds.
std::vector<Found> qdet_detections(const darknet::Imported& m, const std::filesystem::path& image_path, float thresh) {
  auto preset = detect::apply_sidecar(detect::Preset{}, m.sidecar_json, "sidecar");
  EXPECT_TRUE(preset.ok()) << preset.status().message();
  auto img = image::load_image(image_path);
  EXPECT_TRUE(img.ok()) << img.status().message();
  if (!preset.ok() || !img.ok()) return {};
  image::TensorFormat f = preset->tensor_format();
  image::Geometry geo;
  auto tensor = image::build_tensor(*img, f, &geo);
  EXPECT_TRUE(tensor.ok()) << tensor.status().message();
  std::vector<float> x(tensor->size() / 4);
  std::memcpy(x.data(), tensor->data(), tensor->size());
  const auto outs = run_qdet(m.model, {x});
  std::vector<detect::OutputView> views;
  for (size_t i = 0; i < outs.size(); ++i) {
    detect::OutputView v;
    v.data = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(outs[i].data()), outs[i].size() * 4);
    v.shape = m.model.graph.tensors[m.model.graph.outputs[i]].shape;
    v.name = m.model.graph.tensors[m.model.graph.outputs[i]].name;
    views.push_back(v);
  }
  detect::HeadOptions ho;
  ho.input_width = preset->input_width;
  ho.input_height = preset->input_height;
  ho.score_threshold = thresh;
  ho.multi_label = preset->multi_label;
  ho.anchors = preset->anchors;
  auto cands = detect::find_head("yolo").value()->decode(views, ho);
  EXPECT_TRUE(cands.ok()) << cands.status().message();
  detect::NmsOptions no;
  no.iou_threshold = preset->iou_threshold;
  no.max_detections = 0;
  auto kept = detect::map_to_source(detect::nms(*cands, no), geo);
  std::vector<Found> found;
  for (const auto& d : kept) found.push_back({d.class_id, d.score, d.x0, d.y0, d.x1 - d.x0, d.y1 - d.y0});
  return found;
}

struct Tolerance {
  double score, px;
};

// Runs `darknet detector valid` on `image` and checks that every darknet detection scoring
// >= 0.25 has a qdet detection of the same class within the tolerances.
void compare_with_darknet(const std::filesystem::path& image, Tolerance tol) {
  const auto dir = data_dir() / "models" / "darknet";
  QDET_REQUIRE_PATH(dir / "yolo-fastest-1.1-xl.weights");
  QDET_REQUIRE_PATH(image);
  if (::qdet::testing::run_command("command -v darknet", nullptr) != 0) {
    if (::qdet::testing::data_required()) FAIL() << "darknet is not installed (scripts/setup.sh installs it)";
    GTEST_SKIP() << "darknet is not installed (apt-get install darknet)";
  }
  auto m = darknet::import_files(dir / "yolo-fastest-1.1-xl.cfg", dir / "yolo-fastest-1.1-xl.weights");
  ASSERT_TRUE(m.ok()) << m.status().message();

  const auto scratch = std::filesystem::path(image).parent_path() / "darknet";
  std::filesystem::create_directories(scratch);
  // darknet's valid loads 4 images at once and needs at least 4; ids come from the name after
  // the last '_'.
  std::string list;
  for (int i = 1; i <= 4; ++i) {
    const auto copy = scratch / fmt::format("img_{}{}", i, image.extension().string());
    std::filesystem::copy_file(image, copy, std::filesystem::copy_options::overwrite_existing);
    list += copy.string() + "\n";
  }
  ASSERT_TRUE(write_file_atomic(scratch / "list.txt", list).ok());
  ASSERT_TRUE(write_file_atomic(scratch / "dog.data", fmt::format("classes=80\nvalid={}\nnames=/usr/share/darknet/data/coco.names\n"
                                                                  "eval=coco\nresults={}\n",
                                                                  (scratch / "list.txt").string(), scratch.string()))
                  .ok());
  std::string out;
  const std::string cmd = fmt::format("cd '{}' && darknet detector valid '{}' '{}' '{}'", scratch.string(),
                                      (scratch / "dog.data").string(), (dir / "yolo-fastest-1.1-xl.cfg").string(),
                                      (dir / "yolo-fastest-1.1-xl.weights").string());
  ASSERT_EQ(::qdet::testing::run_command(cmd, &out), 0) << out;
  auto text = read_text_file(scratch / "coco_results.json");
  ASSERT_TRUE(text.ok()) << out;
  // darknet leaves a trailing comma before the closing bracket.
  std::string t = *text;
  if (auto close = t.rfind(']'); close != std::string::npos) {
    auto comma = t.find_last_not_of(" \n\r\t", close - 1);
    if (comma != std::string::npos && t[comma] == ',') t.erase(comma, 1);
  }
  auto dk = nlohmann::json::parse(t, nullptr, false);
  ASSERT_FALSE(dk.is_discarded()) << *text;

  const auto ours = qdet_detections(*m, image, 0.005f);
  int compared = 0;
  double worst_score = 0, worst_px = 0;
  for (const auto& d : dk) {
    if (d["image_id"].get<int>() != 1) continue;
    const float score = d["score"].get<float>();
    if (score < 0.25f) continue;  // the detections that matter; low ones sit on NMS edges
    const int cls = detect::coco_id_to_80(d["category_id"].get<int>());
    const auto b = d["bbox"];
    const Found* best = nullptr;
    double best_px = 1e9;
    for (const auto& f : ours) {
      if (f.class_id != cls) continue;
      const double px = std::max({std::fabs(f.x - b[0].get<double>()), std::fabs(f.y - b[1].get<double>()),
                                  std::fabs(f.w - b[2].get<double>()), std::fabs(f.h - b[3].get<double>())});
      if (px < best_px) best_px = px, best = &f;
    }
    ASSERT_NE(best, nullptr) << "darknet's " << detect::coco80_names()[cls] << " " << score << " has no match";
    std::printf("[ measure ] %s %s: darknet %.4f at [%.1f %.1f %.1f %.1f], qdet %.4f (box off by %.2f px)\n",
                image.filename().c_str(), detect::coco80_names()[cls], score, b[0].get<double>(), b[1].get<double>(),
                b[2].get<double>(), b[3].get<double>(), best->score, best_px);
    EXPECT_NEAR(best->score, score, tol.score) << detect::coco80_names()[cls];
    EXPECT_LE(best_px, tol.px) << detect::coco80_names()[cls];
    worst_score = std::max(worst_score, std::fabs(static_cast<double>(best->score) - score));
    worst_px = std::max(worst_px, best_px);
    ++compared;
  }
  std::printf("[ measure ] %s: %d darknet detections >= 0.25 compared: max score diff %.4f, max box diff %.2f px\n",
              image.filename().c_str(), compared, worst_score, worst_px);
  EXPECT_GE(compared, 3);  // dog, car (or truck), bicycle at least
}

// The same pixels for both: dog.jpg letterboxed to the network's 320x320 by qdet and saved as
// PNG, so neither side resizes or decodes lossily. What is left is the conversion, the
// interpreter and the head: they must agree closely.
TEST(DarknetPeer, YoloFastestXlMatchesDarknetOnTheSamePixels) {
  const auto dog = data_dir() / "models" / "dog.jpg";
  QDET_REQUIRE_PATH(dog);
  auto img = image::load_image(dog);
  ASSERT_TRUE(img.ok()) << img.status().message();
  auto fitted = image::fit_image(*img, 320, 320, image::ResizeMode::kLetterboxCenter, 127);
  ASSERT_TRUE(fitted.ok()) << fitted.status().message();
  const auto png = ::qdet::testing::scratch_dir() / "dog320.png";
  ASSERT_TRUE(image::save_image(*fitted, png).ok());
  compare_with_darknet(png, {0.005, 0.5});
}

// dog.jpg as `qdet detect` sees it: qdet's JPEG decoder (libjpeg-turbo) and OpenCV-exact
// letterbox resize against darknet's own (stb_image, its corner-aligned bilinear resize). The
// model side is exact (the test above); these tolerances measure the preprocessing gap, which
// is up to 7 points on the bicycle and 4 px: a darknet-style resize mode in src/image would
// close it (the bar is one point and 2 px).
TEST(DarknetPeer, YoloFastestXlOnDogJpegWithQdetPreprocessing) {
  const auto dog = data_dir() / "models" / "dog.jpg";
  QDET_REQUIRE_PATH(dog);
  const auto copy = ::qdet::testing::scratch_dir() / "dog.jpg";
  std::filesystem::copy_file(dog, copy);
  compare_with_darknet(copy, {0.08, 4.0});
}

}  // namespace
}  // namespace qdet::convert::testing
