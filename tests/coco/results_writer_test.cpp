#include "coco/results_writer.h"

#include <gtest/gtest.h>

#include <fstream>

#include "base/file.h"
#include "test_support.h"

namespace qdet::coco {
namespace {

std::vector<Detection> dets_of(int64_t image, int n) {
  std::vector<Detection> out;
  for (int i = 0; i < n; ++i)
    out.push_back({image, 1 + i % 3, {i * 0.1, 1.0 / 3, 10.0 + i, 20.5}, 0.9 - i * 0.123456789});
  return out;
}

void expect_same(const std::vector<Detection>& a, const std::vector<Detection>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].image_id, b[i].image_id) << i;
    EXPECT_EQ(a[i].category_id, b[i].category_id) << i;
    EXPECT_EQ(a[i].bbox.x, b[i].bbox.x) << i;
    EXPECT_EQ(a[i].bbox.y, b[i].bbox.y) << i;
    EXPECT_EQ(a[i].bbox.w, b[i].bbox.w) << i;
    EXPECT_EQ(a[i].bbox.h, b[i].bbox.h) << i;
    EXPECT_EQ(a[i].score, b[i].score) << i;
  }
}

size_t count_lines(const std::filesystem::path& p) {
  auto text = read_text_file(p);
  return text.ok() ? static_cast<size_t>(std::count(text->begin(), text->end(), '\n')) : 0;
}

TEST(ResultsWriter, WritesImageByImageAndFinishes) {
  auto path = testing::scratch_dir() / "out" / "dt.json";
  auto w = ResultsWriter::open(path, /*resume=*/false, {.images_per_flush = 2});
  ASSERT_TRUE(w.ok()) << w.status().message();
  std::vector<Detection> all;
  for (int64_t image : {139, 285, 632}) {
    auto d = dets_of(image, image == 285 ? 0 : 4);
    ASSERT_TRUE(w->add_image(image, d).ok());
    all.insert(all.end(), d.begin(), d.end());
  }
  EXPECT_EQ(count_lines(w->journal_path()), 2u);  // the third image waits for its batch
  EXPECT_FALSE(std::filesystem::exists(path));
  ASSERT_TRUE(w->finish().ok());
  EXPECT_EQ(count_lines(w->journal_path()), 3u);
  EXPECT_EQ(w->finished_images(), (std::vector<int64_t>{139, 285, 632}));
  EXPECT_TRUE(w->is_finished(285));
  EXPECT_FALSE(w->is_finished(1));
  auto back = load_results(path);
  ASSERT_TRUE(back.ok()) << back.status().message();
  expect_same(*back, all);
}

TEST(ResultsWriter, ResumeContinuesWhereItStopped) {
  auto path = testing::scratch_dir() / "dt.json";
  std::vector<Detection> all;
  {
    auto w = ResultsWriter::open(path, false, {.images_per_flush = 1});
    ASSERT_TRUE(w.ok());
    for (int64_t image : {5, 6}) {
      auto d = dets_of(image, image == 6 ? 0 : 3);
      ASSERT_TRUE(w->add_image(image, d).ok());
      all.insert(all.end(), d.begin(), d.end());
    }
    // no finish(): the run is interrupted here
  }
  auto w = ResultsWriter::open(path, /*resume=*/true);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->resumed_images(), 2u);
  EXPECT_EQ(w->dropped_torn_lines(), 0u);
  EXPECT_TRUE(w->is_finished(5));
  EXPECT_TRUE(w->is_finished(6));  // finished with no detections
  expect_same(w->detections(), all);
  auto d7 = dets_of(7, 2);
  ASSERT_TRUE(w->add_image(7, d7).ok());
  all.insert(all.end(), d7.begin(), d7.end());
  ASSERT_TRUE(w->finish().ok());
  auto back = load_results(path);
  ASSERT_TRUE(back.ok());
  expect_same(*back, all);
  // Starting afresh forgets the journal.
  auto fresh = ResultsWriter::open(path, /*resume=*/false);
  ASSERT_TRUE(fresh.ok());
  EXPECT_TRUE(fresh->finished_images().empty());
  EXPECT_EQ(count_lines(fresh->journal_path()), 0u);
}

