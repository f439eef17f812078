// One preset rule for every command (detect::resolve_preset): --preset (or recognition) is the
// base and the sidecar beside the model applies on top. `qdet eval` and calibration used to drop
// the sidecar when --preset was given, while `qdet detect` applied it.
#include <gtest/gtest.h>

#include <filesystem>

#include "base/file.h"
#include "base/paths.h"
#include "coco/model_eval.h"
#include "detect/resolve_preset.h"
#include "quant/calibrate.h"
#include "test_support.h"
#include "tflite/reader.h"

namespace qdet {
namespace {

namespace fs = std::filesystem;

struct Fixture {
  fs::path model;
};

// YOLOX-Nano copied into a scratch folder with a sidecar that changes an eval setting and the
// input scale, so the test can see which layers of settings reached each command.
Fixture model_with_sidecar() {
  Fixture f;
  const fs::path dir = testing::scratch_dir();
  f.model = dir / "m.tflite";
  fs::copy_file(data_dir() / "models" / "yolox_nano_fp32_416.tflite", f.model);
  EXPECT_TRUE(write_file_atomic(dir / "m.qdet.json",
                                std::string_view(R"({"eval": {"score_threshold": 0.25}, "max_detections": 7})"))
                  .ok());
  return f;
}

TEST(PresetResolution, SidecarAppliesOnTopOfPresetAndRecognition) {
  QDET_REQUIRE_PATH(data_dir() / "models" / "yolox_nano_fp32_416.tflite");
  Fixture f = model_with_sidecar();
  auto model = tflite::load_tflite(f.model);
  ASSERT_TRUE(model.ok()) << model.status().message();
  for (const std::string name : {"", "yolox_nano"}) {
    auto r = detect::resolve_preset(f.model, model->graph, name);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->preset.max_detections, 7) << "preset '" << name << "'";
    EXPECT_FLOAT_EQ(r->preset.eval.score_threshold, 0.25f) << "preset '" << name << "'";
    EXPECT_NE(r->source.find("sidecar"), std::string::npos) << r->source;
    EXPECT_EQ(r->source.rfind(name.empty() ? "recognised" : "--preset", 0), 0u) << r->source;
    // Calibration reads the same rule.
    auto q = quant::resolve_preset(f.model, model->graph, name);
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(q->max_detections, 7);
  }
  // An unknown --preset stays an error even with a sidecar.
  EXPECT_FALSE(detect::resolve_preset(f.model, model->graph, "no_such_preset").ok());
}

TEST(PresetResolution, EvalWithPresetKeepsTheSidecar) {
  const fs::path coco = data_dir() / "coco" / "val2017-139";
  QDET_REQUIRE_PATH(coco / "instances_val2017_subset.json");
  QDET_REQUIRE_PATH(data_dir() / "models" / "yolox_nano_fp32_416.tflite");
  Fixture f = model_with_sidecar();
  coco::ModelEvalOptions o;
  o.model = f.model;
  o.images = coco / "images";
  o.annotations = coco / "instances_val2017_subset.json";
  o.limit = 1;
  o.detector.preset = "yolox_nano";
  auto r = coco::evaluate_model(o, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FLOAT_EQ(r->settings.score_threshold, 0.25f);
  EXPECT_NE(r->preset.find("--preset + sidecar"), std::string::npos) << r->preset;
}

}  // namespace
}  // namespace qdet
