// Writes a COCO results file image by image, so that a long evaluation run (`qdet eval`) can be
// interrupted and resumed.
//
// While running, every finished image is one line of a journal beside the results file,
// `<results>.progress.jsonl`:
//   {"image_id":139,"detections":[[category_id,x,y,w,h,score],...]}
// or, for an image that could not be processed (e.g. a corrupt file: counted, not fatal),
//   {"image_id":139,"error":"why","detections":[]}
// Lines are appended in batches, each batch with one write and an fsync; an image with no
// detections still gets its line, so the journal says exactly which images are done. A batch
// cut short by a crash leaves at most a torn tail, which resuming drops (those images are
// simply run again). finish() writes the results list atomically (temporary file + rename).
//
//   QDET_ASSIGN_OR_RETURN(auto w, ResultsWriter::open("dt.json", /*resume=*/true));
//   for (image : images) {
//     if (w.is_finished(image.id)) continue;
//     QDET_TRY(w.add_image(image.id, detect(image)));
//   }
//   QDET_TRY(w.finish());
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <unordered_set>
#include <vector>

#include "base/status.h"
#include "coco/results.h"

namespace qdet::coco {

class ResultsWriter {
 public:
  struct Options {
    size_t images_per_flush = 64;  // a batch is written after this many images (and by flush())
  };

  // resume = false starts afresh (an old journal is replaced); resume = true reads the journal
  // back when there is one and keeps its images and detections.
  static Result<ResultsWriter> open(const std::filesystem::path& results_path, bool resume,
                                    Options options);
  static Result<ResultsWriter> open(const std::filesystem::path& results_path, bool resume) {
    return open(results_path, resume, Options{});
  }
  ResultsWriter(ResultsWriter&&) noexcept;
  ResultsWriter& operator=(ResultsWriter&&) noexcept;
  ~ResultsWriter();  // flushes what is pending (errors are lost: call flush() to see them)

  // Records one image's detections (every one must carry image_id). Error: the image was already
  // added, or a detection is invalid (validate_detection); nothing is recorded then.
  Status add_image(int64_t image_id, std::span<const Detection> detections);
  // Records an image that failed (no detections) with the reason, kept across resume.
  Status add_failed_image(int64_t image_id, std::string_view error);
  // Appends the pending images to the journal and syncs it.
  Status flush();
  // flush(), then writes the results file atomically with every detection, in the order added.
  Status finish();
  // Deletes the journal (after finish(), once the results file is the record).
  Status remove_journal();

  bool is_finished(int64_t image_id) const;
  // Images recorded (resumed ones first), in the order added.
  const std::vector<int64_t>& finished_images() const;
  const std::vector<Detection>& detections() const;
  // Failed images (add_failed_image, resumed ones included): image id and reason, in order.
  const std::vector<std::pair<int64_t, std::string>>& failed_images() const;
  // Images read back from the journal when resuming; torn lines dropped at its end.
  size_t resumed_images() const;
  size_t dropped_torn_lines() const;

  const std::filesystem::path& results_path() const;
  const std::filesystem::path& journal_path() const;

 private:
  struct State;
  explicit ResultsWriter(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// The journal path used for `results_path`: "<results_path>.progress.jsonl".
std::filesystem::path results_journal_path(const std::filesystem::path& results_path);

}  // namespace qdet::coco
