#include "coco/summary.h"

#include <span>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <set>

#include "base/json_text.h"

namespace qdet::coco {

std::string format_summary(const EvalResult& r) {
  const EvalParams& p = r.params;
  const int M = static_cast<int>(p.max_dets.size());
  const int md0 = p.max_dets[0], md1 = p.max_dets[std::min(1, M - 1)],
            md2 = p.max_dets[std::min(2, M - 1)];
  struct Line {
    bool ap;
    double iou;  // < 0: the whole range
    const char* area;
    int max_dets;
  };
  const Line lines[kNumStats] = {
      {true, -1, "all", md2},     {true, 0.5, "all", md2},    {true, 0.75, "all", md2},
      {true, -1, "small", md2},   {true, -1, "medium", md2},  {true, -1, "large", md2},
      {false, -1, "all", md0},    {false, -1, "all", md1},    {false, -1, "all", md2},
      {false, -1, "small", md2},  {false, -1, "medium", md2}, {false, -1, "large", md2},
  };
  std::string out;
  for (int i = 0; i < kNumStats; ++i) {
    const Line& l = lines[i];
    std::string iou = l.iou < 0 ? fmt::format("{:0.2f}:{:0.2f}", p.iou_thresholds.front(),
                                              p.iou_thresholds.back())
                                : fmt::format("{:0.2f}", l.iou);
    fmt::format_to(std::back_inserter(out),
                   " {:<18} {} @[ IoU={:<9} | area={:>6s} | maxDets={:>3d} ] = {:0.3f}\n",
                   l.ap ? "Average Precision" : "Average Recall", l.ap ? "(AP)" : "(AR)", iou,
                   l.area, l.max_dets, r.stats[i]);
  }
  return out;
}

std::string format_category_table(const EvalResult& r) {
  size_t name_width = 8;
  for (const CategoryResult& c : r.per_category) name_width = std::max(name_width, c.name.size());
  std::string out = fmt::format("{:>4}  {:<{}}  {:>6}  {:>6}  {:>7}  {:>10}\n", "id", "category",
                                name_width, "AP", "AP50", "gt", "detections");
  auto number = [](double v) { return v < 0 ? std::string("-") : fmt::format("{:.3f}", v); };
  for (const CategoryResult& c : r.per_category) {
    fmt::format_to(std::back_inserter(out), "{:>4}  {:<{}}  {:>6}  {:>6}  {:>7}  {:>10}\n", c.id,
                   c.name, name_width, number(c.ap), number(c.ap50), c.num_gt, c.num_detections);
  }
  return out;
}

namespace {

// A row-major flat array of the given dimensions as nested JSON arrays (pycocotools' layout);
// `pos` walks the flat array.
nlohmann::ordered_json nested(const std::vector<double>& flat, std::span<const size_t> dims,
                              size_t* pos) {
  if (dims.size() == 1) {
    std::vector<double> row(flat.begin() + *pos, flat.begin() + *pos + dims[0]);
    *pos += dims[0];
    return row;
  }
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (size_t i = 0; i < dims[0]; ++i) out.push_back(nested(flat, dims.subspan(1), pos));
  return out;
}

}  // namespace

std::string eval_result_to_json(const EvalResult& r, bool with_arrays) {
  nlohmann::ordered_json j;
  j["stats"] = std::vector<double>(r.stats.begin(), r.stats.end());
  std::vector<std::string> names;
  for (int i = 0; i < kNumStats; ++i) names.push_back(stat_name(i));
  j["stat_names"] = names;
  nlohmann::ordered_json per = nlohmann::ordered_json::object();
  std::set<std::string> used;
  for (const CategoryResult& c : r.per_category) {
    // Names key the map; an empty or repeated name falls back to the id.
    std::string key = c.name.empty() || used.count(c.name) ? std::to_string(c.id) : c.name;
    used.insert(key);
    per[key] = {{"id", c.id},
                {"AP", c.ap},
                {"AP50", c.ap50},
                {"num_gt", c.num_gt},
                {"num_detections", c.num_detections}};
  }
  j["per_category"] = per;
  if (with_arrays) {
    const EvalParams& p = r.params;
    nlohmann::ordered_json params;
    params["iou_thresholds"] = p.iou_thresholds;
    params["recall_thresholds"] = p.recall_thresholds;
    params["max_dets"] = p.max_dets;
    std::vector<std::string> labels;
    for (const AreaRange& a : p.area_ranges) labels.push_back(a.label);
    params["area_ranges"] = labels;
    params["category_ids"] = r.category_ids;
    j["params"] = params;
    size_t pos = 0;
    j["precision"] = nested(r.precision, std::vector<size_t>{r.T, r.R, r.K, r.A, r.M}, &pos);
    pos = 0;
    j["recall"] = nested(r.recall, std::vector<size_t>{r.T, r.K, r.A, r.M}, &pos);
    pos = 0;
    j["scores"] = nested(r.scores, std::vector<size_t>{r.T, r.R, r.K, r.A, r.M}, &pos);
  }
  return (with_arrays ? json_text(j) : json_text(j, 1)) + "\n";
}

}  // namespace qdet::coco