// A failed image (a corrupt file) is journaled with its reason, which a resume gives back;
// remove_journal() deletes the journal once the results file is written.
TEST(ResultsWriter, FailedImagesSurviveResume) {
  auto path = testing::scratch_dir() / "dt.json";
  {
    auto w = ResultsWriter::open(path, false, {.images_per_flush = 1});
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->add_image(5, dets_of(5, 2)).ok());
    ASSERT_TRUE(w->add_failed_image(6, "6.jpg: not a JPEG\n(\"bad\" header)").ok());
    EXPECT_FALSE(w->add_failed_image(5, "again").ok());
  }
  auto w = ResultsWriter::open(path, /*resume=*/true);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->resumed_images(), 2u);
  EXPECT_TRUE(w->is_finished(6));
  ASSERT_EQ(w->failed_images().size(), 1u);
  EXPECT_EQ(w->failed_images()[0].first, 6);
  EXPECT_EQ(w->failed_images()[0].second, "6.jpg: not a JPEG\n(\"bad\" header)");
  EXPECT_EQ(w->detections().size(), 2u);
  ASSERT_TRUE(w->finish().ok());
  ASSERT_TRUE(w->remove_journal().ok());
  EXPECT_FALSE(std::filesystem::exists(w->journal_path()));
  EXPECT_TRUE(std::filesystem::exists(path));
}

// A crash in the middle of a batch leaves a torn line (or zeros, on some file systems): resuming
// keeps the complete lines, drops the rest and appends after them.
TEST(ResultsWriter, ResumeDropsATornTail) {
  for (std::string tail : {std::string("{\"image_id\":9,\"detections\":[[1,0,0"),
                           std::string(40, '\0'), std::string("{\"image_id\":9}\n{\"ima")}) {
    auto path = testing::scratch_dir() / "dt.json";
    {
      auto w = ResultsWriter::open(path, false, {.images_per_flush = 1});
      ASSERT_TRUE(w.ok());
      ASSERT_TRUE(w->add_image(1, dets_of(1, 2)).ok());
      ASSERT_TRUE(w->add_image(2, dets_of(2, 1)).ok());
    }
    {
      std::ofstream out(results_journal_path(path), std::ios::app | std::ios::binary);
      out << tail;
    }
    auto w = ResultsWriter::open(path, true);
    ASSERT_TRUE(w.ok()) << w.status().message();
    EXPECT_EQ(w->finished_images(), (std::vector<int64_t>{1, 2}));
    EXPECT_GE(w->dropped_torn_lines(), 1u);
    EXPECT_EQ(w->detections().size(), 3u);
    ASSERT_TRUE(w->add_image(9, dets_of(9, 1)).ok());
    ASSERT_TRUE(w->flush().ok());
    auto again = ResultsWriter::open(path, true);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->finished_images(), (std::vector<int64_t>{1, 2, 9}));
    EXPECT_EQ(again->dropped_torn_lines(), 0u);
  }
}

TEST(ResultsWriter, RefusesDuplicatesAndBadDetections) {
  auto path = testing::scratch_dir() / "dt.json";
  auto w = ResultsWriter::open(path, false);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->add_image(1, dets_of(1, 1)).ok());
  EXPECT_EQ(w->add_image(1, {}).message(), "results writer: image 1 was already added");
  EXPECT_EQ(w->add_image(2, dets_of(3, 1)).message(),
            "results writer: image 2: detection 0 has image_id 3");
  std::vector<Detection> bad = {{4, 1, {0, 0, -5, 1}, 0.5}};
  EXPECT_EQ(w->add_image(4, bad).message(),
            "results writer: image 4: detection 0: bbox [0, 0, -5, 1] has a negative size");
  EXPECT_FALSE(w->is_finished(2));
  EXPECT_FALSE(w->is_finished(4));
  EXPECT_EQ(w->detections().size(), 1u);
}

TEST(ResultsWriter, UnwritableFolder) {
  auto dir = testing::scratch_dir();
  ASSERT_TRUE(write_file_atomic(dir / "file", std::string_view("x")).ok());
  auto w = ResultsWriter::open(dir / "file" / "dt.json", false);
  ASSERT_FALSE(w.ok());
}

}  // namespace
}  // namespace qdet::coco
