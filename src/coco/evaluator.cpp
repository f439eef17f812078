#include "coco/evaluator.h"

#include <algorithm>
#include <atomic>
#include <numeric>
#include <thread>
#include <unordered_map>

#include "coco/accumulate.h"
#include "coco/image_eval.h"

namespace qdet::coco {
namespace {

using detail::DtBox;
using detail::GtBox;

struct DetIn {
  BoxXywh box;
  double score;
  int32_t k;  // category index into the sorted category ids
};

// The evaluation output of one image: its detections that survive the per-(image, category)
// cut to the largest maxDets, grouped by category, in score order within each.
struct ImageOut {
  std::vector<int32_t> k;
  std::vector<uint16_t> rank;
  std::vector<double> score;
  std::vector<uint16_t> masks;  // 2 * A per detection
};

// Runs fn(index, worker) for index in [0, n) on `threads` threads; indexes are claimed in
// chunks, each index is processed exactly once, so results written per index do not depend on
// the thread count.
template <typename Fn>
void parallel_for(size_t n, int threads, size_t chunk, Fn fn) {
  threads = std::max(1, std::min<int>(threads, static_cast<int>((n + chunk - 1) / chunk)));
  if (threads <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i, 0);
    return;
  }
  std::atomic<size_t> next{0};
  auto work = [&](int worker) {
    for (;;) {
      size_t begin = next.fetch_add(chunk);
      if (begin >= n) return;
      for (size_t i = begin; i < std::min(n, begin + chunk); ++i) fn(i, worker);
    }
  };
  std::vector<std::thread> pool;
  for (int w = 1; w < threads; ++w) pool.emplace_back(work, w);
  work(0);
  for (auto& t : pool) t.join();
}

DtBox to_dt(const BoxXywh& b) { return {b.x, b.y, b.x + b.w, b.y + b.h, b.w * b.h}; }

struct EvalState {
  const Dataset* gt = nullptr;
  EvalOptions options;
  std::vector<int64_t> image_ids;  // ascending (pycocotools: sorted(getImgIds()))
  std::unordered_map<int64_t, int32_t> image_index;
  std::vector<int64_t> category_ids;  // ascending
  std::vector<std::string> category_names;
  std::unordered_map<int64_t, int32_t> category_index;
  // Ground truth per image, grouped by category, file order within a category.
  std::vector<uint32_t> gt_offsets;  // I + 1
  std::vector<GtBox> gt_boxes;
  std::vector<int32_t> gt_k;
  std::vector<std::vector<DetIn>> dets;  // per image, in the order added
  std::vector<int64_t> processed;
  size_t num_dets = 0, num_dropped = 0;
};

}  // namespace

const char* stat_name(int stat) {
  static const char* const kNames[kNumStats] = {"AP",  "AP50", "AP75",  "APs",  "APm", "APl",
                                                "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"};
  return stat >= 0 && stat < kNumStats ? kNames[stat] : "?";
}

double numpy_mean_of_valid(std::span<const double> values) {
  std::vector<double> valid;
  valid.reserve(values.size());
  for (double v : values)
    if (v > -1) valid.push_back(v);
  if (valid.empty()) return -1;
  return detail::numpy_sum(valid) / static_cast<double>(valid.size());
}

// The evaluator's state: the ground truth indexed once, the detections added so far. Named
// outside the class so that the stages of evaluate() below can take it.
namespace {

// The ids of `items` (images or categories) ascending, and each id's position in that order;
// a repeated id is an error of the ground truth.
template <typename Item>
Status index_ids(const std::vector<Item>& items, const char* what, std::vector<int64_t>& ids,
                 std::unordered_map<int64_t, int32_t>& index) {
  for (const Item& item : items) ids.push_back(item.id);
  std::sort(ids.begin(), ids.end());
  if (std::adjacent_find(ids.begin(), ids.end()) != ids.end())
    return invalid_argument("ground truth: duplicate {} ids", what);
  for (size_t i = 0; i < ids.size(); ++i) index.emplace(ids[i], static_cast<int32_t>(i));
  return ok_status();
}

}  // namespace

struct CocoEvaluator::State : EvalState {};


