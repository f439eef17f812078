#include "tflite/metadata.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "base/file.h"
#include "model_files.h"
#include "test_support.h"
#include "tflite/reader.h"
#include "tflite/writer.h"

namespace qdet::tflite {
namespace {

// A one-entry zip archive (offsets counted from the archive's start), stored or deflated.
std::vector<uint8_t> make_zip(const std::string& name, const std::string& text, bool compress) {
  std::vector<uint8_t> data(text.begin(), text.end());
  if (compress) {
    z_stream z{};
    EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    std::vector<uint8_t> out(deflateBound(&z, text.size()));
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    z.avail_in = static_cast<uInt>(text.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(::deflate(&z, Z_FINISH), Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    data = out;
  }
  const uint32_t crc = crc32(0, reinterpret_cast<const Bytef*>(text.data()),
                             static_cast<uInt>(text.size()));
  std::vector<uint8_t> zip;
  auto put16 = [&](uint32_t v) { zip.push_back(v & 0xff); zip.push_back((v >> 8) & 0xff); };
  auto put32 = [&](uint32_t v) { put16(v & 0xffff); put16(v >> 16); };
  auto header_tail = [&] {
    put16(compress ? 8 : 0); put16(0); put16(0);  // method, time, date
    put32(crc); put32(static_cast<uint32_t>(data.size()));
    put32(static_cast<uint32_t>(text.size())); put16(static_cast<uint32_t>(name.size()));
    put16(0);  // extra
  };
  put32(0x04034b50); put16(20); put16(0);
  header_tail();
  zip.insert(zip.end(), name.begin(), name.end());
  zip.insert(zip.end(), data.begin(), data.end());
  const auto cd = static_cast<uint32_t>(zip.size());
  put32(0x02014b50); put16(20); put16(20); put16(0);
  header_tail();
  put16(0); put16(0); put16(0); put32(0); put32(0);  // comment, disk, attrs, local offset 0
  zip.insert(zip.end(), name.begin(), name.end());
  const auto cd_size = static_cast<uint32_t>(zip.size()) - cd;
  put32(0x06054b50); put16(0); put16(0); put16(1); put16(1);
  put32(cd_size); put32(cd); put16(0);
  return zip;
}

TEST(LabelMap, SsdModelCarriesItsLabelMap) {
  testing::ModelFile file{"ssd_mobilenet_v1_1_metadata_1"};
  QDET_REQUIRE_PATH(file.path());
  auto m = load_tflite(file.path());
  ASSERT_TRUE(m.ok()) << m.status().message();
  auto names = associated_file_names(*m);
  ASSERT_TRUE(names.ok()) << names.status().message();
  EXPECT_EQ(*names, std::vector<std::string>{"labelmap.txt"});
  auto labels = read_label_map(*m);
  ASSERT_TRUE(labels.ok()) << labels.status().message();
  ASSERT_GE(labels->size(), 2u);
  EXPECT_EQ((*labels)[0], "???");
  EXPECT_EQ((*labels)[1], "person");
  // The same map as the shared copy of the SSD's label map, line for line.
  auto shared = read_file(data_dir() / "models" / "labels" / "ssd_labelmap91.txt");
  if (shared.ok()) {
    std::string text(shared->begin(), shared->end());
    EXPECT_EQ(labels->size(), static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) +
                                  (text.empty() || text.back() == '\n' ? 0 : 1));
  }
  // The archive's offsets count from the start of the original file; after qdet rewrites the
  // model (a different flatbuffer length), the label map is still found.
  auto bytes = write_tflite(*m);
  ASSERT_TRUE(bytes.ok());
  auto again = read_tflite(*bytes, "rewritten.tflite");
  ASSERT_TRUE(again.ok());
  auto labels2 = read_label_map(*again);
  ASSERT_TRUE(labels2.ok()) << labels2.status().message();
  EXPECT_EQ(*labels2, *labels);
}

TEST(LabelMap, StoredAndDeflatedArchives) {
  for (bool compress : {false, true}) {
    graph::Model m;
    m.trailing = make_zip("labels.txt", "background\r\nperson\nbicycle\n", compress);
    auto labels = read_label_map(m);
    ASSERT_TRUE(labels.ok()) << labels.status().message();
    EXPECT_EQ(*labels, (std::vector<std::string>{"background", "person", "bicycle"}));
  }
}

TEST(LabelMap, Errors) {
  graph::Model m;
  EXPECT_EQ(read_label_map(m).status().message(),
            "the model carries no associated files (no zip after the flatbuffer)");
  m.trailing = make_zip("vocab.json", "{}", false);
  EXPECT_EQ(read_label_map(m).status().message(),
            "no label file among the model's associated files (vocab.json)");
  m.trailing = make_zip("labels.txt", "a\nb\n", false);
  m.trailing[30 + 10] ^= 1;  // corrupt the stored data
  EXPECT_EQ(read_label_map(m).status().message(), "zip: entry 'labels.txt' fails its CRC-32 check");
  m.trailing = {1, 2, 3, 4, 5};
  EXPECT_EQ(read_label_map(m).status().message(), "zip: no end-of-central-directory record");
}

}  // namespace
}  // namespace qdet::tflite
