// The README's first command is what a new user runs on a small machine: it must bound the
// build's parallelism (a bare `-j` started 91 compilers on 2 cores and ran out of memory) and,
// since it asks for --peers, install the peers it times.
#include <gmock/gmock.h>

#include <regex>

#include "base/file.h"

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

}  // namespace
}  // namespace qdet
