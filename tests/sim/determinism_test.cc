// Same seed, same run: event for event. Different seed, different run.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sim/world.h"

namespace loom::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct Trace {
  std::vector<std::string> lines;
  uint64_t events = 0;
};

// Three hosts in a chain over lossy links: random timers (Host::random),
// UDP datagrams (some lost by ns-3's error model) and a TCP transfer that
// must retransmit. Everything observable goes into the trace.
Trace run_scenario(uint64_t seed) {
  Trace trace;
  WorldOptions options;
  options.seed = seed;
  World world(options);
  const size_t a = world.add_host("a");
  const size_t b = world.add_host("b");
  const size_t c = world.add_host("c");
  world.link(a, b, LinkSpec{"10Mbps", milliseconds(3), 0.02});
  world.link(b, c, LinkSpec{"10Mbps", milliseconds(2), 0.02});
  Host& ha = world.host(a);
  Host& hc = world.host(c);
  auto note = [&](Host& h, const std::string& what) {
    trace.lines.push_back(std::to_string(h.now().count()) + " " + std::string(h.name()) + " " +
                          what);
  };

  auto sa = ha.udp(6784);
  auto sc = hc.udp(6784);
  (*sc)->on_receive(
      [&](const Endpoint&, ByteView payload) { note(hc, "udp " + std::to_string(payload[0])); });
  std::function<void(int)> send = [&](int n) {
    (*sa)->send_to({hc.address(), 6784}, Bytes(200, static_cast<uint8_t>(n)));
    if (n < 100) ha.after(milliseconds(ha.random().between(1, 20)), [&, n] { send(n + 1); });
  };
  ha.after(milliseconds(1), [&] { send(0); });

  size_t received = 0;
  StreamPtr server;
  (void)hc.listen(6783, [&](StreamPtr stream) {
    server = stream;
    stream->set_handlers({[&](ByteView bytes) {
                            received += bytes.size();
                            note(hc, "tcp " + std::to_string(received));
                          },
                          {}});
  });
  StreamPtr client;
  ha.connect({hc.address(), 6783}, [&](Result<StreamPtr> result) {
    if (!result.ok()) return note(ha, "connect failed");
    client = *result;
    client->write(Bytes(200 * 1024, 7));
  });
  world.run_until(seconds(20));
  for (int i = 0; i < 4; ++i) trace.lines.push_back(std::to_string(hc.random().next()));
  trace.events = world.events_executed();
  return trace;
}

TEST(SimDeterminism, SameSeedGivesTheSameRun) {
  const Trace first = run_scenario(42);
  const Trace second = run_scenario(42);
  EXPECT_GT(first.lines.size(), 100u);
  EXPECT_EQ(first.lines, second.lines);
  EXPECT_EQ(first.events, second.events);
}

TEST(SimDeterminism, DifferentSeedGivesADifferentRun) {
  const Trace first = run_scenario(42);
  const Trace other = run_scenario(43);
  EXPECT_NE(first.lines, other.lines);
}

}  // namespace
}  // namespace loom::sim
