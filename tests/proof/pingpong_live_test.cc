// The proof engine on two LinuxHosts: on loopback (127.0.0.1 and 127.0.0.2,
// one event loop), and, as root, in two network namespaces joined by a veth
// pair the test creates and removes.
#include <cstdlib>
#include <future>
#include <thread>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include "real-backend/event_loop.h"
#include "real-backend/linux_host.h"
#include "tests/proof/expectations.h"
#include "tests/support/netns.h"

namespace loom::proof {
namespace {

using namespace std::chrono_literals;

PingPongConfig live_config() {
  PingPongConfig config;
  // Real kernels answer in microseconds; a second leaves a loaded CI machine
  // ample room before a retry would fire spuriously.
  config.retry_after = 1s;
  return config;
}

std::unique_ptr<live::LinuxHost> make_host(live::EventLoop& loop, const char* name, Ipv4 address) {
  live::LinuxHostOptions options;
  options.name = name;
  options.address = address;
  auto host = live::LinuxHost::create(loop, options);
  if (!host) ADD_FAILURE() << host.error().message;
  return host ? std::move(*host) : nullptr;
}

TEST(ProofOnLinux, PingPongRetryAndEchoOnLoopback) {
  PingPongConfig config = live_config();
  auto loop = live::EventLoop::create();
  ASSERT_TRUE(loop) << loop.error().message;
  auto a = make_host(**loop, "pinger", Ipv4::from_octets(127, 0, 0, 1));
  auto b = make_host(**loop, "responder", Ipv4::from_octets(127, 0, 0, 2));
  ASSERT_TRUE(a && b);

  Responder responder(*b, config);
  ASSERT_TRUE(responder.start());
  Pinger pinger(*a, b->address(), config);
  ASSERT_TRUE(pinger.start());
  bool finished = (*loop)->run_until(
      [&] { return pinger.done() && responder.report().stream_closed_by_peer; }, 30s);
  ASSERT_TRUE(finished) << "pingpong did not finish within 30 s";
  expect_pingpong_behaviour(config, pinger.report(), responder.report());
}

// Runs one side in its own thread inside a network namespace: setns() moves
// only the calling thread, so each side gets its own loop and sockets there.
template <typename Side>
auto run_in_netns(const std::string& netns, Side side) {
  return std::async(std::launch::async, [netns, side]() mutable {
    int fd = open(("/var/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
      if (fd >= 0) close(fd);
      return decltype(side())(make_error("cannot enter netns " + netns));
    }
    close(fd);
    return side();
  });
}

TEST(ProofOnLinux, PingPongRetryAndEchoAcrossNamespaces) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to create network namespaces";
  testing_live::VethPair net("pp");  // two namespaces, veth, 10.x.y.1/30 and .2
  ASSERT_TRUE(net.ok()) << net.error();

  PingPongConfig config = live_config();
  std::promise<void> responder_ready;
  auto ready = responder_ready.get_future();

  auto responder_side = run_in_netns(net.ns_b(), [&]() -> Result<ResponderReport> {
    auto loop = live::EventLoop::create();
    if (!loop) return loop.error();
    live::LinuxHostOptions options;
    options.name = "responder";
    options.address = net.addr_b();
    auto host = live::LinuxHost::create(**loop, options);
    if (!host) return host.error();
    Responder responder(**host, config);
    if (auto started = responder.start(); !started) return started.error();
    responder_ready.set_value();
    (*loop)->run_until([&] { return responder.report().stream_closed_by_peer; }, 30s);
    return responder.report();
  });
  ASSERT_EQ(ready.wait_for(30s), std::future_status::ready);

  auto pinger_side = run_in_netns(net.ns_a(), [&]() -> Result<PingPongReport> {
    auto loop = live::EventLoop::create();
    if (!loop) return loop.error();
    live::LinuxHostOptions options;
    options.name = "pinger";
    options.address = net.addr_a();
    auto host = live::LinuxHost::create(**loop, options);
    if (!host) return host.error();
    Pinger pinger(**host, net.addr_b(), config);
    if (auto started = pinger.start(); !started) return started.error();
    (*loop)->run_until([&] { return pinger.done(); }, 30s);
    // Keep the loop turning briefly so the close reaches the wire.
    (*loop)->run_for(50ms);
    return pinger.report();
  });

  auto pinger_report = pinger_side.get();
  auto responder_report = responder_side.get();
  ASSERT_TRUE(pinger_report) << pinger_report.error().message;
  ASSERT_TRUE(responder_report) << responder_report.error().message;
  expect_pingpong_behaviour(config, *pinger_report, *responder_report);
}

}  // namespace
}  // namespace loom::proof