CocoEvaluator::CocoEvaluator(std::unique_ptr<State> state) : state_(std::move(state)) {}
CocoEvaluator::CocoEvaluator(CocoEvaluator&&) noexcept = default;
CocoEvaluator& CocoEvaluator::operator=(CocoEvaluator&&) noexcept = default;
CocoEvaluator::~CocoEvaluator() = default;

Result<CocoEvaluator> CocoEvaluator::create(const Dataset& gt, EvalOptions options) {
  QDET_TRY(options.params.validate());
  auto s = std::make_unique<State>();
  s->gt = &gt;
  QDET_TRY(index_ids(gt.images, "image", s->image_ids, s->image_index));
  QDET_TRY(index_ids(gt.categories, "category", s->category_ids, s->category_index));
  s->category_names.resize(s->category_ids.size());
  for (const CategoryInfo& c : gt.categories) s->category_names[s->category_index[c.id]] = c.name;

  // Annotations of images or categories outside the ground truth's lists take no part, as
  // pycocotools' getAnnIds(imgIds, catIds) leaves them out.
  struct Key {
    int32_t image, k;
    uint32_t ann;
  };
  std::vector<Key> keys;
  keys.reserve(gt.annotations.size());
  for (size_t i = 0; i < gt.annotations.size(); ++i) {
    const Annotation& a = gt.annotations[i];
    auto im = s->image_index.find(a.image_id);
    auto cat = s->category_index.find(a.category_id);
    if (im == s->image_index.end() || cat == s->category_index.end()) continue;
    keys.push_back({im->second, cat->second, static_cast<uint32_t>(i)});
  }
  std::sort(keys.begin(), keys.end(), [](const Key& x, const Key& y) {
    if (x.image != y.image) return x.image < y.image;
    if (x.k != y.k) return x.k < y.k;
    return x.ann < y.ann;
  });
  const size_t I = s->image_ids.size();
  s->gt_offsets.assign(I + 1, 0);
  s->gt_boxes.reserve(keys.size());
  s->gt_k.reserve(keys.size());
  for (const Key& key : keys) {
    const Annotation& a = gt.annotations[key.ann];
    const BoxXywh& b = a.bbox;
    bool ignore = a.iscrowd || (options.use_ignore_flag && a.ignore);
    s->gt_boxes.push_back({b.x, b.y, b.x + b.w, b.y + b.h, b.w * b.h, a.area, a.iscrowd, ignore,
                           a.id != 0});
    s->gt_k.push_back(key.k);
    ++s->gt_offsets[key.image + 1];
  }
  for (size_t i = 0; i < I; ++i) s->gt_offsets[i + 1] += s->gt_offsets[i];
  s->dets.resize(I);
  s->options = std::move(options);
  return CocoEvaluator(std::move(s));
}

Status CocoEvaluator::add(std::span<const Detection> detections) {
  State& s = *state_;
  // Check everything first, so that an error leaves the evaluator as it was.
  size_t dropped = 0;
  for (size_t i = 0; i < detections.size(); ++i) {
    const Detection& d = detections[i];
    QDET_TRY(validate_detection(d, i));
    if (!s.image_index.count(d.image_id))
      return invalid_argument(
          "detection {}: image_id {} is not an image of the ground truth (pycocotools: Results "
          "do not correspond to current coco set)", i, d.image_id);
    if (!s.category_index.count(d.category_id)) {
      if (s.options.unknown_categories == UnknownCategory::kError)
        return invalid_argument(
            "detection {}: category_id {} is not a category of the ground truth (are the model's "
            "class indexes mapped to the dataset's category ids?)", i, d.category_id);
      ++dropped;
    }
  }
  for (const Detection& d : detections) {
    auto cat = s.category_index.find(d.category_id);
    if (cat == s.category_index.end()) continue;
    s.dets[s.image_index.at(d.image_id)].push_back({d.bbox, d.score, cat->second});
  }
  s.num_dets += detections.size() - dropped;
  s.num_dropped += dropped;
  return ok_status();
}

Status CocoEvaluator::add_image(int64_t image_id, std::span<const Detection> detections) {
  if (!state_->image_index.count(image_id))
    return invalid_argument("image_id {} is not an image of the ground truth", image_id);
  for (size_t i = 0; i < detections.size(); ++i)
    if (detections[i].image_id != image_id)
      return invalid_argument("add_image({}): detection {} has image_id {}", image_id, i,
                              detections[i].image_id);
  QDET_TRY(add(detections));
  state_->processed.push_back(image_id);
  return ok_status();
}

