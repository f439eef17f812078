// COCOeval speed on a synthetic set the size of COCO val2017, and instances JSON load speed.
//
//   build/bench/coco_eval_bench [--images 5000] [--dets 100] [--repeats 5] [--threads N]
//
// Ground truth: ~7.3 boxes per image (val2017: 36781 / 5000), COCO-like category frequencies
// (person ~30%), sizes ~41% small / 34% medium / 25% large, ~1% crowd, `area` below the box
// area as a mask's is. Detections: 100 per image, jittered copies of the ground truth (mostly
// the right class) with high float32 scores, the rest random boxes with low scores.
// The instances file has the official layout, segmentation polygons included (~25 MB).
//
// No peer runs here (pycocotools is not installed on this machine); the brief's reference
// figures are ~18 s for pycocotools and ~7 s for faster-coco-eval on this workload.
#include <fmt/format.h>

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/file.h"
#include "base/timer.h"
#include "coco/dataset.h"
#include "coco/evaluator.h"
#include "detect/labels.h"
#include "coco/results.h"

namespace {

using qdet::coco::Annotation;
using qdet::coco::BoxXywh;
using qdet::coco::Dataset;
using qdet::coco::Detection;

struct Synthetic {
  Dataset gt;
  std::vector<Detection> dets;
};

Synthetic synthesize(int num_images, int dets_per_image, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uni(0, 1);
  std::poisson_distribution<int> count(7.3);
  std::lognormal_distribution<double> aspect(0, 0.5);
  // Category weights: person about 30%, the rest falling off like COCO's long tail.
  std::vector<double> weights(qdet::detect::kCocoClasses);
  for (int c = 0; c < qdet::detect::kCocoClasses; ++c) weights[c] = c == 0 ? 30.0 : 70.0 / (c + 4);
  std::discrete_distribution<int> category(weights.begin(), weights.end());
  auto side = [&]() {
    double u = uni(rng);  // sqrt(area) in pixels: small < 32 <= medium < 96 <= large
    if (u < 0.41) return 4 + 28 * uni(rng);
    if (u < 0.75) return 32 + 64 * uni(rng);
    return 96 + 350 * uni(rng);
  };
  Synthetic s;
  Dataset& gt = s.gt;
  for (int c = 0; c < qdet::detect::kCocoClasses; ++c) {
    int id = qdet::detect::coco80_to_id(c);
    gt.categories.push_back({id, std::string(qdet::detect::coco80_names()[c]), ""});
  }
  int64_t next_ann = 1;
  std::vector<int64_t> image_ids;
  for (int i = 0; i < num_images; ++i) image_ids.push_back(139 + 97 * i + (i % 13));
  for (int64_t image : image_ids) {
    const double W = 640, H = 480;
    gt.images.push_back({image, 640, 480, fmt::format("{:012d}.jpg", image)});
    const int n = count(rng);
    std::vector<Annotation> mine;
    for (int j = 0; j < n; ++j) {
      double a = side(), r = aspect(rng);
      double w = std::min(W, a * std::sqrt(r)), h = std::min(H, a / std::sqrt(r));
      Annotation ann;
      ann.id = next_ann++;
      ann.image_id = image;
      ann.category_id = qdet::detect::coco80_to_id(category(rng));
      ann.bbox = {std::round((W - w) * uni(rng) * 100) / 100, std::round((H - h) * uni(rng) * 100) / 100,
                  std::round(w * 100) / 100, std::round(h * 100) / 100};
      ann.area = ann.bbox.w * ann.bbox.h * (0.5 + 0.4 * uni(rng));
      ann.iscrowd = uni(rng) < 0.01;
      mine.push_back(ann);
      gt.annotations.push_back(ann);
    }
    // Detections: jittered ground truth first, then random boxes up to dets_per_image.
    int made = 0;
    for (const Annotation& ann : mine) {
      int copies = 1 + static_cast<int>(uni(rng) * 3);
      for (int c = 0; c < copies && made < dets_per_image; ++c, ++made) {
        const BoxXywh& b = ann.bbox;
        double jitter = 0.03 + 0.15 * uni(rng);
        Detection d;
        d.image_id = image;
        d.category_id = uni(rng) < 0.85 ? ann.category_id
                                         : qdet::detect::coco80_to_id(category(rng));
        d.bbox = {b.x + b.w * jitter * (uni(rng) - 0.5), b.y + b.h * jitter * (uni(rng) - 0.5),
                  b.w * (1 + jitter * (uni(rng) - 0.5)), b.h * (1 + jitter * (uni(rng) - 0.5))};
        d.score = static_cast<float>(0.3 + 0.69 * uni(rng) * (c == 0 ? 1.0 : 0.7));
        s.dets.push_back(d);
      }
    }
    for (; made < dets_per_image; ++made) {
      double a = side(), r = aspect(rng);
      double w = std::min(W, a * std::sqrt(r)), h = std::min(H, a / std::sqrt(r));
      Detection d;
      d.image_id = image;
      d.category_id = qdet::detect::coco80_to_id(category(rng));
      d.bbox = {(W - w) * uni(rng), (H - h) * uni(rng), w, h};
      d.score = static_cast<float>(0.3 * std::pow(uni(rng), 3.0));  // many low scores, ties in float32
      s.dets.push_back(d);
    }
  }
  if (!gt.build_index().ok()) std::abort();
  return s;
}

// The instances file as the official one lays it out, with a polygon per annotation.
std::string instances_json(const Dataset& gt, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uni(0, 1);
  std::string out;
  out.reserve(32 << 20);
  out += R"({"info": {"description": "synthetic COCO-like set", "version": "1.0", "year": 2017},)";
  out += R"( "licenses": [{"url": "http://creativecommons.org/licenses/by/2.0/", "id": 4, "name": "Attribution License"}],)";
  out += "\n\"images\": [";
  for (size_t i = 0; i < gt.images.size(); ++i) {
    const auto& im = gt.images[i];
    fmt::format_to(std::back_inserter(out),
                   "{}{{\"license\": 4, \"file_name\": \"{}\", \"coco_url\": "
                   "\"http://images.cocodataset.org/val2017/{}\", \"height\": {}, \"width\": {}, "
                   "\"date_captured\": \"2013-11-14 17:02:52\", \"id\": {}}}",
                   i ? ", " : "", im.file_name, im.file_name, im.height, im.width, im.id);
  }
  out += "],\n\"annotations\": [";
  for (size_t i = 0; i < gt.annotations.size(); ++i) {
    const Annotation& a = gt.annotations[i];
    out += i ? ", " : "";
    out += "{\"segmentation\": [[";
    const int points = 12 + static_cast<int>(uni(rng) * 40);
    for (int p = 0; p < points; ++p) {
      double t = 2 * M_PI * p / points, rr = 0.35 + 0.15 * uni(rng);
      fmt::format_to(std::back_inserter(out), "{}{:.2f},{:.2f}", p ? "," : "",
                     a.bbox.x + a.bbox.w * (0.5 + rr * std::cos(t)),
                     a.bbox.y + a.bbox.h * (0.5 + rr * std::sin(t)));
    }
    fmt::format_to(std::back_inserter(out),
                   "]], \"area\": {}, \"iscrowd\": {}, \"image_id\": {}, \"bbox\": [{},{},{},{}], "
                   "\"category_id\": {}, \"id\": {}}}",
                   a.area, a.iscrowd ? 1 : 0, a.image_id, a.bbox.x, a.bbox.y, a.bbox.w, a.bbox.h,
                   a.category_id, a.id);
  }
  out += "],\n\"categories\": [";
  for (size_t i = 0; i < gt.categories.size(); ++i)
    fmt::format_to(std::back_inserter(out), "{}{{\"supercategory\": \"thing\", \"id\": {}, \"name\": \"{}\"}}",
                   i ? ", " : "", gt.categories[i].id, gt.categories[i].name);
  out += "]}\n";
  return out;
}

// CPU time of the whole process (all threads): on a shared machine the wall clock also counts
// time spent waiting for a core, so both are printed.
double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + t.tv_nsec * 1e-9;
}

