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

// Five variants close together plus three peers: one near the fp32 dot, one within reach, one
// far beyond (drawn as an arrow at the edge).
std::vector<Record> crowded() {
  std::vector<Record> r = {make("fp32", 0.300, 13.5, 3.9, 5.0), make("fp16", 0.300, 13.7, 2.0, 4.0),
                           make("dynamic", 0.299, 14.0, 1.2, 3.0), make("int8", 0.295, 9.0, 1.2, 1.0),
                           make("int16x8", 0.296, 9.3, 1.3, 1.5)};
  for (auto [name, ms] : {std::pair{"ort-yolox_nano_416", 13.4}, std::pair{"wasm-fp32", 30.0},
                          std::pair{"wasm-int8", 300.0}}) {
    Record p = make(name, 0, ms, 3.9, 0);
    p.runtime = "peer";
    p.peer = true;
    p.coco_stats.clear();
    p.per_class_ap.clear();
    p.energy.reset();
    r.push_back(p);
  }
  return r;
}

TEST(PlaceLabels, ClusteredLabelsDoNotOverlapOrCoverDots) {
  // Six dots within a few pixels of each other, labels of different lengths.
  const std::vector<ChartPoint> dots = {{300, 100}, {303, 101}, {306, 99}, {301, 104}, {310, 102}, {200, 300}};
  const std::vector<std::string> texts = {"fp32", "fp16", "dynamic", "int8", "int16x8", "alone"};
  const std::vector<LabelBox> wall = {{290, 60, 14, 30}};  // an obstacle above the cluster
  const auto boxes = place_labels(dots, texts, 60, 20, 600, 308, 12, 7, wall);
  ASSERT_EQ(boxes.size(), dots.size());
  for (size_t i = 0; i < boxes.size(); ++i) {
    EXPECT_NEAR(boxes[i].w, text_width(texts[i], 12), 1e-9);
    EXPECT_GE(boxes[i].x, 60);
    EXPECT_LE(boxes[i].x + boxes[i].w, 600);
    EXPECT_GE(boxes[i].y, 20);
    EXPECT_LE(boxes[i].y + boxes[i].h, 308);
    EXPECT_FALSE(boxes[i].overlaps(wall[0])) << texts[i];
    for (size_t j = 0; j < boxes.size(); ++j) {
      if (j == i) continue;
      EXPECT_FALSE(boxes[i].overlaps(boxes[j])) << texts[i] << " / " << texts[j];
      const LabelBox dot{dots[j].x - 7, dots[j].y - 7, 14, 14};
      EXPECT_FALSE(boxes[i].overlaps(dot)) << texts[i] << " covers the dot of " << texts[j];
    }
  }
  // A label with room keeps the preferred place: right of its dot, just above it.
  EXPECT_DOUBLE_EQ(boxes[5].x, 200 + 7 + 2);
  EXPECT_DOUBLE_EQ(boxes[5].y + boxes[5].h, 300 - 2);
  // Near the right edge the label goes to the left of its dot.
  const auto edge = place_labels({{590, 200}}, {"int16x8"}, 60, 20, 600, 308);
  EXPECT_LE(edge[0].x + edge[0].w, 590 - 7);
}

TEST(HtmlReport, PeersAreLinesOrArrowsAndLatencyOnly) {
  const std::string svg = ap_latency_chart(crowded());
  // Two peers within reach (13.4 and 30 ms against 14 ms: under 2.5x) are dotted lines, the
  // 300 ms one an arrow at the edge; none is a dot.
  EXPECT_EQ(svg.find("<title>ort-yolox_nano_416 (peer): AP"), std::string::npos);
  size_t lines = 0;
  for (size_t at = svg.find("class=\"peerline\""); at != std::string::npos; at = svg.find("class=\"peerline\"", at + 1))
    ++lines;
  EXPECT_EQ(lines, 2u);
  EXPECT_NE(svg.find("→ wasm-int8 300.0 ms"), std::string::npos);
  EXPECT_NE(svg.find("wasm-fp32 30.0 ms"), std::string::npos);
  EXPECT_NE(svg.find("latency only (no AP measured)"), std::string::npos);
  EXPECT_EQ(svg.find("<title>wasm-fp32 (peer): AP"), std::string::npos);
  // The axis reaches 30 ms (the peer within reach) but not 300.
  EXPECT_NE(svg.find(">30</text>"), std::string::npos);
  EXPECT_EQ(svg.find(">300</text>"), std::string::npos);

  HtmlReport rep{"peers", {}, crowded(), {}};
  const std::string html = to_html(rep);
  EXPECT_NE(html.find("peer · latency only"), std::string::npos);
  // Peers have no size or energy bars of their own.
  const size_t size_chart = html.find("id=\"chart-size\"");
  ASSERT_NE(size_chart, std::string::npos);
  const std::string size_svg = html.substr(size_chart, html.find("</svg>", size_chart) - size_chart);
  EXPECT_EQ(size_svg.find("wasm-fp32"), std::string::npos);
  EXPECT_NE(size_svg.find("int16x8"), std::string::npos);
}

TEST(HtmlReport, LatencyAxisGoesLogOverADecade) {
  auto r = records();  // 9 to 25 ms: linear
  EXPECT_EQ(ap_latency_chart(r).find("log scale"), std::string::npos);
  r.push_back(make("slow", 0.30, 1200, 1.5, 1.0));
  const std::string svg = ap_latency_chart(r);
  EXPECT_NE(svg.find("(ms, log scale)"), std::string::npos);
  for (const char* tick : {">10</text>", ">20</text>", ">50</text>", ">100</text>", ">1000</text>"})
    EXPECT_NE(svg.find(tick), std::string::npos) << tick;
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
  HtmlReport rep{"qdet study: synthetic", {"fact"}, crowded(),
                 {PictureRow{"img.jpg", {Picture{"fp32", *png, "1 detection"}, Picture{"int8", *png, "0 detections"}}}}};
  std::ofstream(dir / "index.html") << to_html(rep);
  // The screenshot stays in the scratch folder for a person to look at.
  auto r = study::testing::render(chromium, dir / "index.html", dir, dir / "report.png");
  ASSERT_EQ(r.status, 0) << r.log;
  EXPECT_NE(r.dom.find("data-rendered=\"4\""), std::string::npos) << r.dom.substr(0, 2000);
  EXPECT_NE(r.dom.find("data-charts=\"4\""), std::string::npos);
  EXPECT_NE(r.dom.find("<circle"), std::string::npos);
  // The crowded chart's labels, measured by the browser, do not overlap.
  EXPECT_NE(r.dom.find("data-label-overlaps=\"0\""), std::string::npos)
      << r.dom.substr(r.dom.find("<body"), 300);
  EXPECT_FALSE(study::testing::has_console_errors(r.log)) << r.log;
}

}  // namespace
}  // namespace qdet::report