const std::vector<int64_t>& CocoEvaluator::processed_images() const { return state_->processed; }
size_t CocoEvaluator::num_detections() const { return state_->num_dets; }
size_t CocoEvaluator::num_dropped() const { return state_->num_dropped; }

namespace {

// The evaluated images, as indexes into image_ids (ascending, each once).
Result<std::vector<int32_t>> evaluated_images(const EvalState& s) {
  std::vector<int32_t> images;
  if (s.options.image_ids.empty()) {
    images.resize(s.image_ids.size());
    std::iota(images.begin(), images.end(), 0);
    return images;
  }
  for (int64_t id : s.options.image_ids) {
    auto it = s.image_index.find(id);
    if (it == s.image_index.end())
      return invalid_argument("eval options: image_id {} is not an image of the ground truth", id);
    images.push_back(it->second);
  }
  std::sort(images.begin(), images.end());
  images.erase(std::unique(images.begin(), images.end()), images.end());
  return images;
}

// Per image: every (image, category) with detections (pycocotools' evaluateImg).
std::vector<ImageOut> evaluate_images(const EvalState& s, const std::vector<int32_t>& images, int threads) {
  const EvalParams& p = s.options.params;
  const size_t A = p.area_ranges.size();
  const size_t max_det = static_cast<size_t>(p.max_dets.back());
  std::vector<double> thresholds(p.iou_thresholds.size());
  for (size_t t = 0; t < thresholds.size(); ++t) thresholds[t] = std::min(p.iou_thresholds[t], 1 - 1e-10);
  const detail::MatchConfig config{thresholds, p.area_ranges};

  std::vector<ImageOut> outs(images.size());
  struct Worker {
    detail::ImageEvalScratch scratch;
    std::vector<uint32_t> order;
    std::vector<DtBox> dts;
  };
  std::vector<Worker> workers(static_cast<size_t>(threads));
  parallel_for(images.size(), threads, 16, [&](size_t ii, int w) {
    Worker& wk = workers[w];
    const int32_t image = images[ii];
    const std::vector<DetIn>& in = s.dets[image];
    if (in.empty()) return;
    // Category, then score (highest first), then the order added: numpy's stable argsort of
    // -score within each (image, category).
    wk.order.resize(in.size());
    std::iota(wk.order.begin(), wk.order.end(), 0u);
    std::sort(wk.order.begin(), wk.order.end(), [&](uint32_t x, uint32_t y) {
      if (in[x].k != in[y].k) return in[x].k < in[y].k;
      if (in[x].score != in[y].score) return in[x].score > in[y].score;
      return x < y;
    });
    ImageOut& out = outs[ii];
    const uint32_t g_begin = s.gt_offsets[image], g_end = s.gt_offsets[image + 1];
    uint32_t g = g_begin;
    for (size_t i = 0; i < wk.order.size();) {
      const int32_t k = in[wk.order[i]].k;
      size_t j = i;
      while (j < wk.order.size() && in[wk.order[j]].k == k) ++j;
      const size_t n = std::min(j - i, max_det);
      while (g < g_end && s.gt_k[g] < k) ++g;
      uint32_t g2 = g;
      while (g2 < g_end && s.gt_k[g2] == k) ++g2;
      wk.dts.resize(n);
      for (size_t d = 0; d < n; ++d) wk.dts[d] = to_dt(in[wk.order[i + d]].box);
      const size_t base = out.k.size();
      out.k.resize(base + n, k);
      out.rank.resize(base + n);
      out.score.resize(base + n);
      out.masks.resize((base + n) * 2 * A);
      for (size_t d = 0; d < n; ++d) {
        out.rank[base + d] = static_cast<uint16_t>(d);
        out.score[base + d] = in[wk.order[i + d]].score;
      }
      detail::evaluate_image_category({s.gt_boxes.data() + g, g2 - g}, wk.dts, config,
                                      wk.scratch, out.masks.data() + base * 2 * A);
      g = g2;
      i = j;
    }
  });
  return outs;
}

// Non-ignored ground truth per category and area range, K * A (pycocotools' npig).
std::vector<int64_t> count_non_ignored(const EvalState& s, const std::vector<int32_t>& images) {
  const std::vector<AreaRange>& areas = s.options.params.area_ranges;
  const size_t A = areas.size();
  std::vector<int64_t> npig(s.category_ids.size() * A, 0);
  for (int32_t image : images) {
    for (uint32_t g = s.gt_offsets[image]; g < s.gt_offsets[image + 1]; ++g) {
      const GtBox& box = s.gt_boxes[g];
      if (box.ignore) continue;
      for (size_t a = 0; a < A; ++a)
        if (!(box.area < areas[a].lo || box.area > areas[a].hi)) ++npig[s.gt_k[g] * A + a];
    }
  }
  return npig;
}

// The evaluated detections grouped by category, in image order within one.
struct CategoryDetections {
  std::vector<size_t> offsets;  // K + 1
  std::vector<double> scores;
  std::vector<uint16_t> ranks, masks;  // masks: 2 * A per detection
};

CategoryDetections group_by_category(const std::vector<ImageOut>& outs, size_t K, size_t A) {
  CategoryDetections c;
  c.offsets.assign(K + 1, 0);
  for (const ImageOut& o : outs)
    for (int32_t k : o.k) ++c.offsets[k + 1];
  for (size_t k = 0; k < K; ++k) c.offsets[k + 1] += c.offsets[k];
  const size_t total = c.offsets[K];
  c.scores.resize(total);
  c.ranks.resize(total);
  c.masks.resize(total * 2 * A);
  std::vector<size_t> fill(c.offsets.begin(), c.offsets.end() - 1);
  for (const ImageOut& o : outs) {
    for (size_t i = 0; i < o.k.size(); ++i) {
      size_t at = fill[o.k[i]]++;
      c.scores[at] = o.score[i];
      c.ranks[at] = o.rank[i];
      std::copy_n(&o.masks[i * 2 * A], 2 * A, &c.masks[at * 2 * A]);
    }
  }
  return c;
}

// Per category: its detections in one stable sort by score, then precision and recall
// (pycocotools' accumulate) into `result`.
void accumulate(const CategoryDetections& cats, const std::vector<int64_t>& npig, int threads,
                EvalResult& result) {
  const EvalParams& p = result.params;
  const size_t K = result.K, A = result.A;
  struct AccWorker {
    detail::AccumulateScratch scratch;
    std::vector<uint32_t> order;
    std::vector<double> scores;
    std::vector<uint16_t> ranks, masks;
  };
  std::vector<AccWorker> acc(static_cast<size_t>(threads));
  parallel_for(K, threads, 1, [&](size_t k, int w) {
    AccWorker& wk = acc[w];
    const size_t begin = cats.offsets[k], n = cats.offsets[k + 1] - begin;
    wk.order.resize(n);
    std::iota(wk.order.begin(), wk.order.end(), 0u);
    const double* sc = cats.scores.data() + begin;  // n may be 0: no &cats.scores[begin]
    std::stable_sort(wk.order.begin(), wk.order.end(),
                     [sc](uint32_t x, uint32_t y) { return sc[x] > sc[y]; });
    wk.scores.resize(n);
    wk.ranks.resize(n);
    wk.masks.resize(n * 2 * A);
    for (size_t i = 0; i < n; ++i) {
      const size_t src = begin + wk.order[i];
      wk.scores[i] = cats.scores[src];
      wk.ranks[i] = cats.ranks[src];
      std::copy_n(&cats.masks[src * 2 * A], 2 * A, &wk.masks[i * 2 * A]);
    }
    detail::accumulate_category({wk.scores, wk.ranks, wk.masks}, {&npig[k * A], A}, p, k, K,
                                result.precision.data(), result.recall.data(),
                                result.scores.data(), wk.scratch);
  });
}

// pycocotools' summarize(): the twelve stats, means over the entries > -1 in numpy's order (t, r, k).
void summarize(EvalResult& result) {
  const EvalParams& p = result.params;
  const size_t T = result.T, R = result.R, K = result.K, A = result.A, M = result.M;
  auto area_index = [&](const char* label) -> int {
    for (size_t a = 0; a < A; ++a)
      if (p.area_ranges[a].label == label) return static_cast<int>(a);
    return -1;
  };
  auto max_det_index = [&](int value) -> int {
    for (size_t m = 0; m < M; ++m)
      if (p.max_dets[m] == value) return static_cast<int>(m);
    return -1;
  };
  std::vector<double> values;
  auto stat = [&](bool ap, double iou, const char* area, int max_dets_value) -> double {
    const int a = area_index(area), m = max_det_index(max_dets_value);
    if (a < 0 || m < 0) return -1;
    values.clear();
    for (size_t t = 0; t < T; ++t) {
      if (iou >= 0 && p.iou_thresholds[t] != iou) continue;
      if (ap) {
        for (size_t r = 0; r < R; ++r)
          for (size_t k = 0; k < K; ++k) values.push_back(result.precision_at(t, r, k, a, m));
      } else {
        for (size_t k = 0; k < K; ++k) values.push_back(result.recall_at(t, k, a, m));
      }
    }
    return numpy_mean_of_valid(values);
  };
  const int md0 = p.max_dets[0], md1 = p.max_dets[std::min<size_t>(1, M - 1)],
            md2 = p.max_dets[std::min<size_t>(2, M - 1)];
  result.stats = {stat(true, -1, "all", md2),    stat(true, 0.5, "all", md2),
                  stat(true, 0.75, "all", md2),  stat(true, -1, "small", md2),
                  stat(true, -1, "medium", md2), stat(true, -1, "large", md2),
                  stat(false, -1, "all", md0),   stat(false, -1, "all", md1),
                  stat(false, -1, "all", md2),   stat(false, -1, "small", md2),
                  stat(false, -1, "medium", md2), stat(false, -1, "large", md2)};
}

// Per category (detectron2's table): precision[:, :, k, area 0, last maxDets].
void summarize_categories(const EvalState& s, const std::vector<int64_t>& npig, const CategoryDetections& cats,
                          EvalResult& result) {
  const size_t T = result.T, R = result.R, K = result.K, A = result.A, M = result.M;
  std::vector<double> values;
  result.per_category.resize(K);
  for (size_t k = 0; k < K; ++k) {
    CategoryResult& c = result.per_category[k];
    c.id = s.category_ids[k];
    c.name = s.category_names[k];
    c.num_gt = npig[k * A];
    c.num_detections = static_cast<int64_t>(cats.offsets[k + 1] - cats.offsets[k]);
    values.clear();
    for (size_t t = 0; t < T; ++t)
      for (size_t r = 0; r < R; ++r) values.push_back(result.precision_at(t, r, k, 0, M - 1));
    c.ap = numpy_mean_of_valid(values);
    values.clear();
    for (size_t t = 0; t < T; ++t) {
      if (result.params.iou_thresholds[t] != 0.5) continue;
      for (size_t r = 0; r < R; ++r) values.push_back(result.precision_at(t, r, k, 0, M - 1));
    }
    c.ap50 = numpy_mean_of_valid(values);
  }
}

}  // namespace

