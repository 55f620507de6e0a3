// LinuxHosts placed in network namespaces (LinuxHostOptions::netns), several
// on one loop and one thread, and the BridgedNamespaces fixture that joins
// namespaces on a bridge. The namespace tests need root (else they skip);
// traffic stays inside namespaces the tests create.
#include "tests/support/netns.h"

#include <filesystem>
#include <map>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

#include "real-backend/linux_host.h"
#include "tests/live/live_fixture.h"

namespace loom::live {
namespace {

using namespace std::chrono_literals;
using testing::kPatience;
using testing::make_loop;
using testing::options_for;
using testing_live::BridgedNamespaces;
using testing_live::run_command;
using testing_live::why_no_netns;

#define SKIP_WITHOUT_NETNS()                              \
  do {                                                    \
    if (std::string why = why_no_netns(); !why.empty()) { \
      GTEST_SKIP() << why;                                \
    }                                                     \
  } while (false)

bool netns_exists(const std::string& name) {
  return std::filesystem::exists("/var/run/netns/" + name);
}

// The network namespace the calling thread is in, as its inode number.
ino_t current_netns() {
  struct stat st {};
  EXPECT_EQ(::stat("/proc/thread-self/ns/net", &st), 0);
  return st.st_ino;
}

std::string create_error(LinuxHostOptions options) {
  auto loop = make_loop();
  auto host = LinuxHost::create(*loop, std::move(options));
  return host.ok() ? std::string("(created)") : host.error().message;
}

TEST(LinuxHostNetns, NamespaceThatCannotBeUsedIsAClearError) {
  auto options = options_for("h", Ipv4::from_octets(10, 99, 0, 1));
  options.netns = "loomtest-no-such-namespace";
  EXPECT_EQ(create_error(options),
            "network namespace loomtest-no-such-namespace "
            "(/var/run/netns/loomtest-no-such-namespace): No such file or directory");
  options.netns = "relative/path";
  EXPECT_EQ(create_error(options),
            "network namespace 'relative/path': give a name from `ip netns list` or an "
            "absolute path");
  options.netns = "/proc/self/ns/uts";
  EXPECT_EQ(create_error(options),
            "network namespace /proc/self/ns/uts: a namespace, but not a network one");
  options.netns = "/proc/self/status";
  EXPECT_EQ(create_error(options).rfind("network namespace /proc/self/status: not a namespace", 0),
            0u)
      << create_error(options);
}

TEST(LinuxHostNetns, ThreeHostsInThreeNamespacesOnOneLoopReachEachOther) {
  SKIP_WITHOUT_NETNS();
  BridgedNamespaces net("host", 3);
  ASSERT_TRUE(net.ok()) << net.error();
  const ino_t home = current_netns();

  auto loop = make_loop();
  std::vector<std::unique_ptr<LinuxHost>> hosts;
  for (size_t i = 0; i < 3; ++i) {
    auto options = options_for("h" + std::to_string(i), net.address(i));
    options.netns = net.name(i);
    auto host = LinuxHost::create(*loop, options);
    ASSERT_TRUE(host.ok()) << host.error().message;
    hosts.push_back(std::move(*host));
  }
  // Every host uses the same port: each namespace has its own.
  constexpr uint16_t kPort = 27300;
  std::map<std::pair<size_t, size_t>, std::string> received;  // (to, from) -> payload
  std::vector<DatagramSocket*> sockets;
  for (size_t i = 0; i < 3; ++i) {
    auto socket = hosts[i]->udp(kPort);
    ASSERT_TRUE(socket.ok()) << socket.error().message;
    (*socket)->on_receive([&, i](const Endpoint& from, ByteView payload) {
      for (size_t j = 0; j < 3; ++j) {
        if (from == Endpoint{net.address(j), kPort}) {
          received[{i, j}] = std::string(payload.as_chars());
        }
      }
    });
    sockets.push_back(*socket);
  }
  EXPECT_EQ(current_netns(), home) << "creating sockets left the thread in another namespace";

  for (size_t i = 0; i < 3; ++i) {
    for (size_t j = 0; j < 3; ++j) {
      if (i == j) continue;
      const std::string text = "from " + std::to_string(i);
      EXPECT_TRUE(
          sockets[i]->send_to(Endpoint{net.address(j), kPort}, ByteView(std::string_view(text))));
    }
  }
  ASSERT_TRUE(loop->run_until([&] { return received.size() == 6; }, kPatience))
      << received.size() << " of 6 datagrams arrived";
  for (const auto& [to_from, payload] : received) {
    EXPECT_EQ(payload, "from " + std::to_string(to_from.second));
  }

  // TCP too: h1 connects to h0, its source is its own address.
  std::optional<Endpoint> accepted_from;
  StreamPtr accepted;
  ASSERT_TRUE(hosts[0]->listen(kPort, [&](StreamPtr s) {
    accepted_from = s->remote();
    accepted = std::move(s);
  }));
  std::optional<Result<StreamPtr>> connected;
  hosts[1]->connect(Endpoint{net.address(0), kPort},
                    [&](Result<StreamPtr> r) { connected = std::move(r); });
  ASSERT_TRUE(loop->run_until([&] { return connected && accepted_from; }, kPatience));
  ASSERT_TRUE(connected->ok()) << connected->error().message;
  EXPECT_EQ(accepted_from->addr, net.address(1));
  EXPECT_EQ(current_netns(), home);
}

TEST(LinuxHostNetns, SocketsStayInTheirNamespace) {
  SKIP_WITHOUT_NETNS();
  BridgedNamespaces net("iso", 1);
  ASSERT_TRUE(net.ok()) << net.error();
  auto loop = make_loop();
  const Ipv4 loopback = Ipv4::from_octets(127, 0, 0, 1);

  // A listener on 127.0.0.1 in the test's own namespace...
  auto outside = LinuxHost::create(*loop, options_for("outside", loopback));
  ASSERT_TRUE(outside.ok()) << outside.error().message;
  auto port = (*outside)->listen_on(0, [](const StreamPtr&) {});
  ASSERT_TRUE(port.ok()) << port.error().message;

  // ...is not there for a host on 127.0.0.1 inside the namespace.
  auto options = options_for("inside", loopback);
  options.netns = net.name(0);
  auto inside = LinuxHost::create(*loop, options);
  ASSERT_TRUE(inside.ok()) << inside.error().message;
  std::optional<Result<StreamPtr>> connected;
  (*inside)->connect(Endpoint{loopback, *port},
                     [&](Result<StreamPtr> r) { connected = std::move(r); });
  ASSERT_TRUE(loop->run_until([&] { return connected.has_value(); }, kPatience));
  ASSERT_FALSE(connected->ok());
  EXPECT_EQ(connected->error().message,
            "connect to 127.0.0.1:" + std::to_string(*port) + ": Connection refused");
}

// Namespaces this test makes by hand, removed however it ends.
class HandMadeNamespaces {
 public:
  HandMadeNamespaces() = default;
  HandMadeNamespaces(const HandMadeNamespaces&) = delete;
  HandMadeNamespaces& operator=(const HandMadeNamespaces&) = delete;
  ~HandMadeNamespaces() {
    for (const auto& name : names_) run_command("ip netns del " + name + " 2>/dev/null");
  }
  bool add(const std::string& name) {
    names_.push_back(name);
    return run_command("ip netns add " + name) == 0;
  }

