#include "coco/results_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "base/file.h"
#include "base/log.h"
#include "coco/json_input.h"

#include <nlohmann/json.hpp>

namespace qdet::coco {
namespace {

namespace od = simdjson::ondemand;

std::string errno_text() { return std::strerror(errno); }

Status write_all(int fd, std::string_view bytes, const std::filesystem::path& path) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return io_error("{}: write failed: {}", path.string(), errno_text());
    done += static_cast<size_t>(n);
  }
  return ok_status();
}

void append_line(int64_t image_id, std::span<const Detection> dets, std::string_view error,
                 std::string* out) {
  fmt::format_to(std::back_inserter(*out), "{{\"image_id\":{},", image_id);
  if (!error.empty()) {
    // One line per image: the JSON string escapes newlines and control characters.
    std::string text = nlohmann::json(std::string(error)).dump(-1, ' ', false,
                                                               nlohmann::json::error_handler_t::replace);
    fmt::format_to(std::back_inserter(*out), "\"error\":{},", text);
  }
  *out += "\"detections\":[";
  for (size_t i = 0; i < dets.size(); ++i) {
    const Detection& d = dets[i];
    fmt::format_to(std::back_inserter(*out), "{}[{},{},{},{},{},{}]", i ? "," : "", d.category_id,
                   d.bbox.x, d.bbox.y, d.bbox.w, d.bbox.h, d.score);
  }
  *out += "]}\n";
}

// One journal line: false when it is not a complete, well-formed record (a torn tail).
bool parse_line(std::string_view line, int64_t* image_id, std::vector<Detection>* out,
                std::string* error) {
  simdjson::padded_string text(line);
  od::parser parser;
  od::document doc;
  if (parser.iterate(text).get(doc)) return false;
  od::object obj;
  if (doc.get_object().get(obj)) return false;
  bool has_image = false, has_dets = false;
  std::vector<Detection> dets;
  std::string why;
  for (auto result : obj) {
    od::field field;
    if (std::move(result).get(field)) return false;
    std::string_view key;
    if (field.unescaped_key().get(key)) return false;
    if (key == "image_id") {
      if (json::read_int(field.value(), image_id, &why)) return false;
      has_image = true;
    } else if (key == "error") {
      std::string_view text;
      if (field.value().get_string().get(text)) return false;
      *error = std::string(text);
    } else if (key == "detections") {
      od::array list;
      if (field.value().get_array().get(list)) return false;
      for (auto item : list) {
        od::array values;
        if (std::move(item).get_array().get(values)) return false;
        double v[6];
        int n = 0;
        for (auto x : values) {
          od::value value;
          if (std::move(x).get(value) || n >= 6) return false;
          if (n == 0) {
            int64_t category = 0;
            if (json::read_int(value, &category, &why)) return false;
            dets.push_back({0, category, {}, 0});
          } else if (json::read_number(value, &v[n], &why)) {
            return false;
          }
          ++n;
        }
        if (n != 6) return false;
        dets.back().bbox = {v[1], v[2], v[3], v[4]};
        dets.back().score = v[5];
      }
      has_dets = true;
    }
  }
  if (!has_image || !has_dets || !json::at_end(doc)) return false;
  for (Detection& d : dets) {
    d.image_id = *image_id;
    if (!validate_detection(d, 0).ok()) return false;
  }
  out->insert(out->end(), dets.begin(), dets.end());
  return true;
}

}  // namespace

std::filesystem::path results_journal_path(const std::filesystem::path& results_path) {
  return std::filesystem::path(results_path.string() + ".progress.jsonl");
}

struct ResultsWriter::State {
  std::filesystem::path results, journal;
  Options options;
  int fd = -1;
  std::vector<Detection> dets;
  std::vector<int64_t> images;
  std::vector<std::pair<int64_t, std::string>> failed;
  std::unordered_set<int64_t> finished;
  std::string pending;
  size_t pending_images = 0;
  size_t resumed = 0, torn = 0;

  ~State() {
    if (fd >= 0) ::close(fd);
  }
};

ResultsWriter::ResultsWriter(std::unique_ptr<State> state) : state_(std::move(state)) {}
ResultsWriter::ResultsWriter(ResultsWriter&&) noexcept = default;
ResultsWriter& ResultsWriter::operator=(ResultsWriter&&) noexcept = default;
ResultsWriter::~ResultsWriter() {
  if (state_ && !state_->pending.empty()) {
    Status s = flush();
    if (!s.ok()) log_warn("{}", s.message());
  }
}

