#include "coco/shard.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <unordered_map>

#include "base/file.h"

namespace qdet::coco {
namespace {

namespace fs = std::filesystem;

bool parse_int(std::string_view text, int* out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

// out/dt.json -> out/dt (the part every shard file name starts with).
fs::path stem_of(const fs::path& results) { return results.parent_path() / results.stem(); }

std::string shard_suffix(Shard s) { return fmt::format(".shard-{}-of-{}", s.index, s.count); }

// "<stem>.shard-K-of-N.done" in a folder listing.
const std::regex& done_name() {
  static const std::regex re(R"(^(.*)\.shard-([0-9]+)-of-([0-9]+)\.done$)");
  return re;
}

struct FoundShard {
  Shard shard;
  fs::path done;
};

// The .done files of the sharded run `stem` (out/dt), or of the only run in folder `dir`.
Result<std::pair<fs::path, std::vector<FoundShard>>> find_shards(const fs::path& where) {
  std::error_code ec;
  const bool is_dir = fs::is_directory(where, ec);
  const fs::path dir = is_dir ? where : (where.parent_path().empty() ? fs::path(".") : where.parent_path());
  if (!fs::is_directory(dir, ec)) return not_found("{}: folder not found", dir.string());
  const std::string want_stem = is_dir ? std::string() : where.stem().string();
  std::map<std::string, std::vector<FoundShard>> by_stem;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    std::smatch m;
    if (!std::regex_match(name, m, done_name())) continue;
    if (!is_dir && m[1].str() != want_stem) continue;
    Shard s;
    if (!parse_int(m[2].str(), &s.index) || !parse_int(m[3].str(), &s.count)) continue;
    by_stem[m[1].str()].push_back({s, entry.path()});
  }
  if (ec) return io_error("{}: cannot list: {}", dir.string(), ec.message());
  if (by_stem.empty())
    return not_found("{}: no finished shard (no {}.shard-K-of-N.done file)", where.string(),
                     is_dir ? "<name>" : want_stem);
  if (by_stem.size() > 1) {
    std::string names;
    for (const auto& [stem, _] : by_stem) names += (names.empty() ? "" : ", ") + (dir / (stem + ".json")).string();
    return invalid_argument("{}: several sharded runs ({}): name one", where.string(), names);
  }
  auto& [stem, found] = *by_stem.begin();
  return std::make_pair(dir / (stem + ".json"), std::move(found));
}

}  // namespace

Result<Shard> parse_shard(std::string_view text) {
  const size_t slash = text.find('/');
  Shard s;
  if (slash == std::string_view::npos || !parse_int(text.substr(0, slash), &s.index) ||
      !parse_int(text.substr(slash + 1), &s.count))
    return invalid_argument("--shard '{}': expected K/N, e.g. 0/4 (K counts from 0)", text);
  if (s.count < 1) return invalid_argument("--shard '{}': N must be at least 1", text);
  if (s.index < 0 || s.index >= s.count)
    return invalid_argument("--shard '{}': K must be 0..{} (K counts from 0)", text, s.count - 1);
  return s;
}

std::vector<int64_t> shard_image_ids(std::vector<int64_t> selected, Shard shard) {
  std::sort(selected.begin(), selected.end());
  std::vector<int64_t> mine;
  for (size_t i = static_cast<size_t>(shard.index); i < selected.size(); i += static_cast<size_t>(shard.count))
    mine.push_back(selected[i]);
  return mine;
}

std::vector<const ImageInfo*> select_images(const Dataset& gt, int limit) {
  std::vector<const ImageInfo*> out;
  for (const auto& im : gt.images) {
    if (limit > 0 && static_cast<int>(out.size()) >= limit) break;
    out.push_back(&im);
  }
  return out;
}

fs::path shard_results_path(const fs::path& results, Shard shard) {
  return fs::path(stem_of(results).string() + shard_suffix(shard) + results.extension().string());
}

fs::path shard_done_path(const fs::path& results, Shard shard) {
  return fs::path(stem_of(results).string() + shard_suffix(shard) + ".done");
}

std::string shard_record_to_json(const ShardRecord& r) {
  nlohmann::ordered_json j;
  j["shard"] = r.shard.index;
  j["shards"] = r.shard.count;
  j["annotations"] = r.annotations;
  j["limit"] = r.limit;
  j["selected_images"] = r.selected_images;
  j["image_ids"] = r.image_ids;
  j["failed"] = nlohmann::ordered_json::array();
  for (const auto& [id, why] : r.failed) j["failed"].push_back({{"image_id", id}, {"error", why}});
  j["results"] = r.results;
  j["model"] = r.model;
  j["preset"] = r.preset;
  j["host"] = r.host;
  j["notes"] = r.notes;
  j["detections"] = r.detections;
  j["wall_s"] = r.wall_s;
  return j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Result<ShardRecord> parse_shard_record(std::string_view text, std::string_view source) {
  try {
    const auto j = nlohmann::json::parse(text);
    ShardRecord r;
    r.shard.index = j.at("shard").get<int>();
    r.shard.count = j.at("shards").get<int>();
    if (r.shard.count < 1 || r.shard.index < 0 || r.shard.index >= r.shard.count)
      return parse_error("{}: shard {} of {} is not a valid shard", source, r.shard.index, r.shard.count);
    r.annotations = j.at("annotations").get<std::string>();
    r.limit = j.at("limit").get<int>();
    r.selected_images = j.at("selected_images").get<int>();
    r.image_ids = j.at("image_ids").get<std::vector<int64_t>>();
    for (const auto& f : j.at("failed")) r.failed.emplace_back(f.at("image_id").get<int64_t>(), f.at("error").get<std::string>());
    r.results = j.at("results").get<std::string>();
    if (r.results.empty() || fs::path(r.results).filename() != fs::path(r.results))
      return parse_error("{}: results must be a file name beside the record, not '{}'", source, r.results);
    r.model = j.value("model", "");
    r.preset = j.value("preset", "");
    r.host = j.value("host", "");
    r.notes = j.value("notes", std::vector<std::string>{});
    r.detections = j.value("detections", size_t{0});
    r.wall_s = j.value("wall_s", 0.0);
    return r;
  } catch (const nlohmann::json::exception& e) {
    return parse_error("{}: {}", source, e.what());
  }
}

Result<MergedShards> merge_shards(const fs::path& where, const fs::path& annotations) {
  MergedShards m;
  QDET_ASSIGN_OR_RETURN(auto found, find_shards(where));
  m.results = found.first;
  const std::string name = m.results.string();

  // One shard count, every index present.
  std::set<int> counts;
  for (const auto& f : found.second) counts.insert(f.shard.count);
  if (counts.size() > 1) {
    std::string list;
    for (int n : counts) list += (list.empty() ? "" : ", ") + std::to_string(n);
    return invalid_argument("{}: shards of different runs (of {} shards): remove the stale .done files", name, list);
  }
  m.shards = *counts.begin();
  std::vector<const FoundShard*> by_index(static_cast<size_t>(m.shards), nullptr);
  for (const auto& f : found.second) by_index[static_cast<size_t>(f.shard.index)] = &f;
  std::string missing;
  for (int k = 0; k < m.shards; ++k)
    if (!by_index[static_cast<size_t>(k)]) missing += (missing.empty() ? "" : ", ") + std::to_string(k);
  if (!missing.empty())
    return not_found("{}: shard(s) {} of {} not finished (no {}.shard-K-of-{}.done)", name, missing,
                     m.shards, m.results.stem().string(), m.shards);

  for (const auto* f : by_index) {
    QDET_ASSIGN_OR_RETURN(std::string text, read_text_file(f->done));
    QDET_ASSIGN_OR_RETURN(ShardRecord r, parse_shard_record(text, f->done.string()));
    if (r.shard.index != f->shard.index || r.shard.count != f->shard.count)
      return parse_error("{}: records shard {} of {}, its name says {} of {}", f->done.string(),
                         r.shard.index, r.shard.count, f->shard.index, f->shard.count);
    m.records.push_back(std::move(r));
  }
  const ShardRecord& first = m.records.front();
  for (const auto& r : m.records)
    if (r.limit != first.limit || r.selected_images != first.selected_images)
      return invalid_argument("{}: shards {} and {} come from different selections (--limit {} / {} of {} / {} images)",
                              name, first.shard.index, r.shard.index, first.limit, r.limit,
                              first.selected_images, r.selected_images);
  m.limit = first.limit;
  m.annotations = annotations.empty() ? fs::path(first.annotations) : annotations;

  // The selection as the unsharded run makes it, and each shard's part of it.
  QDET_ASSIGN_OR_RETURN(Dataset gt, load_instances(m.annotations));
  const auto selected = select_images(gt, m.limit);
  if (static_cast<int>(selected.size()) != first.selected_images)
    return invalid_argument("{}: the shards selected {} images, {} gives {}", name, first.selected_images,
                            m.annotations.string(), selected.size());
  std::vector<int64_t> ids;
  for (const auto* im : selected) ids.push_back(im->id);
  std::unordered_map<int64_t, std::vector<Detection>> by_image;
  std::unordered_map<int64_t, int> owner;
  for (const auto& r : m.records) {
    if (r.image_ids != shard_image_ids(ids, r.shard))
      return invalid_argument("{}: shard {} of {} did not evaluate its part of {} ({} images, expected {})", name,
                              r.shard.index, r.shard.count, m.annotations.string(), r.image_ids.size(),
                              shard_image_ids(ids, r.shard).size());
    for (int64_t id : r.image_ids) owner[id] = r.shard.index;
    const fs::path file = m.results.parent_path() / r.results;
    QDET_ASSIGN_OR_RETURN(std::vector<Detection> dets, load_results(file));
    for (const Detection& d : dets) {
      auto it = owner.find(d.image_id);
      if (it == owner.end() || it->second != r.shard.index)
        return invalid_argument("{}: image {} is not in shard {} of {}", file.string(), d.image_id,
                                r.shard.index, r.shard.count);
      by_image[d.image_id].push_back(d);
    }
    for (const auto& [id, why] : r.failed) m.failures.push_back(why);
  }

  // Scored as evaluate_model scores the unsharded run: the selection (pycocotools' imgIds when
  // limited), each image's detections in the order found.
  EvalOptions options;
  if (m.limit > 0) options.image_ids = ids;
  QDET_ASSIGN_OR_RETURN(CocoEvaluator evaluator, CocoEvaluator::create(gt, options));
  for (const auto* im : selected) {
    const auto& dets = by_image[im->id];
    QDET_TRY(evaluator.add_image(im->id, dets));
    m.detections.insert(m.detections.end(), dets.begin(), dets.end());
  }
  m.images = static_cast<int>(selected.size());
  QDET_ASSIGN_OR_RETURN(m.eval, evaluator.evaluate());
  return m;
}

}  // namespace qdet::coco