Result<EvalResult> CocoEvaluator::evaluate() const {
  const State& s = *state_;
  const EvalParams& p = s.options.params;
  QDET_ASSIGN_OR_RETURN(const std::vector<int32_t> images, evaluated_images(s));
  const int threads = s.options.threads > 0 ? s.options.threads
                                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  EvalResult result;
  result.params = p;
  result.category_ids = s.category_ids;
  result.image_ids.reserve(images.size());
  for (int32_t image : images) result.image_ids.push_back(s.image_ids[image]);
  const size_t T = p.iou_thresholds.size(), R = p.recall_thresholds.size();
  const size_t K = s.category_ids.size(), A = p.area_ranges.size(), M = p.max_dets.size();
  result.T = T, result.R = R, result.K = K, result.A = A, result.M = M;
  result.precision.assign(T * R * K * A * M, -1.0);
  result.recall.assign(T * K * A * M, -1.0);
  result.scores.assign(T * R * K * A * M, -1.0);

  const std::vector<int64_t> npig = count_non_ignored(s, images);
  const CategoryDetections cats = group_by_category(evaluate_images(s, images, threads), K, A);
  accumulate(cats, npig, threads, result);
  summarize(result);
  summarize_categories(s, npig, cats, result);
  return result;
}

Result<EvalResult> evaluate_detections(const Dataset& gt, std::span<const Detection> detections,
                                       EvalOptions options) {
  QDET_ASSIGN_OR_RETURN(CocoEvaluator ev, CocoEvaluator::create(gt, std::move(options)));
  QDET_TRY(ev.add(detections));
  return ev.evaluate();
}

}  // namespace qdet::coco