Result<ResultsWriter> ResultsWriter::open(const std::filesystem::path& results_path, bool resume,
                                          Options options) {
  auto s = std::make_unique<State>();
  s->results = results_path;
  s->journal = results_journal_path(results_path);
  s->options = options;
  if (s->options.images_per_flush == 0) s->options.images_per_flush = 1;
  std::filesystem::path dir = results_path.parent_path();
  if (!dir.empty()) QDET_TRY(ensure_directory(dir));

  size_t keep_bytes = 0;
  if (resume && std::filesystem::exists(s->journal)) {
    QDET_ASSIGN_OR_RETURN(std::string text, read_text_file(s->journal));
    size_t pos = 0;
    while (pos < text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string::npos) break;  // no newline: torn
      int64_t image_id = 0;
      std::string error;
      if (!parse_line(std::string_view(text).substr(pos, end - pos), &image_id, &s->dets, &error))
        break;
      if (!s->finished.insert(image_id).second)
        return parse_error("{}: image {} appears twice", s->journal.string(), image_id);
      if (!error.empty()) s->failed.emplace_back(image_id, std::move(error));
      s->images.push_back(image_id);
      pos = end + 1;
    }
    keep_bytes = pos;
    s->resumed = s->images.size();
    // Everything after the last good line is a torn batch: count its lines, then cut it off.
    if (pos < text.size()) {
      size_t lines = 1;
      for (size_t i = pos; i + 1 < text.size(); ++i) lines += text[i] == '\n';
      s->torn = lines;
      log_warn("{}: dropping {} torn line(s) after {} finished images", s->journal.string(), lines,
               s->resumed);
    }
  }
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (resume ? 0 : O_TRUNC);
  s->fd = ::open(s->journal.c_str(), flags, 0644);
  if (s->fd < 0) return io_error("{}: cannot write: {}", s->journal.string(), errno_text());
  if (::ftruncate(s->fd, static_cast<off_t>(keep_bytes)) != 0 ||
      ::lseek(s->fd, static_cast<off_t>(keep_bytes), SEEK_SET) < 0)
    return io_error("{}: cannot truncate: {}", s->journal.string(), errno_text());
  return ResultsWriter(std::move(s));
}

Status ResultsWriter::add_failed_image(int64_t image_id, std::string_view error) {
  State& s = *state_;
  if (s.finished.count(image_id))
    return invalid_argument("results writer: image {} was already added", image_id);
  s.finished.insert(image_id);
  s.images.push_back(image_id);
  s.failed.emplace_back(image_id, error.empty() ? std::string("failed") : std::string(error));
  append_line(image_id, {}, s.failed.back().second, &s.pending);
  if (++s.pending_images >= s.options.images_per_flush) return flush();
  return ok_status();
}

Status ResultsWriter::add_image(int64_t image_id, std::span<const Detection> detections) {
  State& s = *state_;
  if (s.finished.count(image_id))
    return invalid_argument("results writer: image {} was already added", image_id);
  for (size_t i = 0; i < detections.size(); ++i) {
    if (detections[i].image_id != image_id)
      return invalid_argument("results writer: image {}: detection {} has image_id {}", image_id, i,
                              detections[i].image_id);
    Status v = validate_detection(detections[i], i);
    if (!v.ok()) return v.with_context(fmt::format("results writer: image {}", image_id));
  }
  s.finished.insert(image_id);
  s.images.push_back(image_id);
  s.dets.insert(s.dets.end(), detections.begin(), detections.end());
  append_line(image_id, detections, {}, &s.pending);
  if (++s.pending_images >= s.options.images_per_flush) return flush();
  return ok_status();
}

Status ResultsWriter::flush() {
  State& s = *state_;
  if (s.pending.empty()) return ok_status();
  QDET_TRY(write_all(s.fd, s.pending, s.journal));
  if (::fsync(s.fd) != 0) return io_error("{}: fsync failed: {}", s.journal.string(), errno_text());
  s.pending.clear();
  s.pending_images = 0;
  return ok_status();
}

Status ResultsWriter::finish() {
  QDET_TRY(flush());
  return write_results(state_->results, state_->dets);
}

Status ResultsWriter::remove_journal() {
  State& s = *state_;
  if (!s.pending.empty()) return internal_error("{}: images not yet flushed", s.journal.string());
  if (s.fd >= 0) ::close(s.fd);
  s.fd = -1;
  std::error_code ec;
  std::filesystem::remove(s.journal, ec);
  if (ec) return io_error("{}: cannot remove: {}", s.journal.string(), ec.message());
  return ok_status();
}

const std::vector<std::pair<int64_t, std::string>>& ResultsWriter::failed_images() const {
  return state_->failed;
}

bool ResultsWriter::is_finished(int64_t image_id) const { return state_->finished.count(image_id) > 0; }
const std::vector<int64_t>& ResultsWriter::finished_images() const { return state_->images; }
const std::vector<Detection>& ResultsWriter::detections() const { return state_->dets; }
size_t ResultsWriter::resumed_images() const { return state_->resumed; }
size_t ResultsWriter::dropped_torn_lines() const { return state_->torn; }
const std::filesystem::path& ResultsWriter::results_path() const { return state_->results; }
const std::filesystem::path& ResultsWriter::journal_path() const { return state_->journal; }

}  // namespace qdet::coco
