// Same seed, same run: event for event. Different seed, different run.
#include <chrono>
#include <cstdint>
#include <deque>
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

// Runs `scenario` twice with `seed` and expects the same trace both times.
Trace expect_replays_identically(Trace (*scenario)(std::uint64_t), std::uint64_t seed) {
  const Trace first = scenario(seed);
  const Trace second = scenario(seed);
  EXPECT_GT(first.lines.size(), 100u);
  EXPECT_EQ(first.lines, second.lines);
  EXPECT_EQ(first.events, second.events);
  return first;
}

TEST(SimDeterminism, SameSeedGivesTheSameRun) { expect_replays_identically(run_scenario, 42); }

TEST(SimDeterminism, DifferentSeedGivesADifferentRun) {
  const Trace first = run_scenario(42);
  const Trace other = run_scenario(43);
  EXPECT_NE(first.lines, other.lines);
}

// A partition that heals, a lossy spell and a host killed and restarted,
// under traffic: gossip-like UDP both ways, a TCP transfer, reconnects.
Trace run_fault_scenario(uint64_t seed) {
  Trace trace;
  WorldOptions options;
  options.seed = seed;
  World world(options);
  const size_t a = world.add_host("a");
  const size_t b = world.add_host("b");
  const size_t c = world.add_host("c");
  const size_t ab = world.link(a, b, LinkSpec{"10Mbps", milliseconds(3), 0.01});
  const size_t bc = world.link(b, c, LinkSpec{"10Mbps", milliseconds(2), 0.0});
  auto note = [&](size_t h, const std::string& what) {
    trace.lines.push_back(std::to_string(world.now().count()) + " " + std::to_string(h) + " " +
                          what);
  };

  // Per host "engine" state, rebuilt when c restarts.
  std::vector<StreamPtr> streams;
  std::deque<size_t> counters;  // bytes received per accepted stream
  std::function<void(size_t)> start_engine = [&](size_t h) {
    Host& host = world.host(h);
    auto udp = host.udp(6784);
    (*udp)->on_receive([&, h](const Endpoint& from, ByteView payload) {
      note(h, "udp from " + from.to_string() + " " + std::to_string(payload.size()));
    });
    (void)host.listen(6783, [&, h](StreamPtr stream) {
      streams.push_back(stream);
      size_t* received = &counters.emplace_back(0);
      stream->set_handlers({[&, h, received](ByteView bytes) {
                              *received += bytes.size();
                              note(h, "tcp " + std::to_string(*received));
                            },
                            [&, h](const Error& e) { note(h, "closed " + e.message); }});
    });
  };
  for (size_t h : {a, b, c}) start_engine(h);

  // a gossips to b and c at random intervals; c connects to a every 2 s.
  const Ipv4 addresses[] = {world.host(a).address(), world.host(b).address(),
                            world.host(c).address()};
  std::function<void()> gossip = [&] {
    Host& ha = world.host(a);
    for (size_t to : {b, c}) {
      (*ha.udp(6784))->send_to({addresses[to], 6784}, Bytes(100 + ha.random().below(200), 1));
    }
    ha.after(milliseconds(ha.random().between(50, 150)), gossip);
  };
  world.host(a).after(milliseconds(1), gossip);
  uint64_t generation = 0;
  std::function<void(uint64_t)> dial = [&](uint64_t gen) {
    if (gen != generation || !world.host_running(c)) return;
    Host& hc = world.host(c);
    hc.connect({world.host(a).address(), 6783}, [&, gen](Result<StreamPtr> result) {
      if (gen != generation) return;
      if (!result.ok()) return note(c, "connect failed: " + result.error().message);
      note(c, "connected, uid " + std::to_string(world.host(c).random().next() % 1000));
      streams.push_back(*result);
      (*result)->set_handlers({{}, [&](const Error& e) { note(c, "closed " + e.message); }});
      (*result)->write(Bytes(16 * 1024, 2));
    });
    hc.after(seconds(2), [&, gen] { dial(gen); });
  };
  world.host(c).after(milliseconds(5), [&] { dial(generation); });

  world.run_until(seconds(2));
  world.set_link_up(bc, false);  // c cut off
  note(99, "partition");
  world.run_until(seconds(5));
  world.set_link_up(bc, true);
  world.set_link_loss(ab, 0.2);
  note(99, "heal");
  world.run_until(seconds(8));
  world.set_link_loss(ab, 0.0);
  ++generation;  // c's engine dies first, then c
  world.stop_host(c);
  note(99, "c stopped");
  world.run_until(seconds(9));
  world.start_host(c);
  start_engine(c);
  note(99, "c started");
  world.host(c).after(milliseconds(1), [&, gen = generation] { dial(gen); });
  world.run_until(seconds(14));
  for (int i = 0; i < 2; ++i) trace.lines.push_back(std::to_string(world.host(c).random().next()));
  trace.events = world.events_executed();
  return trace;
}

TEST(SimDeterminism, PartitionHealAndRestartReplayIdentically) {
  const Trace first = expect_replays_identically(run_fault_scenario, 11);
  EXPECT_NE(run_fault_scenario(12).lines, first.lines);
}

}  // namespace
}  // namespace loom::sim
