#include <gtest/gtest.h>

#include "tests/model/sansio_scan.h"

namespace loom::testing {
namespace {

TEST(SansIO, ModelReachesOutsideOnlyThroughHost) {
  auto violations = scan_tree(std::filesystem::path(LOOM_SOURCE_DIR) / "model");
  for (const auto& v : violations) ADD_FAILURE() << v.file << ":" << v.line << ": " << v.what;
  EXPECT_TRUE(violations.empty());
}

// The scanner itself must catch each forbidden thing, or the test above
// proves nothing.
struct Case {
  const char* source;
  bool forbidden;
};

class SansIOScanner : public ::testing::TestWithParam<Case> {};

TEST_P(SansIOScanner, Judges) {
  auto found = scan_source("case.cc", GetParam().source);
  EXPECT_EQ(!found.empty(), GetParam().forbidden) << GetParam().source;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SansIOScanner,
    ::testing::Values(
        Case{"#include <ns3/core-module.h>\n", true}, Case{"#include \"ns3/node.h\"\n", true},
        Case{"#  include <sys/socket.h>\n", true}, Case{"#include <netinet/in.h>\n", true},
        Case{"#include <arpa/inet.h>\n", true}, Case{"#include <linux/if_tun.h>\n", true},
        Case{"#include <sys/epoll.h>\n", true}, Case{"#include <thread>\n", true},
        Case{"#include <unistd.h>\n", true},
        Case{"auto t = std::chrono::steady_clock::now();\n", true},
        Case{"auto t = std::chrono::system_clock::now();\n", true},
        Case{"std::random_device rd;\n", true}, Case{"int x = rand();\n", true},
        Case{"srand(4);\n", true}, Case{"auto t = time(nullptr);\n", true},
        Case{"auto t = std::time(0);\n", true}, Case{"const char* p = getenv(\"X\");\n", true},
        Case{"std::thread t([]{});\n", true}, Case{"std::this_thread::sleep_for(x);\n", true},
        // Allowed: the words in comments and strings, look-alike names.
        Case{"// never use steady_clock or std::random_device here\n", false},
        Case{"/* #include <thread> */\n", false}, Case{"log(\"steady_clock is banned\");\n", false},
        Case{"auto t = host.now(); auto r = host.random().next();\n", false},
        Case{"int x = operand(); int y = peer.time(); auto z = converged_time();\n", false},
        Case{"#include <chrono>\n#include \"model/host.h\"\n", false}));

}  // namespace
}  // namespace loom::testing