 private:
  std::vector<std::string> names_;
};

TEST(BridgedNamespaces, RemovesLeftoversOfCrashedRunsOnlyAndItselfWhenDone) {
  SKIP_WITHOUT_NETNS();
  // Above pid_max (at most 2^22), so no process has this pid; unique to this
  // run, so concurrent runs do not trip over each other.
  const std::string crashed = "loomtest-lan-" + std::to_string(10'000'000 + getpid()) + "-0";
  // Our parent is alive: a run in progress, to be left alone.
  const std::string running = "loomtest-lan-" + std::to_string(getppid()) + "-0";
  HandMadeNamespaces by_hand;
  ASSERT_TRUE(by_hand.add(crashed));
  ASSERT_TRUE(by_hand.add(running));
  std::vector<std::string> ours;
  {
    BridgedNamespaces net("lan", 2);
    ASSERT_TRUE(net.ok()) << net.error();
    EXPECT_FALSE(netns_exists(crashed));
    EXPECT_TRUE(netns_exists(running));
    ours = {net.name(0), net.name(1), net.bridge_name()};
    for (const auto& name : ours) EXPECT_TRUE(netns_exists(name)) << name;
  }
  for (const auto& name : ours) EXPECT_FALSE(netns_exists(name)) << name;
  EXPECT_TRUE(netns_exists(running));
}

TEST(BridgedNamespaces, BadSizeIsAnError) {
  BridgedNamespaces none("size", 0);
  EXPECT_EQ(none.error(), "BridgedNamespaces: 0 namespaces, want 1 to 250");
}

}  // namespace
}  // namespace loom::live
