// The report page on synthetic records: charts, Pareto front, base64, and a headless-Chromium
// render with no console errors.
#include <gtest/gtest.h>

#include <fstream>

#include "image/codec.h"
#include "report/html.h"
#include "report/svg_charts.h"
#include "study/chromium.h"
#include "test_support.h"

namespace qdet::report {
namespace {

namespace fs = std::filesystem;

Record make(const std::string& variant, double ap, double ms, double mb, double mj) {
  Record r;
  r.variant = variant;
  r.runtime = "qdet";
  r.precision = variant;
  r.file_bytes = static_cast<int64_t>(mb * 1e6);
  r.coco_stats.assign(12, 0.0);
  r.coco_stats[0] = ap;
  r.coco_stats[1] = ap + 0.15;
  bench::LatencyStats l;
  l.median_ms = ms;
  r.latency = l;
  bench::EnergyResult e;
  e.method = "estimate";
  e.per_inference_j = mj * 1e-3;
  e.source = "estimate: test";
  r.energy = e;
  r.per_class_ap = {{"person", ap + 0.1}, {"dog", ap - 0.05}, {"cat", -1}};
  return r;
}

std::vector<Record> records() {
  auto failed = make("int16x8", 0, 0, 0, 0);
  failed.coco_stats.clear();
  failed.latency.reset();
  failed.energy.reset();
  failed.error = "make: int16x8 kernels missing for <CONV_2D>";
  return {make("fp32", 0.30, 13.5, 3.9, 5.0), make("fp16", 0.30, 25.0, 2.0, 4.0),
          make("int8", 0.27, 9.0, 1.2, 1.0), failed};
}

TEST(ParetoFront, KeepsPointsNoOtherBeats) {
  std::vector<ChartPoint> p = {{13.5, 30}, {25, 30}, {9, 27}, {20, 31}, {9, 26}};
  EXPECT_EQ(pareto_front(p), (std::vector<size_t>{2, 0, 3}));
  EXPECT_TRUE(pareto_front({}).empty());
}

TEST(NiceTicks, OneTwoFiveSteps) {
  EXPECT_EQ(nice_ticks(0, 27), (std::vector<double>{0, 10, 20, 30}));
  EXPECT_EQ(nice_ticks(0, 24), (std::vector<double>{0, 5, 10, 15, 20, 25}));
  const auto t = nice_ticks(0, 1);
  ASSERT_EQ(t.size(), 6u);
  for (size_t i = 0; i < t.size(); ++i) EXPECT_NEAR(t[i], 0.2 * static_cast<double>(i), 1e-12);
  EXPECT_EQ(nice_ticks(12, 31.5), (std::vector<double>{10, 15, 20, 25, 30, 35}));
}

TEST(Base64, Rfc4648Vectors) {
  auto b = [](std::string s) { return base64_encode({reinterpret_cast<const uint8_t*>(s.data()), s.size()}); };
  EXPECT_EQ(b(""), "");
  EXPECT_EQ(b("f"), "Zg==");
  EXPECT_EQ(b("fo"), "Zm8=");
  EXPECT_EQ(b("foo"), "Zm9v");
  EXPECT_EQ(b("foobar"), "Zm9vYmFy");
}

TEST(HtmlReport, SelfContainedWithEveryChart) {
  HtmlReport rep{"qdet study: <model>", {"fact one"}, records(), {}};
  const std::string html = to_html(rep);
  for (const char* id : {"chart-ap-latency", "chart-size", "chart-energy", "chart-delta-ap"})
    EXPECT_NE(html.find(std::string("id=\"") + id + "\""), std::string::npos) << id;
  EXPECT_NE(html.find("qdet study: &lt;model&gt;"), std::string::npos);
  EXPECT_NE(html.find("failed: make: int16x8 kernels missing for &lt;CONV_2D&gt;"), std::string::npos);
  EXPECT_NE(html.find("class=\"pareto\""), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);  // no external resource
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("src=\"/"), std::string::npos);
  // ΔAP cells: fp16 and int8 rows, person and dog (cat has no ground truth).
  EXPECT_NE(html.find("int8 / person: ΔAP -3.0 (fp32 40.0)"), std::string::npos);
  EXPECT_NE(html.find("fp16 / dog: ΔAP +0.0"), std::string::npos);
  EXPECT_EQ(html.find("/ cat:"), std::string::npos);
}

TEST(HtmlReport, RendersInHeadlessChromium) {
  QDET_REQUIRE_CHROMIUM(chromium);
  const fs::path dir = qdet::testing::scratch_dir();
  image::Image img;
  img.width = 8;
  img.height = 6;
  img.channels = 3;
  img.pixels.assign(8 * 6 * 3, 200);
  auto png = image::encode_png(img);
  ASSERT_TRUE(png.ok());
  HtmlReport rep{"qdet study: synthetic", {"fact"}, records(),
                 {PictureRow{"img.jpg", {Picture{"fp32", *png, "1 detection"}, Picture{"int8", *png, "0 detections"}}}}};
  std::ofstream(dir / "index.html") << to_html(rep);
  auto r = study::testing::render(chromium, dir / "index.html", dir);
  ASSERT_EQ(r.status, 0) << r.log;
  EXPECT_NE(r.dom.find("data-rendered=\"4\""), std::string::npos) << r.dom.substr(0, 2000);
  EXPECT_NE(r.dom.find("data-charts=\"4\""), std::string::npos);
  EXPECT_NE(r.dom.find("<circle"), std::string::npos);
  EXPECT_FALSE(study::testing::has_console_errors(r.log)) << r.log;
}

}  // namespace
}  // namespace qdet::report