struct Clock {
  int64_t wall0 = qdet::now_ns();
  double cpu0 = cpu_seconds();
  double wall() const { return (qdet::now_ns() - wall0) * 1e-9; }
  double cpu() const { return cpu_seconds() - cpu0; }
};

// Every sample kept; min, median and p90 printed.
struct Samples {
  std::vector<double> wall, cpu;
  void add(const Clock& c) { add(c.wall(), c.cpu()); }
  void add(double w, double c) {
    wall.push_back(w);
    cpu.push_back(c);
  }
  static std::string stats(std::vector<double> s) {
    std::sort(s.begin(), s.end());
    auto pct = [&](double q) { return s[std::min(s.size() - 1, static_cast<size_t>(q * s.size()))]; };
    std::string all;
    for (double v : s) all += fmt::format(" {:.3f}", v);
    return fmt::format("min {:.3f}  median {:.3f}  p90 {:.3f}  [{} ]", s.front(), pct(0.5), pct(0.9), all);
  }
  std::string summary() const {
    return fmt::format("wall s: {}\n{:>38}cpu s:  {}", stats(wall), "", stats(cpu));
  }
};

}  // namespace

int main(int argc, char** argv) {
  int images = 5000, dets = 100, repeats = 5;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    int v = std::atoi(argv[i + 1]);
    if (flag == "--images") images = v;
    else if (flag == "--dets") dets = v;
    else if (flag == "--repeats") repeats = std::max(1, v);
    else if (flag == "--threads") threads = std::max(1, v);
    else {
      std::fprintf(stderr, "usage: %s [--images N] [--dets N] [--repeats N] [--threads N]\n", argv[0]);
      return 2;
    }
  }
  Clock make;
  Synthetic s = synthesize(images, dets, 2017);
  int crowd = 0;
  for (const auto& a : s.gt.annotations) crowd += a.iscrowd;
  std::printf("synthetic set: %d images, %zu annotations (%d crowd), %zu detections (%.2f s to make)\n",
              images, s.gt.annotations.size(), crowd, s.dets.size(), make.wall());

  qdet::coco::EvalResult reference;
  for (int th : {1, threads}) {
    if (th == threads && th == 1 && !reference.stats.empty() && reference.precision.size()) break;
    Samples add_time, eval_time, total;
    for (int r = 0; r < repeats; ++r) {
      qdet::coco::EvalOptions options;
      options.threads = th;
      Clock a;
      auto ev = qdet::coco::CocoEvaluator::create(s.gt, options);
      if (!ev.ok() || !ev->add(s.dets).ok()) return 1;
      const double add_wall = a.wall(), add_cpu = a.cpu();
      Clock b;
      auto result = ev->evaluate();
      if (!result.ok()) {
        std::fprintf(stderr, "%s\n", result.status().message().c_str());
        return 1;
      }
      eval_time.add(b);
      add_time.add(add_wall, add_cpu);
      total.add(add_wall + b.wall(), add_cpu + b.cpu());
      if (reference.precision.empty()) {
        reference = std::move(result).value();
      } else if (result->stats != reference.stats || result->precision != reference.precision) {
        std::fprintf(stderr, "numbers differ between runs / thread counts\n");
        return 1;
      }
    }
    std::printf("%-38s%s\n", fmt::format("COCOeval {} thread(s), index+add", th).c_str(), add_time.summary().c_str());
    std::printf("%-38s%s\n", fmt::format("COCOeval {} thread(s), evaluate", th).c_str(), eval_time.summary().c_str());
    std::printf("%-38s%s\n", fmt::format("COCOeval {} thread(s), total", th).c_str(), total.summary().c_str());
    if (threads == 1) break;
  }
  std::printf("stats: AP %.4f AP50 %.4f AP75 %.4f APs %.4f APm %.4f APl %.4f AR1 %.4f AR10 %.4f AR100 %.4f\n",
              reference.stats[0], reference.stats[1], reference.stats[2], reference.stats[3],
              reference.stats[4], reference.stats[5], reference.stats[6], reference.stats[7],
              reference.stats[8]);

  // Files: results written and read back, the instances file loaded.
  auto dir = std::filesystem::temp_directory_path() / fmt::format("qdet-coco-bench-{}", ::getpid());
  std::filesystem::create_directories(dir);
  {
    Samples write, read;
    for (int r = 0; r < repeats; ++r) {
      Clock a;
      if (!qdet::coco::write_results(dir / "dt.json", s.dets).ok()) return 1;
      write.add(a);
      Clock b;
      auto back = qdet::coco::load_results(dir / "dt.json");
      if (!back.ok() || back->size() != s.dets.size()) return 1;
      read.add(b);
    }
    std::printf("results json: %zu detections, %.1f MB\n", s.dets.size(),
                std::filesystem::file_size(dir / "dt.json") / 1e6);
    std::printf("%-38s%s\n", "results json, write (atomic)", write.summary().c_str());
    std::printf("%-38s%s\n", "results json, read", read.summary().c_str());
  }
  {
    std::string text = instances_json(s.gt, 7);
    if (!qdet::write_file_atomic(dir / "instances.json", text).ok()) return 1;
    Samples load;
    for (int r = 0; r < repeats; ++r) {
      Clock a;
      auto ds = qdet::coco::load_instances(dir / "instances.json");
      if (!ds.ok() || ds->annotations.size() != s.gt.annotations.size()) {
        std::fprintf(stderr, "load failed: %s\n", ds.ok() ? "count" : ds.status().message().c_str());
        return 1;
      }
      load.add(a);
    }
    std::printf("instances json: %.1f MB, %zu images, %zu annotations with polygons\n",
                text.size() / 1e6, s.gt.images.size(), s.gt.annotations.size());
    std::printf("%-38s%s\n", "instances json, load", load.summary().c_str());
  }
  if (std::getenv("QDET_BENCH_KEEP")) {
    std::printf("kept %s\n", dir.c_str());
  } else {
    std::filesystem::remove_all(dir);
  }
  return 0;
}
