// `qdet detect` on a darknet network converted by `qdet convert` gives Debian darknet's
// detections on dog.jpg (issue 5): the converted sidecar names the darknet_yolo preset, whose
// letterbox_darknet resize reproduces darknet's own resize_image / letterbox_image.
//
// The expected boxes are darknet's, printed by a 25-line C program against Debian's
// libdarknet.so (load_network, load_image_color, letterbox_image, network_predict,
// get_network_boxes(thresh .5, hier .5), do_nms_sort(.45): the path of `darknet detector test`),
// in image pixels. When the darknet binary is installed the test also runs
// `darknet detector test` itself and checks its printed percentages.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <regex>

#include "detect/labels.h"
#include "test_support.h"

namespace qdet {
namespace {

namespace fs = std::filesystem;

struct Expected {
  int class_id;  // COCO-80 index
  double score;
  double x0, y0, x1, y1;
};

// libdarknet (Debian darknet 0.0.0+git20180914.61c9d02e), yolo-fastest-1.1-xl on dog.jpg.
const Expected kDarknetXl[] = {
    {16, 0.935501, 112.792, 162.076, 417.425, 540.937},  // dog
    {2, 0.876245, 452.331, 71.982, 661.185, 164.534},    // car
    {1, 0.856776, 110.922, 130.506, 561.971, 505.540},   // bicycle
};

TEST(DarknetDetect, YoloFastestXlOnDogGivesDarknetsDetections) {
  const fs::path dir = data_dir() / "models" / "darknet";
  const fs::path dog = data_dir() / "models" / "dog.jpg";
  QDET_REQUIRE_PATH(dir / "yolo-fastest-1.1-xl.weights");
  QDET_REQUIRE_PATH(dog);
  const fs::path model = testing::scratch_dir() / "yolo-fastest-1.1-xl.tflite";
  std::string out;
  ASSERT_EQ(testing::run_command(std::string(QDET_BINARY) + " convert '" +
                                     (dir / "yolo-fastest-1.1-xl.cfg").string() + "' --weights '" +
                                     (dir / "yolo-fastest-1.1-xl.weights").string() + "' -o '" +
                                     model.string() + "'",
                                 &out),
            0)
      << out;
  ASSERT_EQ(testing::run_command(std::string(QDET_BINARY) + " detect '" + model.string() + "' '" +
                                     dog.string() + "' --json",
                                 &out),
            0)
      << out;
  auto j = nlohmann::json::parse(out.substr(out.find('{')));
  EXPECT_EQ(j["preset"], "darknet_yolo");
  EXPECT_EQ(j["input"]["resize"], "letterbox_darknet");
  const auto& dets = j["detections"];
  ASSERT_EQ(dets.size(), std::size(kDarknetXl)) << dets.dump(1);
  for (const Expected& e : kDarknetXl) {
    bool found = false;
    for (const auto& d : dets) {
      if (d["class_id"] != e.class_id) continue;
      found = true;
      // darknet prints whole percents: one point is the bar; boxes within 2 px.
      EXPECT_NEAR(d["score"].get<double>(), e.score, 0.01) << d.dump();
      const double want[4] = {e.x0, e.y0, e.x1, e.y1};
      for (int k = 0; k < 4; ++k) EXPECT_NEAR(d["box"][k].get<double>(), want[k], 2.0) << d.dump();
    }
    EXPECT_TRUE(found) << "class " << e.class_id << " missing: " << dets.dump(1);
  }

  // The darknet program itself, when installed: its printed percentages match ours.
  if (testing::run_command("command -v darknet > /dev/null", nullptr) != 0) return;
  std::string printed;
  ASSERT_EQ(testing::run_command("cd /usr/share/darknet && darknet detector test cfg/coco.data '" +
                                     (dir / "yolo-fastest-1.1-xl.cfg").string() + "' '" +
                                     (dir / "yolo-fastest-1.1-xl.weights").string() + "' '" +
                                     dog.string() + "' -out '" +
                                     (testing::scratch_dir() / "pred").string() + "' 2>/dev/null",
                                 &printed),
            0)
      << printed;
  for (const Expected& e : kDarknetXl) {
    const std::string name = detect::coco80_names()[e.class_id];
    std::smatch m;
    ASSERT_TRUE(std::regex_search(printed, m, std::regex("\n" + name + ": ([0-9]+)%"))) << printed;
    for (const auto& d : dets) {
      if (d["class_id"] == e.class_id) {
        EXPECT_NEAR(100 * d["score"].get<double>(), std::stod(m[1]), 1.0) << name;
      }
    }
  }
}

}  // namespace
}  // namespace qdet
