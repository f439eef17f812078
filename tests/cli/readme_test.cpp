// The README's first command is what a new user runs on a small machine: it must bound the
// build's parallelism (a bare `-j` started 91 compilers on 2 cores and ran out of memory) and,
// since it asks for --peers, install the peers it times.
#include <gmock/gmock.h>

#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "base/file.h"
#include "test_support.h"

namespace qdet {
namespace {

TEST(Readme, FirstCommandBoundsTheBuildAndInstallsThePeersItUses) {
  auto readme = read_text_file(std::string(QDET_SOURCE_DIR) + "/README.md");
  ASSERT_TRUE(readme.ok()) << readme.status().message();
  const size_t begin = readme->find("```sh\n");
  ASSERT_NE(begin, std::string::npos);
  const size_t end = readme->find("```", begin + 6);
  const std::string first = readme->substr(begin, end - begin);
  // Every `-j` in any command of the README has a number or $(nproc) after it.
  EXPECT_FALSE(std::regex_search(*readme, std::regex(R"(--build\s+\S+\s+-j(\s|$|&|\\))")))
      << "a bare `cmake --build ... -j` in README.md";
  EXPECT_THAT(first, ::testing::HasSubstr("cmake --build build -j\"$(nproc)\""));
  const size_t peers_flag = first.find("--peers");
  ASSERT_NE(peers_flag, std::string::npos);
  const size_t setup = first.find("../shared/peers/setup.sh");
  EXPECT_LT(setup, peers_flag) << "--peers without installing the peers first";
}

// Each line of a `qdet ops` table with the kernel families dropped: the op, then per dtype
// "-" or the TFLite version. Which families accept a cell depends on the CPU (oneDNN takes only
// VNNI/AMX machines), which ops and dtypes run and the versions do not.
std::vector<std::string> coverage_cells(const std::string& table) {
  std::vector<std::string> out;
  std::istringstream lines(table);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string cells, word;
    while (words >> word)
      if (cells.empty() || word == "-" || word[0] == 'v' || word == "float32" || word == "int8" ||
          word == "uint8" || word == "int16")
        cells += (cells.empty() ? "" : " ") + word;
    if (!cells.empty()) out.push_back(cells);
  }
  return out;
}

// The README's op coverage table is what `qdet ops` prints (the table comes from the kernels and
// the conformance rows; the README must not drift from them).
TEST(Readme, OpCoverageTableIsWhatQdetOpsPrints) {
  auto readme = read_text_file(std::string(QDET_SOURCE_DIR) + "/README.md");
  ASSERT_TRUE(readme.ok()) << readme.status().message();
  const std::string marker = "$ qdet ops\n";
  const size_t begin = readme->find(marker);
  ASSERT_NE(begin, std::string::npos) << "README.md has no `$ qdet ops` block";
  const size_t end = readme->find("```", begin);
  const std::string documented = readme->substr(begin + marker.size(), end - begin - marker.size());
  std::string printed;
  ASSERT_EQ(testing::run_command(std::string(QDET_BINARY) + " ops", &printed), 0) << printed;
  printed = printed.substr(0, printed.find("\n\n") + 1);  // the table, without the legend
  EXPECT_EQ(coverage_cells(documented), coverage_cells(printed))
      << "update README.md's coverage table with `qdet ops`";
}

}  // namespace
}  // namespace qdet
